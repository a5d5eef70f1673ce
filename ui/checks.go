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

// splitBrains describes each instance of the pair in split brain.
func splitBrains(nodes []*nodeState) []string {
	var out []string
	for _, h := range analyze(nodes) {
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

// precheck judges whether a may run on pair p now.
func (m *Model) precheck(p *pairView, a Action) check {
	ck := check{a: a}
	ck.a.Pair = p.name
	fail := func(format string, args ...any) { ck.problems = append(ck.problems, fmt.Sprintf(format, args...)) }
	pass := func(format string, args ...any) { ck.passed = append(ck.passed, fmt.Sprintf(format, args...)) }

	if sb := splitBrains(p.nodes); len(sb) > 0 {
		for _, s := range sb {
			fail("%s: end it first (stop vipd on the node that must not hold the VIP)", s)
		}
	} else {
		pass("no split brain")
	}
	links := true
	for _, n := range p.nodes {
		if why := linkProblem(n); why != "" {
			fail("%s", why)
			links = false
		}
	}
	if links {
		pass("every node connected")
	}
	if a.Node != "" && p.node(a.Node) == nil {
		fail("pair %s has no node %s", p.name, a.Node)
		return ck
	}

	if a.Kind.onMaster() {
		m.precheckMaster(p, &ck, fail, pass)
	} else {
		m.precheckFailed(p, &ck, fail, pass)
	}
	if ck.target != nil {
		ck.a.Node = ck.target.name
	}
	return ck
}

// precheckMaster checks an action on the MASTER: the MASTER holds the VIP,
// a peer is a healthy BACKUP, and the VIP answers.
func (m *Model) precheckMaster(p *pairView, ck *check, fail, pass func(string, ...any)) {
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
			fail("%s: %s runs on the MASTER", why, a.Kind.Title())
			ck.target = nil
		}
	case len(masters) == 1:
		ck.target = masters[0]
	case len(masters) == 0:
		var whys []string
		for _, n := range p.nodes {
			whys = append(whys, p.masterProblem(n))
		}
		fail("no node is MASTER holding the VIP (%s)", strings.Join(whys, "; "))
	}
	if ck.target == nil {
		return
	}
	pass("%s is MASTER and holds the VIP", ck.target.name)
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
		pass("%s is a healthy BACKUP", ck.peer.name)
	case len(whys) == 0:
		fail("%s has no peer to take the VIP over", ck.target.name)
	default:
		fail("the peer is not a healthy BACKUP: %s", strings.Join(whys, "; "))
	}
	if a.Kind == ActionRestartNginx || a.Kind == ActionBaseline {
		if why := nginxProblem(ck.target); why != "" {
			fail("%s", why)
		}
	}
	switch pr := p.probe; {
	case pr == nil:
	case pr.failRun > 0:
		last := pr.samples[len(pr.samples)-1]
		fail("the VIP does not answer now (%d failures in a row: %s): the service is already down", pr.failRun, errText(last.Err))
	case len(pr.samples) == 0:
		fail("the probe has not reached the VIP yet")
	default:
		who := pr.samples[len(pr.samples)-1].Backend
		if who == "" {
			pass("the VIP answers")
		} else {
			pass("the VIP answers from %s", who)
		}
	}
}

// precheckFailed checks repair and resume: the node a drill failed, with
// the VIP safe on another.
func (m *Model) precheckFailed(p *pairView, ck *check, fail, pass func(string, ...any)) {
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
			what := "repair"
			if a.Kind == ActionResume {
				what = "re-enable"
			}
			fail("nothing to %s: every node is a healthy MASTER or BACKUP (focus a node's panel to choose one)", what)
			return
		}
	}
	t := ck.target
	if p.holds(t) {
		fail("%s is the MASTER holding the VIP: %s is for the node a drill failed", t.name, a.Kind.Title())
		return
	}
	for _, n := range p.nodes {
		if n != t && p.holds(n) {
			ck.peer = n
			break
		}
	}
	switch {
	case ck.peer != nil:
		pass("%s is MASTER and holds the VIP", ck.peer.name)
	case a.Kind == ActionResume:
		var whys []string
		for _, n := range p.nodes {
			if n != t {
				whys = append(whys, p.masterProblem(n))
			}
		}
		fail("no other node holds the VIP (%s): re-enabling %s would make it take the VIP, which is no rejoin; repair the pair first",
			strings.Join(whys, "; "), t.name)
	default:
		ck.warn = fmt.Sprintf("no node holds the VIP now: once nginx is healthy, %s may take it", t.name)
	}
	if a.Kind != ActionResume || ck.peer == nil {
		return
	}
	in, pin := p.vipInstance(t), p.vipInstance(ck.peer)
	switch {
	case in == nil:
		ck.warn = fmt.Sprintf("the console never saw %s's configuration: it cannot tell whether it is nopreempt", t.name)
	case !in.NoPreempt && pin != nil && in.BasePriority > pin.EffectivePriority:
		fail("%s is not nopreempt and its priority %d is above %s's %d: it would take the VIP back; add nopreempt to its vrrp_instance first",
			t.name, in.BasePriority, ck.peer.name, pin.EffectivePriority)
	case in.NoPreempt:
		pass("%s is nopreempt", t.name)
	}
}

