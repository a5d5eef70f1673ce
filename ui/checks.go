package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/vipkit/vip/node/control"
)

// This file judges a pair for the gate: the pre-checks that decide whether
// an action may run, and the post-checks (expectations) that decide
// whether it did what it should. Both read only what the console shows.

// node returns the pair's node called name, or nil.
func (p *pairView) node(name string) *nodeState {
	for _, n := range p.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// vipInstance is n's instance that carries the pair's VIP (the first one
// when the pair has no VIP), from the last status, live or not.
func (p *pairView) vipInstance(n *nodeState) *control.Instance {
	if n == nil || n.status == nil {
		return nil
	}
	for i := range n.status.Instances {
		in := &n.status.Instances[i]
		if p.vip == "" || vipMatches(in.VIPs, p.vip) {
			return in
		}
	}
	return nil
}

// holds reports whether n is live, MASTER and holds the VIP, confirmed by
// a status taken after its last transition.
func (p *pairView) holds(n *nodeState) bool {
	in := p.vipInstance(n)
	return n != nil && n.live() && in != nil && in.State == control.StateMaster && in.VIPPresent && !n.vipUnknown[in.Name]
}

// masterProblem says why n is not a MASTER holding the VIP; "" if it is.
func (p *pairView) masterProblem(n *nodeState) string {
	if why := vipdProblem(n); why != "" {
		return why
	}
	in := p.vipInstance(n)
	switch {
	case in == nil:
		return n.name + " has no instance for the VIP"
	case in.State != control.StateMaster:
		return fmt.Sprintf("%s is %s, not MASTER", n.name, in.State)
	case n.vipUnknown[in.Name]:
		return n.name + " is MASTER but no status has confirmed the VIP since its transition"
	case !in.VIPPresent:
		return n.name + " is MASTER without the VIP on its interface"
	}
	return ""
}

// backupProblem says why n is not a healthy BACKUP, ready to take the VIP
// over; "" if it is.
func (p *pairView) backupProblem(n *nodeState) string {
	if why := vipdProblem(n); why != "" {
		return why
	}
	in := p.vipInstance(n)
	switch {
	case in == nil:
		return n.name + " has no instance for the VIP"
	case in.State != control.StateBackup:
		why := fmt.Sprintf("%s is %s, not BACKUP", n.name, in.State)
		if in.FaultReason != "" {
			why += " (" + in.FaultReason + ")"
		}
		return why
	case n.vipUnknown[in.Name]:
		return n.name + " changed role and no status has confirmed where the VIP is"
	case in.VIPPresent:
		return n.name + " is BACKUP but still holds the VIP"
	case in.EffectivePriority == 0:
		return n.name + " advertises priority 0: it would not take the VIP"
	}
	return nginxProblem(n)
}

// vipdProblem says why the console has no current word from n's vipd; ""
// if it has.
func vipdProblem(n *nodeState) string {
	switch {
	case n.closed:
		return n.name + ": its feed ended"
	case !n.connected():
		return linkProblem(n)
	case n.err != nil:
		d := diagnose(n.err)
		what := d.title
		if what == "" {
			what = "no data from vipd"
		}
		return fmt.Sprintf("%s: %s: %s", n.name, what, shortErr(n.err))
	case n.status == nil:
		return n.name + ": no status from vipd yet"
	case n.superseded != "":
		return fmt.Sprintf("%s: unknown: %s took the VIP at %s, after %s's last status at %s", n.name, n.superseded,
			n.supersededAt.Format("15:04:05.000"), n.name, n.fresh.statusTaken.Format("15:04:05.000"))
	case n.fresh.silent && n.fresh.late > 0:
		return fmt.Sprintf("%s: unknown: its reports arrive %s late, nothing current since %s", n.name, fmtDur(n.fresh.late),
			n.fresh.heard.Format("15:04:05.000"))
	case n.fresh.silent:
		return fmt.Sprintf("%s: unknown: no word from vipd since %s", n.name, n.fresh.heard.Format("15:04:05.000"))
	}
	return ""
}

// linkProblem says why n's SSH link is down; "" if it is up.
func linkProblem(n *nodeState) string {
	if n.connected() && !n.closed {
		return ""
	}
	if n.closed {
		return n.name + ": its feed ended"
	}
	why := n.name + " is disconnected since " + n.conn.Since.Format("15:04:05")
	if n.conn.Attempt > 0 {
		why += fmt.Sprintf(" (attempt %d)", n.conn.Attempt)
	}
	if n.conn.LastErr != nil {
		why += ": " + shortErr(n.conn.LastErr)
	}
	return why
}

// nginxProblem says why n's nginx guard (or a tracked script) is not
// healthy; "" if it is, or if n has no guard.
func nginxProblem(n *nodeState) string {
	if n.status == nil {
		return ""
	}
	gs := n.status.Scripts
	if n.status.Nginx != nil {
		gs = append([]control.Guard{*n.status.Nginx}, gs...)
	}
	for _, g := range gs {
		if g.Verdict != control.VerdictHealthy {
			why := fmt.Sprintf("%s on %s is %s", g.Name, n.name, g.Verdict)
			if g.Reason != "" {
				why += ": " + g.Reason
			}
			return why
		}
	}
	return ""
}

// splitBrains describes each instance of the pair in split brain, on
// current evidence only (instanceHealth.splitBrain).
func splitBrains(p *pairView) []string {
	var out []string
	for _, h := range analyze(p.nodes, p.probe, p.vip) {
		if h.splitBrain() {
			out = append(out, h.splitText())
		}
	}
	return out
}

// check is the verdict of the pre-checks on an action.
type check struct {
	a            Action // Pair and Node filled in
	target, peer *nodeState
	passed       []string // what was verified, for the confirm screen
	problems     []string // why the action is refused
	warn         string
}

func (ck *check) fail(format string, args ...any) {
	ck.problems = append(ck.problems, fmt.Sprintf(format, args...))
}

func (ck *check) pass(format string, args ...any) {
	ck.passed = append(ck.passed, fmt.Sprintf(format, args...))
}

// nginxHealthy refuses when n's nginx guard is not healthy.
func (ck *check) nginxHealthy(n *nodeState) {
	if why := nginxProblem(n); why != "" {
		ck.fail("%s", why)
	}
}

// precheck judges whether a may run on pair p now: the checks common to
// every action, then its kind's own (actionTable).
func (m *Model) precheck(p *pairView, a Action) check {
	ck := check{a: a}
	ck.a.Pair = p.name
	def := a.Kind.def()
	if !a.Kind.Known() {
		ck.fail("unknown action %q", a.Kind)
		return ck
	}
	if sb := splitBrains(p); len(sb) > 0 {
		for _, s := range sb {
			ck.fail("%s: end it first (stop vipd on the node that must not hold the VIP)", s)
		}
	} else {
		ck.pass("no split brain")
	}
	links := true
	for _, n := range p.nodes {
		if why := linkProblem(n); why != "" {
			ck.fail("%s", why)
			links = false
		}
	}
	if links {
		var silent []string
		for _, n := range p.nodes {
			if !n.live() {
				silent = append(silent, n.name)
			}
		}
		if len(silent) == 0 {
			ck.pass("every node connected")
		} else {
			// Connected is not running: say which vipd the console has no word from.
			ck.pass("every node connected, but no current word from vipd on %s", strings.Join(silent, " and "))
		}
	}
	if a.Node != "" && p.node(a.Node) == nil {
		ck.fail("pair %s has no node %s", p.name, a.Node)
		return ck
	}

	if def.onMaster {
		m.precheckMaster(p, &ck)
	} else {
		m.precheckFailed(p, &ck)
	}
	if ck.target != nil {
		// What runs and what to expect depend on the target's daemon.
		ck.a.Keepalived = ck.target.keepalived
	}
	if ck.target != nil && def.precheck != nil {
		def.precheck(p, &ck)
	}
	if ck.target != nil {
		ck.a.Node = ck.target.name
	}
	return ck
}

// precheckMaster checks an action on the MASTER: the MASTER holds the VIP,
// a peer is a healthy BACKUP, and the VIP answers.
func (m *Model) precheckMaster(p *pairView, ck *check) {
	a := ck.a
	var masters []*nodeState
	for _, n := range p.nodes {
		if p.holds(n) {
			masters = append(masters, n)
		}
	}
	switch {
	case a.Node != "":
		ck.target = p.node(a.Node)
		if why := p.masterProblem(ck.target); why != "" {
			ck.fail("%s: %s runs on the MASTER", why, a.Kind.Title())
			ck.target = nil
		}
	case len(masters) == 1:
		ck.target = masters[0]
	case len(masters) == 0:
		var whys []string
		for _, n := range p.nodes {
			whys = append(whys, p.masterProblem(n))
		}
		ck.fail("no node is MASTER holding the VIP (%s)", strings.Join(whys, "; "))
	}
	if ck.target == nil {
		return
	}
	ck.pass("%s is MASTER and holds the VIP", ck.target.name)
	var whys []string
	for _, n := range p.nodes {
		if n == ck.target {
			continue
		}
		why := p.backupProblem(n)
		if why == "" {
			ck.peer = n
			break
		}
		whys = append(whys, why)
	}
	switch {
	case ck.peer != nil:
		ck.pass("%s is a healthy BACKUP", ck.peer.name)
	case len(whys) == 0:
		ck.fail("%s has no peer to take the VIP over", ck.target.name)
	default:
		ck.fail("the peer is not a healthy BACKUP: %s", strings.Join(whys, "; "))
	}
	switch pr := p.probe; {
	case pr == nil:
	case pr.failRun > 0:
		last := pr.samples[len(pr.samples)-1]
		ck.fail("the VIP does not answer now (%d failures in a row: %s): the service is already down", pr.failRun, errText(last.Err))
	case len(pr.samples) == 0:
		ck.fail("the probe has not reached the VIP yet")
	default:
		if s := pr.samples[len(pr.samples)-1]; s.Backend == "" {
			ck.pass("the VIP answers (node unknown)")
		} else {
			ck.pass("the VIP answers from %s%s", s.Backend, paren(s.From))
		}
	}
}

// precheckFailed finds the node for repair and re-enable, the one a drill
// failed, and the node that holds the VIP meanwhile. Whether there is
// anything to do on it is the kind's own check.
func (m *Model) precheckFailed(p *pairView, ck *check) {
	a := ck.a
	if a.Node != "" {
		ck.target = p.node(a.Node)
	} else {
		for _, n := range p.nodes {
			if !p.holds(n) && needsCare(p, n, a.Kind) {
				ck.target = n
				break
			}
		}
		if ck.target == nil {
			ck.fail("nothing to %s: every node is a healthy MASTER or BACKUP", a.Kind.Title())
			return
		}
	}
	t := ck.target
	if p.holds(t) {
		ck.fail("%s is the MASTER holding the VIP: %s is for the node a drill failed", t.name, a.Kind.Title())
		ck.target = nil
		return
	}
	for _, n := range p.nodes {
		if n != t && p.holds(n) {
			ck.peer = n
			break
		}
	}
	if ck.peer != nil {
		ck.pass("%s is MASTER and holds the VIP", ck.peer.name)
	} else if a.Kind == ActionRepair {
		ck.warn = fmt.Sprintf("no node holds the VIP now: once nginx is healthy, %s may take it", t.name)
	}
}

// needsCare reports whether n is a node repair or resume would act on.
func needsCare(p *pairView, n *nodeState, k ActionKind) bool {
	if !n.connected() || n.closed {
		return false
	}
	if !n.reporting() {
		return k == ActionResume // vipd stopped or failing: re-enable starts it
	}
	if !n.live() {
		return false // unknown: nothing to act on blind
	}
	in := p.vipInstance(n)
	if in == nil {
		return false
	}
	if k == ActionRepair {
		return nginxProblem(n) != ""
	}
	return in.State == control.StateFault || in.State == control.StateInit
}

// operatorFault reports whether in is in FAULT because an operator asked
// (vipd ctl fault), which only a resume ends.
func operatorFault(in *control.Instance) bool {
	return in != nil && in.State == control.StateFault && strings.HasPrefix(in.FaultReason, "fault requested")
}

// baseline is what the post-checks compare with: the pair when the action
// started.
type baseline struct {
	restarts map[string]uint64 // nginx restarts, by node
}

func newBaseline(p *pairView) baseline {
	b := baseline{restarts: map[string]uint64{}}
	for _, n := range p.nodes {
		if n.status != nil && n.status.Nginx != nil {
			b.restarts[n.name] = n.status.Nginx.Restarts
		}
	}
	return b
}

// expect evaluates r's expectations now (its kind's, in actionTable). A
// failure is something no waiting can undo: a split brain, the VIP moving
// where it must stay, a probe error during a rejoin.
func (m *Model) expect(r *runState) ([]Expectation, *failure) {
	p := m.pairs[r.pair]
	x := &expecter{m: m, r: r, p: p, t: p.node(r.target), peer: p.node(r.peer), probe: r.probeStats(p.probe != nil)}
	if sb := splitBrains(p); len(sb) > 0 {
		return nil, &failure{kind: failSplitBrain, why: strings.Join(sb, "; ")}
	}
	if x.t == nil {
		return nil, &failure{why: "no node " + r.target}
	}
	f := r.a.Kind.def().expectFor(r.a.Keepalived)(x)
	return x.exps, f
}

// expecter collects one evaluation's expectations. Its methods are the
// expectations the action table is written in.
type expecter struct {
	m       *Model
	r       *runState
	p       *pairView
	t, peer *nodeState
	probe   ProbeStats
	exps    []Expectation
}

func (x *expecter) add(ok bool, name, detail string) {
	x.exps = append(x.exps, Expectation{Name: name, OK: ok, Detail: detail})
}

func (x *expecter) at(t time.Time) string { return t.In(x.m.c.loc).Format("15:04:05.000") }

// answers: the VIP answers, from who if the reply says.
func (x *expecter) answers(who *nodeState) {
	if who == nil || x.p.probe == nil {
		return
	}
	name := fmt.Sprintf("the VIP answers from %s", who.name)
	s, ok := x.r.lastWord()
	if !ok {
		x.add(false, name, "no probe answer yet")
		return
	}
	switch {
	case !s.OK:
		x.add(false, name, "the last request failed: "+errText(s.Err))
	case s.Backend == "":
		x.add(true, name, "answered (node unknown): "+unknownWhy(s)+"; who answered is not verified")
	case s.Backend != who.name:
		x.add(false, name, fmt.Sprintf("answered by %s%s", s.Backend, paren(s.From)))
	default:
		x.add(true, name, fmt.Sprintf("answered by %s in %s%s", s.Backend, fmtDur(s.Latency), paren(s.From)))
	}
}

// stays: the VIP stays on who; it moving is a failure.
func (x *expecter) stays(who *nodeState) *failure {
	if who == nil {
		return nil
	}
	if e, ok := x.r.transition[who.name]; ok {
		return &failure{kind: failMoved, why: fmt.Sprintf("the VIP moved: %s %s at %s", who.name, e.Text, x.at(e.Time))}
	}
	x.add(x.p.holds(who), fmt.Sprintf("the VIP stayed on %s", who.name), orOK(x.p.masterProblem(who), who.name+" is MASTER and holds it"))
	return nil
}

// holdsVIP: who is MASTER with the VIP, confirmed by its status.
func (x *expecter) holdsVIP(who *nodeState) {
	x.add(x.p.holds(who), fmt.Sprintf("%s is MASTER and holds the VIP", who.name), orOK(x.p.masterProblem(who), "confirmed by its status"))
}

// tookOver: the peer holds the VIP and answers on it.
func (x *expecter) tookOver() {
	if x.peer != nil {
		x.holdsVIP(x.peer)
		x.answers(x.peer)
	}
}

// gaveUp: the target is in FAULT without the VIP.
func (x *expecter) gaveUp() {
	ok, detail := x.settledIn(control.StateFault)
	switch {
	case ok:
		detail = "FAULT without the VIP: " + x.p.vipInstance(x.t).FaultReason
	case detail == string(control.StateFault):
		detail = "FAULT; no status has confirmed the VIP gone yet"
	}
	x.add(ok, x.t.name+" gave the VIP up", detail)
}

// settledIn reports whether the target is live in state without the VIP,
// confirmed by a status since its transition, and else what it is.
func (x *expecter) settledIn(state control.State) (bool, string) {
	t := x.t
	in := x.p.vipInstance(t)
	ok := t.live() && in != nil && in.State == state && !in.VIPPresent && !t.vipUnknown[in.Name]
	switch detail := vipdProblem(t); {
	case detail != "":
		return ok, detail
	case in == nil:
		return ok, "no instance for the VIP"
	case ok:
		return ok, string(state) + " without the VIP"
	case in.FaultReason != "" && in.State != state:
		return ok, string(in.State) + " (" + in.FaultReason + ")"
	default:
		return ok, string(in.State)
	}
}

// vipdStopped: the target's vipd stopped (its watch ended, or it said
// INIT on its way out).
func (x *expecter) vipdStopped() {
	t := x.t
	in := x.p.vipInstance(t)
	stopped := t.connected() && (t.err != nil || in != nil && in.State == control.StateInit)
	daemon := "vipd"
	if x.r.a.Keepalived {
		daemon = "keepalived"
	}
	detail := daemon + " still answers"
	if t.err != nil {
		detail = daemon + "'s watch ended: " + shortErr(t.err)
	} else if stopped {
		detail = "INIT: " + daemon + " is stopping"
	}
	x.add(stopped, daemon+" stopped on "+t.name, detail)
}

// restarted: vipd's guard started nginx again on the target.
func (x *expecter) restarted() {
	t := x.t
	g := guardOf(t)
	// Arrival times on the console's clock: the nodes' may differ.
	ok := !t.recoveredAt.Before(x.r.start) || (g != nil && g.Restarts > x.r.base.restarts[t.name])
	who, how := "vipd", "vipd's guard started nginx and its re-check passed"
	if x.r.a.Keepalived {
		who, how = "check_nginx.sh", "check_nginx.sh started nginx: its master process is back"
	}
	detail := "no restart seen yet"
	if ok {
		detail = how
		if !t.recovered.IsZero() {
			detail += " at " + x.at(t.recovered)
		}
	}
	x.add(ok, who+" restarted nginx on "+t.name, detail)
	x.add(t.live() && nginxProblem(t) == "", "nginx healthy on "+t.name, orOK(firstOf(vipdProblem(t), nginxProblem(t)), "healthy"))
}

// nginxRepaired: nginx is healthy on the target: by vipd's guard, checked
// since the repair, or by the gate's check when vipd does not run there.
func (x *expecter) nginxRepaired() {
	t := x.t
	name := "nginx healthy on " + t.name
	if g := guardOf(t); t.live() && g != nil {
		ok := g.Verdict == control.VerdictHealthy && !t.nginxOKAt.Before(x.r.start)
		x.add(ok, name, orOK(nginxProblem(t), "vipd's guard: healthy, checked since the repair"))
		return
	}
	var check *Step
	for i := range x.r.steps {
		if x.r.steps[i].Check {
			check = &x.r.steps[i]
		}
	}
	switch {
	case check == nil && x.r.phase == phaseCommands:
		x.add(false, name, "waiting for the commands")
	case check == nil:
		x.add(false, name, "vipd does not run there and the gate ran no check")
	default:
		x.add(check.Error == "", name, fmt.Sprintf("vipd does not run there: checked with `%s`: %s", check.Command, orOK(check.Error, "ok")))
	}
}

// rejoined: the target came back as BACKUP without the VIP, and did not
// preempt. A node whose vipd does not run, or that an operator keeps in
// FAULT, does not rejoin by itself: for repair that is no expectation.
func (x *expecter) rejoined() *failure {
	t := x.t
	in := x.p.vipInstance(t)
	if x.r.a.Kind == ActionRepair && (!t.reporting() || operatorFault(in)) {
		return nil // no vipd to rejoin by itself; a node merely unknown must still be seen rejoining
	}
	if t.live() && in != nil && in.State == control.StateMaster {
		return &failure{kind: failMoved, why: fmt.Sprintf("%s came up MASTER: it preempted %s", t.name, x.r.peer)}
	}
	ok, detail := x.settledIn(control.StateBackup)
	x.add(ok, t.name+" rejoined as BACKUP", detail)
	return nil
}

// probeClean: no request to the VIP failed since the action started.
func (x *expecter) probeClean(during string) *failure {
	if x.probe.Conclusive == 0 { // slow answers are no outage
		return nil
	}
	why := fmt.Sprintf("the probe failed at %s", x.at(x.probe.FirstFailure))
	if during != "" {
		why += " " + during
	}
	return &failure{kind: failProbe, why: why + ": " + x.probe.FirstError}
}

func (x *expecter) probeSawNoError(name string) {
	if x.p.probe != nil {
		x.add(x.probe.Samples > 0, name, x.probe.Counts())
	}
}

func guardOf(n *nodeState) *control.Guard {
	if n == nil || n.status == nil {
		return nil
	}
	return n.status.Nginx
}

// orOK returns why, or ok when why is "".
func orOK(why, ok string) string {
	if why != "" {
		return why
	}
	return ok
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
