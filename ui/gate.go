package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// gate is the console's one gate. Every action, from a key in any view or
// from the drill, arrives in request, which alone may open a confirmation;
// start, reached only from a confirmation, alone calls the Gate's Run. A
// read-only console refuses everything in request.
type gate struct {
	exec     Executor
	ctx      context.Context
	cmds     Commands
	audit    Auditor
	readOnly bool
	who      string

	seen    int // requests received (tests count them)
	ids     int
	confirm *confirmState
	run     *runState
	shown   *Outcome // the last verdict, on screen until dismissed
}

func newGate(o Options) gate {
	g := gate{exec: o.Executor, ctx: o.Context, cmds: o.Commands, audit: o.Audit, readOnly: o.ReadOnly, who: o.Operator}
	if g.who == "" {
		g.who = "operator"
	}
	return g
}

// busy names the action in progress, or "".
func (g *gate) busy() string {
	switch {
	case g.confirm != nil:
		return g.confirm.a.Kind.Title() + " on " + g.confirm.a.Node + " (awaiting confirmation)"
	case g.run != nil:
		return g.run.a.Kind.Title() + " on " + g.run.target
	}
	return ""
}

// plan is what a runs on its node, from the action table; vipdDown says
// the node's vipd is known not to run.
func (m *Model) plan(a Action, vipdDown bool) []Command {
	pi := m.pairIndex(a.Pair)
	if pi < 0 {
		return nil
	}
	cli := m.pairs[pi].cli
	if cli == nil {
		cli = noVipd{}
	}
	return Plan(a, m.gate.cmds, cli, m.gate.who, vipdDown)
}

// vipdDown reports whether n's vipd is known not to run: its link is up
// and its watch has failed (not merely gone quiet). Re-enabling it then
// starts vipd.
func vipdDown(n *nodeState) bool {
	return n != nil && n.connected() && !n.closed && n.err != nil // a silent node is unknown, not down
}

// noVipd stands in when a pair names no vipd CLI: its commands say so.
type noVipd struct{}

func (noVipd) Fault(string, string, string) string { return "vipd ctl fault" }
func (noVipd) Resume(string, string) string        { return "vipd ctl resume" }

// confirmState is an action checked and waiting for the operator.
type confirmState struct {
	orig   Action // as asked: re-checked from this when the state changed
	a      Action // resolved: Pair and Node set
	pair   int
	peer   string
	drill  bool
	typed  bool   // the node's name must be typed
	input  string // what was typed
	notice string // a wrong name; why the confirmation was asked again

	// What the operator looked at: each node's version and summary.
	at       time.Time
	versions map[string]uint64
	looked   map[string]string

	passed []string
	warn   string
	plan   []Command
}

type runPhase int

const (
	phaseCommands runPhase = iota // the Gate runs the commands
	phaseVerify                   // the post-checks wait for the effect
)

// runState is an action confirmed and running.
type runState struct {
	id           int
	a            Action
	pair         int
	target, peer string
	confirmed    string
	drill        bool
	start        time.Time
	phase        runPhase
	deadline     time.Time
	settle       time.Duration
	holdSince    time.Time // when every expectation last started to hold
	base         baseline
	steps        []Step
	events       []Event
	samples      []ProbeSample // the probe's, since start
	lastSample   *ProbeSample
	transition   map[string]Event // each node's first transition since start
	exps         []Expectation    // the last evaluation
	meter        *outageMeter     // the outage, by the probe and the nodes' events
}

// probeStats sums what the probe saw since the action started.
func (r *runState) probeStats(probed bool) ProbeStats { return r.meter.probeStats(probed) }

// gateTickMsg re-evaluates run id's post-checks.
type gateTickMsg struct{ id int }

// drillActionMsg is an action asked by the drill: it passes the same gate.
type drillActionMsg struct{ a Action }

const gateTick = 100 * time.Millisecond

