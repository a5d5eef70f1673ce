package ui

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
	cfgcheck "github.com/vipkit/vip/ui/check"
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

// A Reconnecter is a Feed whose link the operator can redial (the
// Reconnect key on the node's panel).
type Reconnecter interface {
	// Reconnect dials the node now, its backoff reset, even after a
	// host-key error that stops the automatic redials. confirm is asked
	// about a host key known_hosts does not hold, on this one dial; it
	// waits for the operator's answer, which the console asks for in its
	// own confirmation, never on the terminal. Reconnect must not block.
	Reconnect(confirm func(context.Context, ssh.HostKeyPrompt) bool)
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
	// Wrapping ErrVipdStopped or ErrUnreadable says which of those it is.
	Err error
	// StatusEvery, with a snapshot, is how often the stream it starts
	// brings a status (`vipd watch --status-every`): a node silent for
	// longer than that and 300 ms is shown as unknown, never as what it
	// last said. Zero with a snapshot: the stream promises none, and
	// silence says nothing.
	StatusEvery time.Duration
}

// Causes a feed wraps in Update.Err, so that the node's panel says what
// happened rather than showing an error.
var (
	// ErrVipdStopped: vipd does not run on the node (nothing listens on
	// its control socket, or its watch ended as it shut down); the error
	// says the evidence.
	ErrVipdStopped = errors.New("vipd stopped")
	// ErrUnreadable: the stream brought a line that is no document of
	// the contract (a login banner, another program's output).
	ErrUnreadable = errors.New("unreadable output")
	// ErrWatchEnded: vipd closed the watch without saying why (stopping
	// or restarting); the feed watches again at once, which tells.
	ErrWatchEnded = errors.New("vipd ended the watch")
	// ErrKeepalivedStopped: the node ran keepalived and no keepalived
	// runs there now; the error says the evidence. A keepalived node's
	// error wraps it rather than ErrVipdStopped.
	ErrKeepalivedStopped = errors.New("keepalived stopped")
	// ErrKeepalivedUnreadable: keepalived runs but the console cannot
	// read its state (built without JSON, a dump that does not come or
	// cannot be read, /proc not readable); the error says which.
	ErrKeepalivedUnreadable = errors.New("keepalived unreadable")
	// ErrNoDaemon: neither vipd nor keepalived runs on the node.
	ErrNoDaemon = errors.New("neither vipd nor keepalived runs")
)

// A ProbeFeed delivers the results of HTTP requests to a pair's VIP made
// from the console's host.
type ProbeFeed interface {
	Updates() <-chan ProbeSample // called once by New; read until closed
}

// A ProbePacer is a ProbeFeed whose pace the console sets: dense while an
// action runs on the pair, so that the outage is measured to a few ms,
// sparse otherwise. The model calls Dense from Update: it must not block.
type ProbePacer interface {
	Dense(on bool)
}

// ProbeSample is one request to the VIP.
type ProbeSample struct {
	Time    time.Time     // when it was sent
	OK      bool          // whether a node answered as expected
	Latency time.Duration // until the answer, or the failure
	// Backend is the node that answered, as From says it is known ("" when
	// nothing names it). The console shows it only once it matches a node
	// of the pair (by name, or by a unique hostname or router_id).
	Backend string
	From    string           // how Backend is known: "X-Served-By", "MAC 02:00:00:00:00:02", "body"
	MAC     net.HardwareAddr // the VIP's entry in the console host's neighbour table after the answer, if read
	Pace    time.Duration    // the probe's interval when it was sent: a figure's resolution
	Err     error            // why it failed
	// Followed marks a request that failed for missing its (dense)
	// timeout and that the probe still waits for: a later sample with
	// the same Time and FollowUp set says whether it was answered after
	// all (Err a ProbeTimeout with Late set: a slow answer) or not (a lost
	// request). A follow-up is no request of its own.
	Followed, FollowUp bool
}

// A Pair is a set of nodes that share VIPs: usually two.
type Pair struct {
	Name  string    // "web"
	VIP   string    // the address Probe requests ("198.51.100.100")
	Nodes []Feed    // in the order the panels are shown
	Probe ProbeFeed // nil when the VIP is not probed
	// Vipd writes the vipd commands the actions run on this pair's nodes
	// (nil: `vipd` on the login's PATH, its default socket).
	Vipd VipdCLI
	// Check compares the nodes' effective configurations (nil: not
	// checked). It does I/O: the model runs it in a Cmd, at start and
	// every Options.CheckEvery.
	Check ConfigCheck
}

// ConfigCheck reads and compares a pair's configurations (package
// ui/check's Pair). It returns when ctx is done.
type ConfigCheck func(ctx context.Context) cfgcheck.Report

// Options adjust the console. The zero value is ready to use.
type Options struct {
	// Now is the console's clock (nil: time.Now). Tests fix it.
	Now func() time.Time
	// Location is where times are shown (nil: time.Local).
	Location *time.Location
	// Refresh is how often ages are redrawn when nothing else happens
	// (0: every second; negative: never, for tests).
	Refresh time.Duration
	// DrawEvery is how often at most the feeds' news is drawn (0:
	// drawEvery; negative: after every message, for tests). Keys are
	// drawn at once.
	DrawEvery time.Duration
	// TimelineSize bounds each pair's timeline (0: 200 lines), not
	// counting transitions, verdicts and operator actions, which stay.
	TimelineSize int
	// ProbeWindow is how many of the latest probe samples the success
	// rate is computed over (0: 50).
	ProbeWindow int
	// StaleAfter is the age beyond which a node's status is marked "as of"
	// its time, on a feed that promises no status pace (0: 10s). A paced
	// feed's node is unknown once it is silent (Update.StatusEvery).
	StaleAfter time.Duration
	// Styles and Keys replace the defaults (nil: DefaultStyles,
	// DefaultKeyMap).
	Styles *Styles
	Keys   *KeyMap
	// Executor runs guarded actions' commands (nil: every action is
	// refused). The console's own gate decides whether they run.
	Executor Executor
	// Context is the console's: a running command is cancelled with it
	// (nil: context.Background()).
	Context context.Context
	// Commands are what the actions run on the nodes besides vipd's own
	// (zero: DefaultCommands).
	Commands Commands
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
	// CheckEvery is how often each pair's Check runs again (0:
	// DefaultCheckEvery; negative: only at start).
	CheckEvery time.Duration
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
	if o.DrawEvery == 0 {
		o.DrawEvery = drawEvery
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
	if o.Context == nil {
		o.Context = context.Background()
	}
	if o.Commands.Zero() {
		o.Commands = DefaultCommands()
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = DefaultCheckEvery
	}
	return o
}
