package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrDisconnected is wrapped by Conn's Exec and Stream while there is no
// connection, so a UI shows the link is down instead of waiting.
var ErrDisconnected = errors.New("not connected")

// Backoff paces reconnection attempts: the first retry waits Min, each next
// one twice as long, up to Max, each shortened by up to a fifth at random
// so that consoles restarted together do not redial in step.
type Backoff struct {
	Min time.Duration // default 500ms
	Max time.Duration // default 30s
}

func (b Backoff) delay(attempt int) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 500 * time.Millisecond
	}
	if hi <= 0 {
		hi = 30 * time.Second
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d - rand.N(d/5+1)
}

// State is the health of a Conn's link, for a UI to show.
type State struct {
	Connected bool
	// Since is when the link came up, or when it went down (when Run
	// started, if it never came up).
	Since time.Time
	// LastErr is why the link is down; nil while connected.
	LastErr error
	// Attempt counts failed dials since the link was last up.
	Attempt int
}

func (s State) String() string {
	since := s.Since.Format("15:04:05")
	if s.Connected {
		return "connected since " + since
	}
	msg := "disconnected since " + since
	if s.Attempt > 0 {
		msg += fmt.Sprintf(" (attempt %d)", s.Attempt)
	}
	if s.LastErr != nil {
		msg += ": " + s.LastErr.Error()
	}
	return msg
}

// Conn keeps a connection to one target up. Its Exec and Stream fail at once
// with ErrDisconnected while the link is down. Create it with New, then call
// Run.
type Conn struct {
	cfg     Config
	dial    func(context.Context, Config) (*Client, error)
	updates chan State
	wake    chan struct{} // Redial's signal to Run; holds at most one

	mu      sync.Mutex
	client  *Client
	state   State
	running bool
	redial  *redialReq // asked for by Redial, not yet taken by Run
}

// redialReq is one Redial: the Confirm for its dial (nil: Config's).
type redialReq struct {
	confirm func(context.Context, HostKeyPrompt) bool
}

// New returns a Conn for cfg; nothing happens until Run.
func New(cfg Config) *Conn {
	return &Conn{
		cfg:     cfg,
		dial:    Dial,
		updates: make(chan State, 1),
		wake:    make(chan struct{}, 1),
		state:   State{Since: time.Now()},
	}
}

// Redial makes Run dial again now, as an operator's "reconnect" asks: the
// wait between attempts ends and the backoff starts over. A link that is up
// is closed first (a stalled link takes keepalives to notice). After an
// error retrying cannot fix (a changed or untrusted host key) Run dials
// again only when Redial is called. confirm, if not nil, replaces
// Config.Confirm for that one dial, so that an operator who asked can be
// shown an unknown host key while automatic redials refuse it.
func (c *Conn) Redial(confirm func(context.Context, HostKeyPrompt) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.redial = &redialReq{confirm: confirm}
	if c.client != nil {
		c.client.Close() // Run's KeepAlive returns, and Run dials
	}
	select {
	case c.wake <- struct{}{}:
	default: // a wake is pending already
	}
}

// takeRedial returns the config of the next dial and whether an operator
// asked for it.
func (c *Conn) takeRedial() (Config, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg, r := c.cfg, c.redial
	if r == nil {
		return cfg, false
	}
	c.redial = nil
	select {
	case <-c.wake: // this dial answers it
	default:
	}
	if r.confirm != nil {
		cfg.Confirm = r.confirm
	}
	return cfg, true
}

// State returns the current state of the link.
func (c *Conn) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Updates delivers state changes, and is closed when Run returns. It holds
// only the latest: a reader that falls behind skips to the newest state
// rather than blocking Run. It is meant for one reader.
func (c *Conn) Updates() <-chan State { return c.updates }