func tickGate(id int) tea.Cmd {
	return tea.Tick(gateTick, func(time.Time) tea.Msg { return gateTickMsg{id: id} })
}

// pairIndex finds a pair by name; "" is the pair shown.
func (m *Model) pairIndex(name string) int {
	if name == "" {
		if len(m.pairs) == 0 {
			return -1
		}
		return m.cur
	}
	for i, p := range m.pairs {
		if p.name == name {
			return i
		}
	}
	return -1
}

// request is the gate's entrance.
func (m *Model) request(a Action, drill bool) tea.Cmd {
	g := &m.gate
	g.seen++
	now := m.c.now()
	refuse := func(why string) tea.Cmd {
		return m.conclude(&Outcome{Action: a, Target: a.Node, Result: ResultRefused, Why: why, Start: now, End: now}, drill)
	}
	if g.readOnly {
		return refuse(ErrReadOnly.Error())
	}
	if g.exec == nil {
		return refuse(ErrActionsDisabled.Error())
	}
	if what := g.busy(); what != "" {
		return refuse("another action is in progress: " + what)
	}
	pi := m.pairIndex(a.Pair)
	if pi < 0 {
		return refuse(fmt.Sprintf("no pair %q", a.Pair))
	}
	a.Pair = m.pairs[pi].name
	ck := m.precheck(m.pairs[pi], a)
	if len(ck.problems) > 0 {
		o := &Outcome{Action: ck.a, Result: ResultRefused, Why: strings.Join(ck.problems, "; "), Start: now, End: now}
		if ck.target != nil {
			o.Target = ck.target.name
		}
		return m.conclude(o, drill)
	}
	g.confirm = m.newConfirm(pi, a, ck, drill)
	if drill && m.drill != nil && m.drill.opts.Auto {
		return m.start("--yes (unattended)")
	}
	return nil
}

func (m *Model) newConfirm(pi int, orig Action, ck check, drill bool) *confirmState {
	p := m.pairs[pi]
	cf := &confirmState{
		orig: orig, a: ck.a, pair: pi, drill: drill,
		typed: ck.a.Kind.def().typed, at: m.c.now(),
		versions: map[string]uint64{}, looked: map[string]string{},
		passed: ck.passed, warn: ck.warn, plan: m.plan(ck.a, vipdDown(ck.target)),
	}
	if ck.peer != nil {
		cf.peer = ck.peer.name
	}
	if ck.warn != "" && ck.a.Kind == ActionResume {
		cf.typed = true // the VIP might move
	}
	for _, n := range p.nodes {
		cf.versions[n.name] = n.version
		cf.looked[n.name] = p.summary(n)
	}
	return cf
}

// summary is a node's state in a few words, to say what changed.
func (p *pairView) summary(n *nodeState) string {
	if why := vipdProblem(n); why != "" {
		return why
	}
	in := p.vipInstance(n)
	if in == nil {
		return "no instance for the VIP"
	}
	s := string(in.State)
	switch {
	case n.vipUnknown[in.Name]:
		s += ", VIP unconfirmed"
	case in.VIPPresent:
		s += " with the VIP"
	}
	if why := nginxProblem(n); why != "" {
		s += ", " + why
	}
	return s
}

// confirmKey handles a key while a confirmation is open.
func (m *Model) confirmKey(msg tea.KeyPressMsg) tea.Cmd {
	cf := m.gate.confirm
	k := m.c.keys
	switch s := msg.String(); {
	case key.Matches(msg, k.Back), !cf.typed && s == "n":
		return m.cancel()
	case key.Matches(msg, k.Select):
		if cf.typed && cf.input != cf.a.Node {
			cf.notice = fmt.Sprintf("%q is not %s: type the node's name exactly", cf.input, cf.a.Node)
			return nil
		}
		how := "enter"
		if cf.typed {
			how = "typed " + cf.a.Node
		}
		return m.start(how)
	case !cf.typed && s == "y":
		return m.start("y")
	case !cf.typed:
	case s == "backspace":
		if r := []rune(cf.input); len(r) > 0 {
			cf.input = string(r[:len(r)-1])
		}
	case s == "ctrl+u":
		cf.input = ""
	case msg.Text != "" && len(cf.input) < 64:
		cf.input += msg.Text
	}
	return nil
}

