package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// DrillTarget says which node a drill step acts on.
type DrillTarget int

const (
	// TargetMaster is the pair's MASTER when the step starts.
	TargetMaster DrillTarget = iota
	// TargetFailed is the node the last failover took the VIP from.
	TargetFailed
)

// DrillStep is one step of a guided drill: an action, run through the
// console's gate like any other.
type DrillStep struct {
	Kind    ActionKind
	Target  DrillTarget
	Title   string // "kill nginx and watch it come back"
	Explain string // one line: what happens and what must be seen
}

// Drill is a guided walkthrough of actions, one step at a time.
type Drill struct {
	Title string
	Pair  string // "" for the first pair
	Steps []DrillStep
	// Auto runs every step without waiting and confirms it: vipctl drill
	// --yes. An unattended step waits for its pre-checks to pass (the
	// pair settling after the last step) for at most StartWait (0: 30 s).
	Auto      bool
	StartWait time.Duration
	// Report receives the report after each step and once more when the
	// drill ends (Done set); it is called from a Cmd, one call at a time.
	Report func(DrillReport)
}

// DrillReport is what a drill did.
type DrillReport struct {
	Title, Pair    string
	Started, Ended time.Time
	Steps          []DrillStepReport
	// Done says nothing more will run: every step passed, one failed, or
	// the drill was aborted.
	Done    bool
	Aborted string // why it was stopped before its end; "" if it was not
}

// DrillStepReport is one step's part of the report.
type DrillStepReport struct {
	Step     DrillStep
	Outcome  *Outcome // the last attempt; nil if it never ran
	Attempts int
}

// Passed reports whether every step ran and passed.
func (r DrillReport) Passed() bool {
	if !r.Done || r.Aborted != "" {
		return false
	}
	for _, s := range r.Steps {
		if s.Outcome == nil || s.Outcome.Result != ResultPass {
			return false
		}
	}
	return true
}

// drillState is the drill in the model.
type drillState struct {
	opts       Drill
	pair       int
	cur        int // the step to run
	steps      []DrillStepReport
	failedFrom string
	started    time.Time
	ended      time.Time
	waitSince  time.Time // when the current step became the one to run
	asked      bool      // the current step is in the gate
	done       bool
	aborted    string
}

func newDrill(d Drill, pairs []*pairView) *drillState {
	ds := &drillState{opts: d}
	for i, p := range pairs {
		if p.name == d.Pair {
			ds.pair = i
		}
	}
	if ds.opts.StartWait <= 0 {
		ds.opts.StartWait = 30 * time.Second
	}
	for _, s := range d.Steps {
		ds.steps = append(ds.steps, DrillStepReport{Step: s})
	}
	return ds
}

// drillTickMsg lets an unattended drill start its next step once the
// pair has settled.
type drillTickMsg struct{}

const drillTick = 100 * time.Millisecond

func tickDrill() tea.Cmd {
	return tea.Tick(drillTick, func(time.Time) tea.Msg { return drillTickMsg{} })
}

// drillAction is the current step's action.
func (m *Model) drillAction() Action {
	d := m.drill
	st := d.opts.Steps[d.cur]
	a := Action{Kind: st.Kind, Pair: m.pairs[d.pair].name, Reason: "drill"}
	if st.Target == TargetFailed {
		a.Node = d.failedFrom
	}
	return a
}

// drillPoll starts an unattended drill's next step once its pre-checks
// pass, or when it has waited long enough: then the gate refuses it and
// says why.
func (m *Model) drillPoll() tea.Cmd {
	d := m.drill
	if d == nil || d.done || d.asked || !d.opts.Auto || len(d.steps) == 0 {
		return nil
	}
	now := m.c.now()
	if d.started.IsZero() {
		d.started, d.waitSince = now, now
	}
	a := m.drillAction()
	if ck := m.precheck(m.pairs[d.pair], a); len(ck.problems) > 0 && now.Sub(d.waitSince) < d.opts.StartWait {
		return nil
	}
	d.asked = true
	return m.request(a, true)
}

// drillEnter runs the current step: the operator pressed enter.
func (m *Model) drillEnter() tea.Cmd {
	d := m.drill
	if d.done || d.asked || len(d.steps) == 0 {
		return nil
	}
	if d.started.IsZero() {
		d.started = m.c.now()
	}
	d.asked = true
	a := m.drillAction()
	return func() tea.Msg { return drillActionMsg{a: a} }
}

// drillOutcome records the verdict on the current step.
func (m *Model) drillOutcome(o *Outcome) tea.Cmd {
	d := m.drill
	if d == nil || d.done {
		return nil
	}
	now := m.c.now()
	d.asked = false
	st := &d.steps[d.cur]
	st.Outcome, st.Attempts = o, st.Attempts+1
	switch {
	case o.Result == ResultPass:
		if o.Action.Kind.Failover() {
			d.failedFrom = o.Target
		}
		d.cur++
		d.waitSince = now
		if d.cur == len(d.steps) {
			d.done, d.ended = true, now
		}
	case o.Result == ResultFail, d.opts.Auto:
		d.done, d.ended = true, now
	}
	return m.drillReport()
}

