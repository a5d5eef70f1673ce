package feed

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
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

// Defaults of NodeConfig.
const (
	DefaultStatusEvery = time.Second
	DefaultRetryMin    = time.Second
	DefaultRetryMax    = 30 * time.Second
)

// NodeConfig configures a Node. Zero values take the defaults.
type NodeConfig struct {
	Name   string // the node as the console shows it ("nginx-01")
	Host   string // where it is, for messages ("root@lb1")
	Remote Remote // the link; Node runs it
	Vipd   Vipd

	// StatusEvery is how often vipd sends a status on the watch (`vipd
	// watch --status-every`), besides one right after each transition:
	// counters, advert ages and vip_present stay current with no command
	// run in a loop. Default DefaultStatusEvery; vipd takes at least
	// 100 ms. Negative: none, the events alone (vip_present then stays as
	// the snapshot had it).
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
}

var _ ui.Feed = (*Node)(nil)

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

// streamMsg is a line of the watch, or its end.
type streamMsg struct {
	ev  control.Event
	end bool
	err error
}

// Run runs the link and the watch until ctx is done, then returns nil.
// A link that cannot be fixed by retrying (a changed host key) is reported
// as the node's error, and Run waits for ctx.
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
		failures  int // watches in a row that ended without a snapshot
	)
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()

	startWatch := func() {
		streaming = true
		wg.Go(func() { n.watch(ctx, events) })
	}

	for {
		select {
		case <-ctx.Done():
			return nil

		case st, ok := <-states:
			if !ok {
				states = nil // Run returned; linkErr says why
				continue
			}
			n.send(ctx, ui.Update{Conn: &st})
			connected = st.Connected
			if connected && !streaming && retryC == nil {
				startWatch()
			}

		case err := <-linkErr:
			linkErr = nil
			if err != nil && ctx.Err() == nil {
				n.log.Error("giving up on the link", "err", err)
				n.send(ctx, ui.Update{Err: Explain(n.cfg.Host, err)})
			}

		case m := <-events:
			if !m.end {
				ev := m.ev
				switch ev.Type {
				case control.EventSnapshot:
					failures = 0
				case control.EventStatus:
					// A status as `vipd status` prints it. vipd sends
					// the one after a transition once it shows the
					// transition, and the stream keeps them in order,
					// so none is older than a transition before it.
					n.send(ctx, ui.Update{Status: ev.Status})
					continue
				}
				n.send(ctx, ui.Update{Event: &ev})
				continue
			}
			streaming = false
			if ctx.Err() != nil {
				return nil
			}
			err := Explain(n.cfg.Host, m.err)
			n.log.Warn("watch ended", "err", err)
			if connected || !errors.Is(m.err, ssh.ErrDisconnected) {
				n.send(ctx, ui.Update{Err: err})
			}
			failures++
			wait := n.backoff(failures)
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

// watch streams `vipd watch --json --status-every ...` until it ends, sending each event and
// then the end.
func (n *Node) watch(ctx context.Context, out chan<- streamMsg) {
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
	dec := control.NewEventDecoder(rc)
	for {
		ev, err := dec.Next()
		if err != nil {
			// A line we cannot read may hide a transition: start over
			// from a fresh snapshot rather than go on.
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

func (n *Node) send(ctx context.Context, u ui.Update) {
	select {
	case n.updates <- u:
	case <-ctx.Done():
	}
}
