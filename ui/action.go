package ui

import (
	"context"
	"errors"
	"time"
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

// An Action is a guarded operation on one node of a pair.
type Action struct {
	Kind ActionKind
	Pair string // "" for the pair shown
	// Node is the target; "" lets the gate pick it by role: the MASTER for
	// drills, the failed node for repair and resume.
	Node     string
	Instance string // "" for every instance
	Reason   string
	// Commands are what runs on Node, and Leaves and Clears what that
	// breaks and repairs: the gate fills them in from the action table
	// once the operator has confirmed.
	Commands       []Command
	Leaves, Clears Debt
	// Keepalived: the target runs keepalived, not vipd (the gate fills
	// it in from the node's feed): its daemon's commands are keepalived's
	// (Commands.KeepalivedStop, ...), and what the seed's check_nginx.sh
	// does when nginx cannot start (stop keepalived) is what to expect.
	Keepalived bool
}

// ActionMsg asks the console to run an Action. Every view sends this and
// nothing else: the model hands it to its one gate, which checks it, holds
// it in a confirm state and only then passes it to the Executor.
type ActionMsg struct{ Action Action }

// actionResultMsg is what the Executor reported on run id's commands.
type actionResultMsg struct {
	id    int
	steps []Step
	err   error
}

// Step is one command the Executor ran on a node.
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

// An Executor runs an action's commands on its node and says what each
// did: the console's one way to act on a node. The model's gate is its
// only caller in the console, and decides whether an action runs; Run is
// called from a Cmd, with the console's context, so quitting cancels it.
type Executor interface {
	Run(ctx context.Context, a Action) ([]Step, error)
}

// Errors of the gate.
var (
	// ErrActionsDisabled: the console has no Executor.
	ErrActionsDisabled = errors.New("guarded actions are not available: no executor configured")
	// ErrReadOnly is the refusal of every action by a read-only console.
	ErrReadOnly = errors.New("read-only console (--read-only): every action is refused")
)

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
	Holders      HolderGap // the VIP's holders by the nodes' own events (outage.go)
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
	// failed request to the next answered one, summed; blips (below) left
	// out.
	Outage time.Duration
	// Longest is the longest of those runs of failures.
	Longest time.Duration
	// Pace is the probe's interval around the failures (or, with none, at
	// the end): the figure's resolution, as the verdict says
	// ("outage 62ms (probe every 5ms)").
	Pace time.Duration
	// Conclusive counts the failed requests that show an outage, and
	// Blips those that do not: runs of slow answers, answered after the
	// dense probe's short timeout, while no failover runs (a busy host;
	// see ProbeTimeout), which took BlipTime. Outage and the verdicts that
	// want no failed request (baseline, rejoin) count only Conclusive
	// ones. A run still open and slow so far is in neither.
	Conclusive, Blips int
	BlipTime          time.Duration
	// FirstFailure is the first conclusive failure's time and error.
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
	// NoHolderMS is how long no node held the VIP by the nodes' events,
	// when they showed a change of holder.
	NoHolderMS *int64 `json:"no_holder_ms,omitempty"`
	ReadOnly   bool   `json:"read_only,omitempty"`
}

// An Auditor records every action's outcome, refusals included. Record is
// called from a Cmd, never from Update.
type Auditor interface {
	Record(AuditEntry) error
}
