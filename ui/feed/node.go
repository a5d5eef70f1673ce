package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui"
)

// Remote is an SSH link kept up by its Run, as *ssh.Conn is. A Node only
// streams over it: the watch brings statuses too.
type Remote interface {
	Run(ctx context.Context) error
	Updates() <-chan ssh.State
	Stream(ctx context.Context, cmd string) (io.ReadCloser, error)
}

var _ Remote = (*ssh.Conn)(nil)

// redialer is a Remote an operator can reconnect, as *ssh.Conn is.
type redialer interface {
	Redial(confirm func(context.Context, ssh.HostKeyPrompt) bool)
}

var _ redialer = (*ssh.Conn)(nil)

// Defaults of NodeConfig.
const (
	// DefaultStatusEvery is vipd's shortest: the console shows a node
	// that has gone silent as unknown 400 ms after its last word.
	DefaultStatusEvery = control.MinStatusEvery
	DefaultRetryMin    = time.Second
	DefaultRetryMax    = 30 * time.Second
)

// NodeConfig configures a Node. Zero values take the defaults.
type NodeConfig struct {
	Name   string // the node as the console shows it ("nginx-01")
	Host   string // where it is, for messages ("root@lb1")
	Remote Remote // the link; Node runs it
	Vipd   Vipd
	// Keepalived: find out on each watch whether the node runs vipd or
	// keepalived, and read keepalived without an agent (keepalived.go).
	// Off, the node is taken to run vipd.
	Keepalived bool

	// StatusEvery is how often vipd sends a status on the watch (`vipd
	// watch --status-every`), besides one right after each transition:
	// counters, advert ages and vip_present stay current with no command
	// run in a loop, and silence means the node is unknown (the console
	// is told the pace with each snapshot, Update.StatusEvery). Default
	// DefaultStatusEvery; vipd takes at least 100 ms. Negative: none, the
	// events alone (vip_present then stays as the snapshot had it, and a
	// stalled link goes unnoticed until SSH's keepalive drops it).
	StatusEvery time.Duration
	// RetryMin and RetryMax pace restarting a watch that ended while the
	// link is up (vipd restarting, or missing).
	RetryMin, RetryMax time.Duration

	Logger *slog.Logger
}

// Node is one node's feed: a ui.Feed fed by Run.
type Node struct {
	cfg     NodeConfig
	log     *slog.Logger
	updates chan ui.Update
	// keepalivedSeen: the node has run keepalived, so that nothing
	// running there is keepalived stopped, not vipd.
	keepalivedSeen atomic.Bool
}

var (
	_ ui.Feed        = (*Node)(nil)
	_ ui.Reconnecter = (*Node)(nil)
)

