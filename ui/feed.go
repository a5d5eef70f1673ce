package ui

import (
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
)

// A Feed delivers one node's live data.
type Feed interface {
	// Node is the node's name as the operator knows it ("nginx-01"). The
	// probe's Backend is compared with it.
	Node() string
	// Updates delivers the node's data in order. New calls it once; the
	// console reads the channel until it is closed.
	Updates() <-chan Update
}

// An Update is news about one node. Any combination of fields may be set;
// they are applied in the order Conn, Status, Event, Err.
type Update struct {
	// Conn is the SSH link's new state. A feed that reaches vipd without
	// SSH leaves it nil, and the node is taken as connected.
	Conn *ssh.State
	// Status replaces everything known about the node: the status events
	// of `vipd watch --json --status-every`, or `vipd status --json`.
	Status *control.Status
	// Event is one line of `vipd watch --json`. A snapshot event replaces
	// the status like Status does.
	Event *control.Event
	// Err is why the node's stream or poll failed: a *control.VersionError
	// (vipd too old or too new), an *ssh.ExitError with status 127 (vipd
	// not installed), an *ssh.HostKeyChangedError, ... The node's panel
	// shows it with what to do until the next Status or snapshot.
	Err error
}

// A ProbeFeed delivers the results of HTTP requests to a pair's VIP made
// from the console's host.
type ProbeFeed interface {
	Updates() <-chan ProbeSample // called once by New; read until closed
}

// ProbeSample is one request to the VIP.
type ProbeSample struct {
	Time    time.Time     // when it was sent
	OK      bool          // whether a node answered as expected
	Latency time.Duration // until the answer, or the failure
	Backend string        // the node that answered, from the body ("nginx-01")
	Err     error         // why it failed
}

// A Pair is a set of nodes that share VIPs: usually two.
type Pair struct {
	Name  string    // "web"
	VIP   string    // the address Probe requests ("198.51.100.100")
	Nodes []Feed    // in the order the panels are shown
	Probe ProbeFeed // nil when the VIP is not probed
}

// Options adjust the console. The zero value is ready to use.
type Options struct {
	// Now is the console's clock (nil: time.Now). Tests fix it.
	Now func() time.Time
	// Location is where times are shown (nil: time.Local).
	Location *time.Location
	// Refresh is how often ages are redrawn when nothing else happens
	// (0: every second; negative: never, for tests).
	Refresh time.Duration
	// TimelineSize bounds each pair's timeline (0: 200 events).
	TimelineSize int
	// ProbeWindow is how many of the latest probe samples the success
	// rate is computed over (0: 50).
	ProbeWindow int
	// StaleAfter is the age beyond which a node's status is marked "as of"
	// its time (0: 10s).
	StaleAfter time.Duration
	// Styles and Keys replace the defaults (nil: DefaultStyles,
	// DefaultKeyMap).
	Styles *Styles
	Keys   *KeyMap
	// Gate runs guarded actions' commands (nil: every action is refused).
	// The console's own gate decides whether they run.
	Gate Gate
	// ReadOnly refuses every action, whatever view asks.
	ReadOnly bool
	// Audit records every action's outcome (nil: none are recorded).
	Audit Auditor
	// Operator is who acts, for the audit log (default "operator").
	Operator string
	// Settle is how long an action's expectations must hold before it
	// passes, and ActionTimeout how long they have to come true once its
	// commands ran (0: per action, 1 to 3 s and 15 s to a minute).
	Settle        time.Duration
	ActionTimeout time.Duration
	// Drill opens the guided drill (nil: the console alone).
	Drill *Drill
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Refresh == 0 {
		o.Refresh = time.Second
	}
	if o.TimelineSize <= 0 {
		o.TimelineSize = 200
	}
	if o.ProbeWindow <= 0 {
		o.ProbeWindow = 50
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 10 * time.Second
	}
	if o.Styles == nil {
		s := DefaultStyles()
		o.Styles = &s
	}
	if o.Keys == nil {
		k := DefaultKeyMap()
		o.Keys = &k
	}
	if o.Gate == nil {
		o.Gate = refuseGate{}
	}
	return o
}