// needsCare reports whether n is a node repair or resume would act on.
func needsCare(p *pairView, n *nodeState, k ActionKind) bool {
	if !n.connected() || n.closed {
		return false
	}
	if !n.live() {
		return true // vipd stopped or failing
	}
	in := p.vipInstance(n)
	if in == nil {
		return false
	}
	if k == ActionRepair && nginxProblem(n) != "" {
		return true
	}
	return in.State == control.StateFault || in.State == control.StateInit
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

// Default post-check bounds, by action: how long the expectations must
// hold before the verdict (settle), and how long they have to come true.
func defaultSettle(k ActionKind) time.Duration {
	switch k {
	case ActionBaseline, ActionResume:
		return 3 * time.Second
	}
	return time.Second
}

func defaultDeadline(k ActionKind) time.Duration {
	switch k {
	case ActionResume:
		// A node's feed retries a watch with backoff: after a long vipd
		// stop it may take half a minute to see vipd back.
		return time.Minute
	case ActionBaseline:
		return 15 * time.Second
	}
	return 30 * time.Second
}

// expect evaluates r's expectations now. fatal is set when something went
// wrong that no waiting can undo: a split brain, the VIP moving where it
// must stay, a probe error during a rejoin.
func (m *Model) expect(r *runState) (exps []Expectation, fatal string) {
	p := m.pairs[r.pair]
	t, peer := p.node(r.target), p.node(r.peer)
	add := func(ok bool, name, detail string) {
		exps = append(exps, Expectation{Name: name, OK: ok, Detail: detail})
	}

	if sb := splitBrains(p.nodes); len(sb) > 0 {
		return exps, strings.Join(sb, "; ")
	}
	probe := r.probeStats(p.probe != nil)
	answers := func(who *nodeState) {
		if who == nil || p.probe == nil {
			return
		}
		name := fmt.Sprintf("the VIP answers from %s", who.name)
		if r.lastSample == nil {
			add(false, name, "no probe answer yet")
			return
		}
		s := *r.lastSample
		switch {
		case !s.OK:
			add(false, name, "the last request failed: "+errText(s.Err))
		case s.Backend == "":
			add(true, name, "answered; the reply does not name the node, so who answered is not verified")
		case s.Backend != who.name:
			add(false, name, "answered by "+s.Backend)
		default:
			add(true, name, fmt.Sprintf("answered by %s in %s", s.Backend, fmtDur(s.Latency)))
		}
	}
	stays := func(who *nodeState) string {
		if who == nil {
			return ""
		}
		if e, ok := r.transition[who.name]; ok {
			return fmt.Sprintf("the VIP moved: %s %s at %s", who.name, e.Text, e.Time.In(m.c.loc).Format("15:04:05.000"))
		}
		add(p.holds(who), fmt.Sprintf("the VIP stayed on %s", who.name), orOK(p.masterProblem(who), who.name+" is MASTER and holds it"))
		return ""
	}

	switch k := r.a.Kind; {
	case k == ActionBaseline:
		if probe.Failures > 0 {
			return exps, fmt.Sprintf("the probe failed at %s: %s", probe.FirstFailure.In(m.c.loc).Format("15:04:05.000"), probe.FirstError)
		}
		add(p.holds(t), fmt.Sprintf("%s is MASTER and holds the VIP", t.name), orOK(p.masterProblem(t), "confirmed by its status"))
		if peer != nil {
			add(p.backupProblem(peer) == "", fmt.Sprintf("%s is a healthy BACKUP", peer.name), orOK(p.backupProblem(peer), "BACKUP, no VIP, nginx healthy"))
		}
		add(nginxProblem(t) == "", "nginx healthy on "+t.name, orOK(nginxProblem(t), "healthy"))
		answers(t)
		if p.probe != nil {
			add(probe.Samples > 0, "the probe saw no error", fmt.Sprintf("%d requests, %d failed", probe.Samples, probe.Failures))
		}

	case k == ActionRestartNginx:
		if why := stays(t); why != "" {
			return exps, why + ": vipd could not restart nginx in time"
		}
		g := guardOf(t)
		// Arrival times on the console's clock: the nodes' may differ.
		restarted := !t.recoveredAt.Before(r.start) || (g != nil && g.Restarts > r.base.restarts[t.name])
		detail := "no restart seen yet"
		if restarted {
			detail = "vipd's guard started nginx and its re-check passed"
			if !t.recovered.IsZero() {
				detail += " at " + t.recovered.In(m.c.loc).Format("15:04:05.000")
			}
		}
		add(restarted, "vipd restarted nginx on "+t.name, detail)
		add(t.live() && nginxProblem(t) == "", "nginx healthy on "+t.name, orOK(firstOf(vipdProblem(t), nginxProblem(t)), "healthy"))
		answers(t)

	case k.Failover():
		in := p.vipInstance(t)
		switch k {
		case ActionStopVipd:
			stopped := t.connected() && (t.err != nil || in != nil && in.State == control.StateInit)
			detail := "vipd still answers"
			if t.err != nil {
				detail = "vipd's watch ended: " + shortErr(t.err)
			} else if stopped {
				detail = "INIT: vipd is stopping"
			}
			add(stopped, "vipd stopped on "+t.name, detail)
		default:
			gaveUp := t.live() && in != nil && in.State == control.StateFault && !in.VIPPresent && !t.vipUnknown[in.Name]
			detail := orOK(vipdProblem(t), "")
			switch {
			case detail != "":
			case in == nil:
				detail = "no instance for the VIP"
			case gaveUp:
				detail = "FAULT without the VIP: " + in.FaultReason
			case in.State == control.StateFault:
				detail = "FAULT; no status has confirmed the VIP gone yet"
			default:
				detail = string(in.State)
			}
			add(gaveUp, t.name+" gave the VIP up", detail)
		}
		if peer != nil {
			add(p.holds(peer), fmt.Sprintf("%s is MASTER and holds the VIP", peer.name), orOK(p.masterProblem(peer), "confirmed by its status"))
			answers(peer)
		}

	case k == ActionRepair:
		if why := stays(peer); why != "" {
			return exps, why
		}
		name := "nginx healthy on " + t.name
		switch g := guardOf(t); {
		case t.live() && g != nil:
			ok := g.Verdict == control.VerdictHealthy && !t.nginxOKAt.Before(r.start)
			add(ok, name, orOK(nginxProblem(t), "vipd's guard: healthy, checked since the repair"))
		default:
			var check *Step
			for i := range r.steps {
				if r.steps[i].Check {
					check = &r.steps[i]
				}
			}
			switch {
			case check == nil && r.phase == phaseCommands:
				add(false, name, "waiting for the commands")
			case check == nil:
				add(false, name, "vipd does not run there and the gate ran no check")
			default:
				add(check.Error == "", name, fmt.Sprintf("vipd does not run there: checked with `%s`: %s", check.Command, orOK(check.Error, "ok")))
			}
		}
		answers(peer)

	case k == ActionResume:
		if probe.Failures > 0 {
			return exps, fmt.Sprintf("the probe failed at %s while %s rejoined: %s", probe.FirstFailure.In(m.c.loc).Format("15:04:05.000"), t.name, probe.FirstError)
		}
		if why := stays(peer); why != "" {
			return exps, why
		}
		if in := p.vipInstance(t); t.live() && in != nil && in.State == control.StateMaster {
			return exps, fmt.Sprintf("%s came up MASTER: it preempted %s", t.name, r.peer)
		}
		in := p.vipInstance(t)
		backup := t.live() && in != nil && in.State == control.StateBackup && !in.VIPPresent && !t.vipUnknown[in.Name]
		detail := orOK(vipdProblem(t), "")
		switch {
		case detail != "":
		case in == nil:
			detail = "no instance for the VIP"
		case backup:
			detail = "BACKUP without the VIP"
		default:
			detail = string(in.State)
		}
		add(backup, t.name+" is BACKUP", detail)
		if p.probe != nil {
			add(true, "the probe saw no error during the rejoin", fmt.Sprintf("%d requests, none failed", probe.Samples))
		}
		answers(peer)
	}
	return exps, ""
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
