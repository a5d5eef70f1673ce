package ui

import (
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"
)

// ActionKind names a guarded action.
type ActionKind string

// Guarded actions. The three failover drills run on the pair's MASTER and
// must move the VIP to a healthy BACKUP; repair and resume run on the node
// a drill failed. Baseline runs nothing: it only watches.
const (
	// ActionFailNginx: nginx fails and cannot be restarted (held down), so
	// vipd gives the VIP up: the seed's policy, step 2.
	ActionFailNginx ActionKind = "fail-nginx"
	// ActionStopVipd: vipd stops gracefully, as the seed kills keepalived.
	ActionStopVipd ActionKind = "stop-vipd"
	// ActionFault: forced give-up (vipd ctl fault --reason drill).
	ActionFault ActionKind = "fault"
	// ActionRestartNginx: nginx is stopped on the MASTER; vipd's guard must
	// start it again and the VIP must stay (the seed's first test).
	ActionRestartNginx ActionKind = "restart-nginx"
	// ActionRepair starts nginx on a failed node and confirms it healthy.
	ActionRepair ActionKind = "repair"
	// ActionResume re-enables a node without preemption (vipd ctl resume,
	// or vipd started): it must come up BACKUP and leave the VIP where it
	// is.
	ActionResume ActionKind = "resume"
	// ActionBaseline watches the pair settled, with a clean probe.
	ActionBaseline ActionKind = "baseline"
)

// ActionKinds lists every action, in the order of the help.
func ActionKinds() []ActionKind {
	return []ActionKind{ActionFailNginx, ActionStopVipd, ActionFault, ActionRestartNginx, ActionRepair, ActionResume, ActionBaseline}
}

// Title is the action's name for the screen and the report.
func (k ActionKind) Title() string {
	switch k {
	case ActionFailNginx:
		return "failover drill: nginx fails"
	case ActionStopVipd:
		return "failover drill: vipd stops"
	case ActionFault:
		return "failover drill: forced give-up"
	case ActionRestartNginx:
		return "nginx restart check"
	case ActionRepair:
		return "repair"
	case ActionResume:
		return "re-enable without preemption"
	case ActionBaseline:
		return "baseline"
	}
	return string(k)
}

// Failover reports whether the action must move the VIP off the MASTER.
func (k ActionKind) Failover() bool {
	return k == ActionFailNginx || k == ActionStopVipd || k == ActionFault
}

// onMaster reports whether the action runs on the pair's MASTER.
func (k ActionKind) onMaster() bool {
	return k.Failover() || k == ActionRestartNginx || k == ActionBaseline
}

// typed reports whether the operator must type the node's name: for what
// moves the VIP, or may (a restart that fails).
func (k ActionKind) typed() bool { return k.Failover() || k == ActionRestartNginx }

// An Action is a guarded operation on one node of a pair.
type Action struct {
	Kind ActionKind
	Pair string // "" for the pair shown
	// Node is the target; "" lets the gate pick it by role: the MASTER for
	// drills, the failed node for repair and resume.
	Node     string
	Instance string // "" for every instance
	Reason   string
}

// ActionMsg asks the console to run an Action. Every view sends this and
// nothing else: the model hands it to its one gate, which checks it, holds
// it in a confirm state and only then passes it to the Gate's Run.
type ActionMsg struct{ Action Action }

// ActionResultMsg is what a Gate reports when it has run an Action's
// commands (or could not).
type ActionResultMsg struct {
	Action Action
	Steps  []Step // each command run, in order
	Err    error  // why the action did not run, or failed
}

// Step is one command a Gate ran on a node.
type Step struct {
	Node     string
	Command  string
	Output   string // trimmed, possibly shortened
	Error    string // "" when it succeeded
	Start    time.Time
	Duration time.Duration
	// Check marks a command that only looks (is nginx up?): its success is
	// evidence for the post-check.
	Check bool
}

// A Gate runs the commands of guarded actions on the nodes, always as a
// Cmd that ends in an ActionResultMsg. The console model is its only
// caller: the model's gate decides whether an action may run.
type Gate interface {
	Run(Action) tea.Cmd
}

// A Planner says which commands a Gate would run for an action, for the
// confirm screen and the remedies. A Gate may implement it.
type Planner interface {
	Plan(Action) []string
}

// Errors of the gate.
var (
	// ErrActionsDisabled is the refusal of the default Gate.
	ErrActionsDisabled = errors.New("guarded actions are not available: no gate configured")
	// ErrReadOnly is the refusal of every action by a read-only console.
	ErrReadOnly = errors.New("read-only console (--read-only): every action is refused")
)

// refuseGate refuses everything.
type refuseGate struct{}

func (refuseGate) Run(a Action) tea.Cmd {
	return func() tea.Msg { return ActionResultMsg{Action: a, Err: ErrActionsDisabled} }
}

// Result is how an action ended.
type Result string

// Results.
const (
	ResultPass      Result = "pass"      // ran, and every expectation held
	ResultFail      Result = "fail"      // ran, and an expectation did not hold (or a command failed)
	ResultRefused   Result = "refused"   // not run: read-only, a pre-check, or the state changed
	ResultCancelled Result = "cancelled" // not run: the operator said no
)

// Outcome is the verdict on one action, for the screen, the audit log and
// the drill's report.
type Outcome struct {
	Action    Action
	Target    string // the node acted on
	Peer      string // the node that must take or keep the VIP
	Result    Result
	Why       string // refused, cancelled or fail: what is wrong, exactly
	Remedy    string // fail: how to return to a safe state
	Confirmed string // how the operator confirmed: "typed nginx-01", "y", "--yes"

	Start, End   time.Time // End - Start is how long it ran
	Expectations []Expectation
	Probe        ProbeStats
	Steps        []Step
	Events       []Event // what the nodes and the probe reported meanwhile
}

// Expectation is one post-check.
type Expectation struct {
	Name   string // "nginx-02 is MASTER and holds the VIP"
	OK     bool
	Detail string // the evidence, or what was seen instead
}

// ProbeStats is what the VIP's probe saw while an action ran.
type ProbeStats struct {
	Probed   bool // false: the pair has no probe
	Samples  int
	Failures int
	// Outage is the time clients could not reach the VIP: from each first
	// failed request to the next answered one, summed.
	Outage time.Duration
	// FirstFailure is the first failed request's time and error.
	FirstFailure time.Time
	FirstError   string
}

// Event is a timeline entry seen while an action ran.
type Event struct {
	Time time.Time
	Node string // "" for the probe
	Text string
}

// AuditEntry is one line of the audit log: who did what on which node,
// when, and how it ended.
type AuditEntry struct {
	Time      time.Time  `json:"time"`
	Who       string     `json:"who"`
	Action    ActionKind `json:"action"`
	Pair      string     `json:"pair"`
	Node      string     `json:"node,omitempty"`
	Result    Result     `json:"result"`
	Detail    string     `json:"detail,omitempty"`
	Confirmed string     `json:"confirmed,omitempty"`
	Commands  []string   `json:"commands,omitempty"`
	OutageMS  int64      `json:"outage_ms,omitempty"`
	ReadOnly  bool       `json:"read_only,omitempty"`
}

// An Auditor records every action's outcome, refusals included. Record is
// called from a Cmd, never from Update.
type Auditor interface {
	Record(AuditEntry) error
}