// NewNode returns a feed over cfg.Remote. Nothing happens until Run.
func NewNode(cfg NodeConfig) *Node {
	if cfg.StatusEvery == 0 {
		cfg.StatusEvery = DefaultStatusEvery
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(DefaultRetryMax, cfg.RetryMin)
	}
	if cfg.Host == "" {
		cfg.Host = cfg.Name
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Node{cfg: cfg, log: log.With("node", cfg.Name), updates: make(chan ui.Update)}
}

// Node implements ui.Feed.
func (n *Node) Node() string { return n.cfg.Name }

// Updates implements ui.Feed. It is closed when Run returns.
func (n *Node) Updates() <-chan ui.Update { return n.updates }

// Reconnect implements ui.Reconnecter: the link dials now, its backoff
// reset, with confirm asked about an unknown host key; the watch starts
// as soon as the new link is up. A Remote that cannot redial ignores it.
func (n *Node) Reconnect(confirm func(context.Context, ssh.HostKeyPrompt) bool) {
	if r, ok := n.cfg.Remote.(redialer); ok {
		n.log.Info("reconnecting, as the operator asked")
		r.Redial(confirm)
	}
}

// streamMsg is a line of the watch, or its end, or (note) what the
// watch says of the node while it goes on (keepalived stopped).
type streamMsg struct {
	ev   control.Event
	end  bool
	err  error
	note error
}

// Run runs the link and the watch until ctx is done, then returns nil.
// A link that cannot be fixed by retrying (a changed host key) says so in
// its state; a Remote whose Run returns with an error has it reported as
// the node's error, and Run waits for ctx.
func (n *Node) Run(ctx context.Context) error {
	defer close(n.updates)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	linkErr := make(chan error, 1)
	wg.Go(func() { linkErr <- n.cfg.Remote.Run(ctx) })
	states := n.cfg.Remote.Updates()
	events := make(chan streamMsg)

	var (
		connected bool
		streaming bool
		retry     *time.Timer
		retryC    <-chan time.Time
		failures  int       // watches in a row that ended without a snapshot
		watched   bool      // the running watch brought a snapshot
		began     time.Time // when the running watch started
		// shutdown is what the watch said of vipd shutting down ("VI_1
		// went INIT (shutdown)"), the evidence when the watch ends.
		shutdown string
	)
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()

	startWatch := func() {
		streaming, began = true, time.Now()
		wg.Go(func() { n.watch(ctx, events) })
	}

	// out holds what the console has not taken yet. A console that falls
	// behind (busy drawing) gets the newest status, not a backlog of old
	// ones to show as current: a status waiting with nothing after it is
	// replaced by the next. Events are never dropped.
	var out []ui.Update
	send := func(u ui.Update) {
		if last := len(out) - 1; u.Status != nil && last >= 0 && statusOnly(out[last]) && statusOnly(u) {
			out[last] = u
			return
		}
		out = append(out, u)
	}

	for {
		var (
			sendC chan<- ui.Update
			head  ui.Update
		)
		if len(out) > 0 {
			sendC, head = n.updates, out[0]
		}
		select {
		case <-ctx.Done():
			return nil

		case sendC <- head:
			out[0] = ui.Update{}
			out = out[1:]

		case st, ok := <-states:
			if !ok {
				states = nil // Run returned; linkErr says why
				continue
			}
			send(ui.Update{Conn: &st})
			fresh := st.Connected && !connected
			connected = st.Connected
			if fresh && retryC != nil {
				// The backoff is for a watch that fails on a link that
				// is up; a new link (the operator's reconnect, or one
				// back after a loss) is watched at once.
				retry.Stop()
				retryC = nil
			}
			if connected && !streaming && retryC == nil {
				startWatch()
			}

		case err := <-linkErr:
			linkErr = nil
			if err != nil && ctx.Err() == nil {
				n.log.Error("giving up on the link", "err", err)
				send(ui.Update{Err: Explain(n.cfg.Host, err)})
			}

		case m := <-events:
			if m.note != nil {
				send(ui.Update{Err: m.note})
				continue
			}
			if !m.end {
				ev := m.ev
				switch ev.Type {
				case control.EventSnapshot:
					failures, shutdown, watched = 0, "", true
					u := ui.Update{Event: &ev, StatusEvery: max(n.cfg.StatusEvery, 0)}
					if u.StatusEvery > 0 {
						u.StatusEvery = max(u.StatusEvery, control.MinStatusEvery)
					}
					send(u)
					continue
				case control.EventTransition:
					shutdown = ""
					if ev.To == control.StateInit {
						shutdown = fmt.Sprintf("%s went INIT (%s) at %s", ev.Instance, ev.Reason, ev.Time.Format("15:04:05.000"))
					}
				case control.EventStatus:
					// A status as `vipd status` prints it. vipd sends
					// the one after a transition once it shows the
					// transition, and the stream keeps them in order,
					// so none is older than a transition before it.
					send(ui.Update{Status: ev.Status})
					continue
				}
				send(ui.Update{Event: &ev})
				continue
			}
			streaming = false
			if ctx.Err() != nil {
				return nil
			}
			err := Explain(n.cfg.Host, m.err)
			if shutdown != "" && ended(m.err) {
				err = &stoppedError{host: n.cfg.Host, evidence: shutdown + " and its watch ended", err: m.err}
			}
			shutdown = ""
			n.log.Warn("watch ended", "err", err)
			if connected || !errors.Is(m.err, ssh.ErrDisconnected) {
				send(ui.Update{Err: err})
			}
			wait := n.backoff(failures + 1)
			if watched && time.Since(began) >= n.cfg.RetryMin {
				// A watch that ran a while has ended: vipd stopping
				// or restarting. The next one, at once, says which.
				wait = 0
			}
			failures++
			watched = false
			if retry == nil {
				retry = time.NewTimer(wait)
			} else {
				retry.Reset(wait)
			}
			retryC = retry.C

		case <-retryC:
			retryC = nil
			if connected && !streaming {
				startWatch()
			}
		}
	}
}

// watch reads the node until its stream ends, sending each event and then
// the end: keepalived's (watchKeepalived) when the node runs it, else
// vipd's.
func (n *Node) watch(ctx context.Context, out chan<- streamMsg) {
	if n.cfg.Keepalived {
		switch n.watchKeepalived(ctx, out) {
		case kaKeepalived, kaNone:
			return
		}
	}
	n.watchVipd(ctx, out)
}

// watchVipd streams `vipd watch --json --status-every ...` until it ends, sending each event and
// then the end.
func (n *Node) watchVipd(ctx context.Context, out chan<- streamMsg) {
	send := func(m streamMsg) bool {
		select {
		case out <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	rc, err := n.cfg.Remote.Stream(ctx, n.cfg.Vipd.Watch(n.cfg.StatusEvery))
	if err != nil {
		send(streamMsg{end: true, err: err})
		return
	}
	defer rc.Close()
	r := &readErr{r: rc}
	dec := control.NewEventDecoder(r)
	for {
		ev, err := dec.Next()
		if err != nil {
			// A line we cannot read may hide a transition: start over
			// from a fresh snapshot rather than go on.
			var version *control.VersionError
			if err != io.EOF && !errors.As(err, &version) && (r.err == nil || !errors.Is(err, r.err)) {
				err = &unreadableError{host: n.cfg.Host, err: err}
			}
			send(streamMsg{end: true, err: err})
			return
		}
		if !send(streamMsg{ev: ev}) {
			return
		}
	}
}

func (n *Node) backoff(failures int) time.Duration {
	d := n.cfg.RetryMin
	for i := 1; i < failures && d < n.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, n.cfg.RetryMax)
	return d - rand.N(d/5+1)
}

// statusOnly reports whether u is a status and nothing else.
func statusOnly(u ui.Update) bool {
	return u.Status != nil && u.Conn == nil && u.Event == nil && u.Err == nil
}

// readErr remembers the error its reader returned, so that a decoder's
// error can be told apart: the stream failing, or a line that is no
// event.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil {
		r.err = err
	}
	return n, err
}