// drillAbort stops the drill: the operator quit.
func (m *Model) drillAbort(why string) {
	d := m.drill
	now := m.c.now()
	if r := m.gate.run; r != nil && r.drill {
		st := &d.steps[d.cur]
		st.Attempts++
		st.Outcome = &Outcome{Action: r.a, Target: r.target, Peer: r.peer, Result: ResultFail, Confirmed: r.confirmed,
			Why: "interrupted while it ran: " + why, Start: r.start, End: now, Expectations: slices.Clone(r.exps),
			Probe: r.probeStats(m.pairs[r.pair].probe != nil), Holders: r.meter.holderGap(now),
			Steps: slices.Clone(r.steps), Events: slices.Clone(r.events)}
		m.gate.run = nil
		m.paceProbe(r.pair, false)
	}
	m.gate.confirm = nil
	d.done, d.ended, d.aborted = true, now, why
}

// drillReport hands a copy of the report to the caller, in a Cmd.
func (m *Model) drillReport() tea.Cmd {
	d := m.drill
	if d.opts.Report == nil {
		return nil
	}
	rep := DrillReport{
		Title: d.opts.Title, Pair: m.pairs[d.pair].name, Started: d.started, Ended: d.ended,
		Steps: slices.Clone(d.steps), Done: d.done, Aborted: d.aborted,
	}
	report := d.opts.Report
	return func() tea.Msg {
		report(rep)
		return nil
	}
}

// drillTarget names the node a step acts on, as far as it is known.
func (m *Model) drillTarget(i int) string {
	d := m.drill
	st := d.steps[i]
	switch {
	case i == d.cur && m.gate.run != nil && m.gate.run.drill:
		return m.gate.run.target
	case i == d.cur && m.gate.confirm != nil && m.gate.confirm.drill:
		return m.gate.confirm.a.Node
	}
	if o := st.Outcome; o != nil && o.Target != "" {
		return o.Target
	}
	p := m.pairs[d.pair]
	switch st.Step.Target {
	case TargetFailed:
		if d.failedFrom != "" {
			return d.failedFrom
		}
		return "the failed node"
	default:
		for _, n := range p.nodes {
			if p.holds(n) {
				return n.name
			}
		}
		return "the MASTER"
	}
}

// drillLines draws the drill: its steps, the current one explained, and
// the action it runs, live. When that is more than maxH lines, the steps
// shrink to a line of marks and the current one.
func (m *Model) drillLines(w, maxH int) []string {
	if lines := m.drillView(w, false); len(lines) <= maxH {
		return lines
	}
	return m.drillView(w, true)
}

func (m *Model) drillView(w int, compact bool) []string {
	s := m.c.styles
	d := m.drill
	var state string
	switch {
	case d.aborted != "":
		state = s.Bad.Render("ABORTED")
	case d.done && m.drillPassed():
		state = s.Good.Render("PASSED")
	case d.done:
		state = s.Bad.Render(fmt.Sprintf("FAILED at step %d", d.cur+1))
	default:
		state = s.Muted.Render(fmt.Sprintf("step %d of %d", d.cur+1, len(d.steps)))
	}
	title := s.SectionTitle.Render("Drill") + " " + d.opts.Title
	var marks, steps []string
	for i, st := range d.steps {
		mark, style := "·", s.Muted
		o := st.Outcome
		switch {
		case o != nil && o.Result == ResultPass:
			mark, style = "✓", s.Good
		case o != nil && o.Result == ResultFail:
			mark, style = "✗", s.Bad
		case i == d.cur && !d.done:
			mark, style = "▶", s.Selected
		case o != nil:
			mark, style = "!", s.Warn
		case d.done:
			mark = "-"
		}
		marks = append(marks, style.Render(fmt.Sprintf("%s%d", mark, i+1)))
		if compact && i != d.cur {
			continue
		}
		text := fmt.Sprintf("%s %d %s", mark, i+1, st.Step.Title)
		if target := m.drillTarget(i); target != "" {
			text += " · " + target
		}
		var right string
		if o != nil {
			right = strings.ToLower(string(o.Result))
			if o.Result == ResultPass && o.Probe.Probed {
				right += " · " + o.Probe.Figure()
			}
		}
		steps = append(steps, ansi.Truncate(spread(style.Render(text), s.Muted.Render(right), w), w, "…"))
	}
	if compact {
		title += " " + strings.Join(marks, " ")
	}
	lines := append([]string{ansi.Truncate(spread(title, state, w), w, "…")}, steps...)
	if !d.done {
		lines = append(lines, wrapIndent(s.Muted, d.steps[d.cur].Step.Explain, w, "  ")...)
	}
	switch {
	case m.gate.run != nil:
		lines = append(lines, m.runLines(w)...)
	case m.gate.shown != nil && (d.done || m.gate.shown.Result != ResultPass):
		lines = append(lines, m.outcomeLines(m.gate.shown, w)...)
	}
	var prompt string
	switch {
	case d.done:
		prompt = "the drill is over: q quits and writes the report"
		if d.aborted == "" && !m.drillPassed() {
			prompt = "the drill failed: q quits, restores what it broke and writes the report"
		}
	case d.opts.Auto:
		prompt = "unattended (--yes): q aborts and restores what the drill broke"
	case d.asked:
		prompt = "running: q aborts and restores what the drill broke"
	default:
		prompt = fmt.Sprintf("enter runs step %d · q quits and restores what the drill broke", d.cur+1)
	}
	return append(lines, s.Warn.Render(ansi.Truncate(prompt, w, "…")))
}

func (m *Model) drillPassed() bool {
	for _, st := range m.drill.steps {
		if st.Outcome == nil || st.Outcome.Result != ResultPass {
			return false
		}
	}
	return true
}