func (c *Conn) setState(s State, client *Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state, c.client = s, client
	if client != nil && c.redial != nil {
		// Asked for while this dial was under way: it is answered. (One
		// asked for from now on closes client.)
		c.redial = nil
		select {
		case <-c.wake:
		default:
		}
	}
	select {
	case <-c.updates:
	default:
	}
	c.updates <- s // cannot block: senders hold mu and the slot is free
}

// Run connects and keeps the connection up until ctx is done, then closes
// it and returns nil. After an error that retrying cannot fix (a changed or
// untrusted host key) it stops redialling, the State saying why, until
// Redial is called.
func (c *Conn) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return errors.New("ssh: Conn.Run called twice")
	}
	c.running = true
	since := c.state.Since
	c.mu.Unlock()
	defer close(c.updates) // only Run sends
	log := c.cfg.Logger
	if log == nil {
		log = discard
	}

	attempt := 0
	for {
		cfg, asked := c.takeRedial()
		if asked {
			attempt = 0 // the operator's dial starts the backoff over
		}
		client, err := c.dial(ctx, cfg)
		if ctx.Err() != nil {
			if client != nil {
				client.Close()
			}
			c.setState(State{Since: time.Now(), LastErr: ctx.Err(), Attempt: attempt}, nil)
			return nil
		}
		if err != nil {
			attempt++
			c.setState(State{Since: since, LastErr: err, Attempt: attempt}, nil)
			if !c.wait(ctx, attempt, err) {
				c.setState(State{Since: since, LastErr: ctx.Err(), Attempt: attempt}, nil)
				return nil
			}
			continue
		}

		attempt = 0
		c.setState(State{Connected: true, Since: time.Now()}, client)
		err = client.KeepAlive(ctx)
		client.Close()
		since = time.Now()
		if err == nil { // ctx done
			c.setState(State{Since: since, LastErr: ctx.Err()}, nil)
			return nil
		}
		log.Warn("connection lost", "target", c.cfg.Target, "err", err)
		c.setState(State{Since: since, LastErr: err}, nil)
	}
}

// wait waits after the attempt-th failed dial, which failed with err,
// until the backoff's delay is over or Redial is called; it reports false
// when ctx is done first. After an error that retrying cannot fix only
// Redial ends it.
func (c *Conn) wait(ctx context.Context, attempt int, err error) bool {
	log := c.cfg.Logger
	if log == nil {
		log = discard
	}
	var retry <-chan time.Time // nil: only Redial dials again
	if permanent(err) {
		log.Warn("connect failed; not redialling until asked", "target", c.cfg.Target, "err", err)
	} else {
		d := c.cfg.Reconnect.delay(attempt)
		log.Warn("connect failed", "target", c.cfg.Target, "attempt", attempt, "retry_in", d, "err", err)
		t := time.NewTimer(d)
		defer t.Stop()
		retry = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-retry:
	case <-c.wake: // takeRedial takes the request
	}
	return true
}

// permanent reports errors that retrying will not fix without a person.
func permanent(err error) bool {
	var changed *HostKeyChangedError
	return errors.As(err, &changed) || errors.Is(err, ErrHostKeyUnknown)
}

func (c *Conn) current() (*Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		s := c.state
		err := fmt.Errorf("%s: %w since %s", c.cfg.Target, ErrDisconnected, s.Since.Format("15:04:05"))
		if s.LastErr != nil {
			err = fmt.Errorf("%w: %v", err, s.LastErr)
		}
		return nil, err
	}
	return c.client, nil
}

// Exec is Client.Exec on the current connection.
func (c *Conn) Exec(ctx context.Context, cmd string) ([]byte, error) {
	client, err := c.current()
	if err != nil {
		return nil, err
	}
	return client.Exec(ctx, cmd)
}

// Stream is Client.Stream on the current connection. The stream ends with
// an error when the connection is lost; stream again once State says
// Connected.
func (c *Conn) Stream(ctx context.Context, cmd string) (io.ReadCloser, error) {
	client, err := c.current()
	if err != nil {
		return nil, err
	}
	return client.Stream(ctx, cmd)
}