func (m *Model) cancel() tea.Cmd {
	cf := m.gate.confirm
	m.gate.confirm = nil
	now := m.c.now()
	return m.conclude(&Outcome{Action: cf.a, Target: cf.a.Node, Peer: cf.peer, Result: ResultCancelled,
		Why: "the operator cancelled at the confirmation", Start: cf.at, End: now}, cf.drill)
}

// start runs a confirmed action, unless the pair changed since the
// operator looked: then it checks again, and asks again or refuses.
func (m *Model) start(how string) tea.Cmd {
	g := &m.gate
	cf := g.confirm
	g.confirm = nil
	p := m.pairs[cf.pair]
	now := m.c.now()
	var changed []string
	for _, n := range p.nodes {
		if v, ok := cf.versions[n.name]; !ok || v != n.version {
			changed = append(changed, fmt.Sprintf("%s changed since you looked at %s (was: %s; now: %s)",
				n.name, cf.at.In(m.c.loc).Format("15:04:05"), cf.looked[n.name], p.summary(n)))
		}
	}
	if len(changed) > 0 {
		ck := m.precheck(p, cf.orig)
		if len(ck.problems) > 0 {
			return m.conclude(&Outcome{Action: ck.a, Target: cf.a.Node, Result: ResultRefused, Start: cf.at, End: now,
				Why: strings.Join(changed, "; ") + "; checked again: " + strings.Join(ck.problems, "; ")}, cf.drill)
		}
		g.confirm = m.newConfirm(cf.pair, cf.orig, ck, cf.drill)
		g.confirm.notice = strings.Join(changed, "; ") + ". Checked again: confirm again."
		if cf.drill && m.drill != nil && m.drill.opts.Auto {
			return m.start(how)
		}
		return nil
	}
	if g.exec == nil {
		return m.conclude(&Outcome{Action: cf.a, Target: cf.a.Node, Result: ResultRefused, Why: ErrActionsDisabled.Error(), Start: now, End: now}, cf.drill)
	}
	g.ids++
	def := cf.a.Kind.def()
	a := cf.a
	a.Commands, a.Leaves, a.Clears = cf.plan, def.leavesFor(a.Keepalived), def.clears // Resolve, as confirmed
	r := &runState{
		id: g.ids, a: a, pair: cf.pair, target: cf.a.Node, peer: cf.peer, confirmed: how, drill: cf.drill,
		start: now, base: newBaseline(p), transition: map[string]Event{},
		settle: m.c.opts.Settle, deadline: now.Add(m.c.opts.ActionTimeout),
		meter: newOutageMeter(p, cf.a, now),
	}
	if r.settle <= 0 {
		r.settle = def.settle
	}
	if m.c.opts.ActionTimeout <= 0 {
		r.deadline = now.Add(def.deadline)
	}
	g.run = r
	g.shown = nil
	m.paceProbe(r.pair, true)
	p.timeline.add(r.target, -1, note{at: now, text: fmt.Sprintf("%s started (%s)", cf.a.Kind.Title(), how), level: levelWarn, keep: true})
	if len(a.Commands) == 0 {
		r.phase = phaseVerify // nothing to run
		return tickGate(r.id)
	}
	exec, ctx, id := g.exec, g.ctx, r.id
	return tea.Batch(func() tea.Msg {
		steps, err := exec.Run(ctx, a)
		return actionResultMsg{id: id, steps: steps, err: err}
	}, tickGate(r.id))
}

// onResult takes the Gate's report on the commands.
func (m *Model) onResult(msg actionResultMsg) tea.Cmd {
	r := m.gate.run
	if r == nil || msg.id != r.id || r.phase != phaseCommands {
		return nil // a result for no action of ours: nothing runs on it
	}
	r.steps = msg.steps
	now := m.c.now()
	if msg.err != nil {
		return m.finish(ResultFail, failure{why: fmt.Sprintf("the commands failed: %v", msg.err)})
	}
	r.phase = phaseVerify
	if m.c.opts.ActionTimeout <= 0 {
		r.deadline = now.Add(r.a.Kind.def().deadline)
	} else {
		r.deadline = now.Add(m.c.opts.ActionTimeout)
	}
	return m.evaluate()
}

// observe records what a pair's timeline receives while an action runs on
// it.
func (m *Model) observe(pair int, node string, nt note) {
	r := m.gate.run
	if r == nil || r.pair != pair {
		return
	}
	ev := Event{Time: nt.at, Node: node, Text: nt.text}
	r.events = append(r.events, ev)
	if nt.role != "" && node != "" {
		if _, seen := r.transition[node]; !seen {
			r.transition[node] = ev
		}
	}
}

// observeProbe records a probe sample while an action runs on its pair.
func (m *Model) observeProbe(pair int, s ProbeSample) {
	r := m.gate.run
	if r == nil || r.pair != pair || s.Time.Before(r.start) {
		return
	}
	r.meter.sample(s)
	if s.FollowUp {
		return // no request of its own
	}
	r.samples = append(r.samples, s)
	r.lastSample = &r.samples[len(r.samples)-1]
	if len(r.samples) > 10000 { // a run is bounded in time; this bounds memory
		r.samples = slices.Delete(r.samples, 0, 5000)
		r.lastSample = &r.samples[len(r.samples)-1]
	}
}

// evaluate runs the post-checks and ends the action when they decide.
func (m *Model) evaluate() tea.Cmd {
	r := m.gate.run
	if r == nil {
		return nil
	}
	exps, fatal := m.expect(r)
	r.exps = exps
	now := m.c.now()
	if fatal != nil {
		return m.finish(ResultFail, *fatal)
	}
	if r.phase != phaseVerify {
		return nil
	}
	ok := len(exps) > 0
	for _, e := range exps {
		ok = ok && e.OK
	}
	switch {
	case ok && r.holdSince.IsZero():
		r.holdSince = now
	case !ok:
		r.holdSince = time.Time{}
	}
	if ok && now.Sub(r.holdSince) >= r.settle {
		return m.finish(ResultPass, failure{})
	}
	if now.After(r.deadline) {
		var not []string
		for _, e := range exps {
			if !e.OK {
				not = append(not, fmt.Sprintf("%s: not so (%s)", e.Name, e.Detail))
			}
		}
		if len(not) == 0 {
			not = append(not, "the expectations did not hold steadily")
		}
		return m.finish(ResultFail, failure{why: fmt.Sprintf("after %s, %s", fmtDur(now.Sub(r.start)), strings.Join(not, "; "))})
	}
	return nil
}

// finish ends the running action with a verdict.
func (m *Model) finish(res Result, f failure) tea.Cmd {
	r := m.gate.run
	m.gate.run = nil
	m.paceProbe(r.pair, false)
	p := m.pairs[r.pair]
	now := m.c.now()
	o := &Outcome{
		Action: r.a, Target: r.target, Peer: r.peer, Result: res, Why: f.why, Confirmed: r.confirmed,
		Start: r.start, End: now, Expectations: slices.Clone(r.exps), Probe: r.probeStats(p.probe != nil),
		Holders: r.meter.holderGap(now), Steps: slices.Clone(r.steps), Events: slices.Clone(r.events),
	}
	if res == ResultFail {
		o.Remedy = m.remedy(r, f)
	}
	return m.conclude(o, r.drill)
}

// conclude shows, notes and audits an outcome, and tells the drill.
func (m *Model) conclude(o *Outcome, drill bool) tea.Cmd {
	m.gate.shown = o
	if pi := m.pairIndex(o.Action.Pair); pi >= 0 {
		text, lvl := fmt.Sprintf("%s: %s", o.Action.Kind.Title(), strings.ToUpper(string(o.Result))), levelGood
		switch o.Result {
		case ResultPass:
			if figures := o.outageShort(); figures != "" {
				text += ", " + figures
			}
		case ResultFail:
			text, lvl = text+": "+o.Why, levelBad
		default:
			text, lvl = text+": "+o.Why, levelWarn
		}
		m.pairs[pi].timeline.add(o.Target, -1, note{at: o.End, text: text, level: lvl, keep: true})
	}
	var cmds []tea.Cmd
	if m.gate.audit != nil {
		e := m.auditEntry(o)
		audit := m.gate.audit
		cmds = append(cmds, func() tea.Msg {
			if err := audit.Record(e); err != nil {
				return auditFailedMsg{err: err}
			}
			return nil
		})
	}
	if drill {
		cmds = append(cmds, m.drillOutcome(o))
	}
	return tea.Batch(cmds...)
}

// auditFailedMsg says the audit log could not be written.
type auditFailedMsg struct{ err error }

func (m *Model) auditEntry(o *Outcome) AuditEntry {
	e := AuditEntry{
		Time: o.End, Who: m.gate.who, Action: o.Action.Kind, Pair: o.Action.Pair, Node: o.Target,
		Result: o.Result, Detail: o.Why, Confirmed: o.Confirmed, ReadOnly: m.gate.readOnly,
		OutageMS: o.Probe.Outage.Milliseconds(), NoHolderMS: o.Holders.ms(),
	}
	if o.Result == ResultPass {
		e.Detail = o.summary()
	}
	for _, s := range o.Steps {
		e.Commands = append(e.Commands, s.Command)
	}
	return e
}

// summary is a passed outcome in one line.
func (o *Outcome) summary() string {
	var parts []string
	switch d := o.Action.Kind.def(); {
	case d.failover:
		parts = append(parts, fmt.Sprintf("the VIP moved from %s to %s", o.Target, o.Peer))
	case d.onMaster:
		parts = append(parts, "the VIP stayed on "+o.Target)
	case o.Peer != "":
		parts = append(parts, "the VIP stayed on "+o.Peer)
	}
	if figures := o.outageLong(); figures != "" {
		parts = append(parts, figures)
	}
	return strings.Join(parts, "; ")
}

// actionKey turns an action key into an ActionMsg. The pair is the one
// shown (or under the cursor of the list of pairs); drills pick the MASTER
// themselves, repair and resume the focused node if a panel has the focus.
func (m *Model) actionKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	var kind ActionKind
	for _, k := range ActionKinds() {
		if b := k.def().binding; b != nil && key.Matches(msg, b(*m.c.keys)) {
			kind = k
			break
		}
	}
	if kind == "" {
		return nil, false
	}
	a := Action{Kind: kind}
	pi := m.cur
	if m.showPairs {
		pi = m.list.cursor
	}
	if pi >= 0 && pi < len(m.pairs) {
		p := m.pairs[pi]
		a.Pair = p.name
		// The focused panel, unless it is the MASTER: then the gate picks
		// the node that needs it.
		if n := m.focusedNode(p); !kind.def().onMaster && n != nil && !p.holds(n) {
			a.Node = n.name
		}
	}
	return func() tea.Msg { return ActionMsg{Action: a} }, true
}

// focusedNode is the node whose panel has the focus on pair p, if any.
func (m *Model) focusedNode(p *pairView) *nodeState {
	if m.showPairs || m.drill != nil || p != m.pair() || m.focus >= len(p.nodes) {
		return nil
	}
	return p.nodes[m.focus]
}
