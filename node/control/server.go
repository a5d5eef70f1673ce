package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Handler is what Serve needs from the daemon. Its methods are called from
// many connections at once.
type Handler interface {
	// Status returns a snapshot of the node. Watches that ask for status
	// events (Request.StatusEvery) call it too: periodically, and after
	// each transition until it shows the transition's new state.
	Status() Status

	// Watch returns a snapshot and the events that follow it, until ctx is
	// done. No change after the snapshot may be missing from the events
	// (subscribe, then take the snapshot). Sending must never block the
	// daemon: close the channel to cut off a watcher that falls behind.
	// Hub does both.
	Watch(ctx context.Context) (Status, <-chan Event, error)

	// Fault puts req.Instance ("" = every instance) in FAULT, giving its
	// VIPs up; Resume brings it back as BACKUP. They return once the
	// request is carried out or refused (unknown instance, ...); ctx bounds
	// them. req.Peer says which process asked, req.By who it says it is.
	// A Handler usually publishes an EventAction.
	Fault(ctx context.Context, req Request) error
	Resume(ctx context.Context, req Request) error
}

// Defaults of Server.
const (
	DefaultWatchBuffer    = 256
	DefaultWriteTimeout   = 5 * time.Second
	DefaultIdleTimeout    = time.Minute
	DefaultRequestTimeout = 10 * time.Second
)

// Server serves the control protocol. Zero values take the defaults.
type Server struct {
	Handler Handler      // required
	Logger  *slog.Logger // nil discards

	// WatchBuffer is how many events may wait for a slow watch client
	// before it is sent an error event and disconnected.
	WatchBuffer int
	// WriteTimeout bounds writing one line; a watch client that does not
	// read for that long is disconnected.
	WriteTimeout time.Duration
	// IdleTimeout closes a connection that sends no request for that long.
	IdleTimeout time.Duration
	// RequestTimeout bounds Handler.Fault and Handler.Resume.
	RequestTimeout time.Duration
	// RefusalLogEvery is the least time between two WARN lines for
	// refused requests of one reason (malformed, too long, failed, watch
	// refused); the lines in between are counted in the next.
	RefusalLogEvery time.Duration

	now      func() time.Time // the clock of the refusal log; nil is time.Now
	refusals refusalLog

	conns, bad, slow atomic.Uint64
	watchers         atomic.Int64
}

// ServerStats are a Server's counters.
type ServerStats struct {
	Connections  uint64 // accepted
	BadRequests  uint64 // refused as malformed
	Watchers     int64  // watching now
	SlowWatchers uint64 // disconnected for not keeping up
}

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		Connections:  s.conns.Load(),
		BadRequests:  s.bad.Load(),
		Watchers:     s.watchers.Load(),
		SlowWatchers: s.slow.Load(),
	}
}

// Serve serves the control protocol on ln with a default Server.
func Serve(ctx context.Context, ln net.Listener, h Handler, log *slog.Logger) error {
	s := &Server{Handler: h, Logger: log}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx is done, one goroutine each.
// When ctx is done it closes ln and every connection, waits for their
// goroutines and returns nil. It returns an error only if ln is closed
// under it; other accept errors (out of file descriptors) are logged and
// retried with a backoff, as the daemon must not die of them.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: runs last
	defer cancel()
	defer ln.Close()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	log := s.log()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("failed to accept control connections on %s: %w", ln.Addr(), err)
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			log.Warn("failed to accept control connection; retrying", "err", err, "delay", delay)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
			}
			continue
		}
		delay = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, c)
		}()
	}
}

// refused logs a refused request, rate-limited per reason.
func (s *Server) refused(log *slog.Logger, reason, msg string, args ...any) {
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	s.refusals.warn(log, now(), orDefault(s.RefusalLogEvery, DefaultRefusalLogEvery), reason, msg, args...)
}

func (s *Server) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// serveConn answers requests on c until the client closes, idles, asks to
// watch, or ctx is done.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	s.conns.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	peer := peerOf(c)
	log := s.log().With("peer", peer.String())
	log.Debug("control connection")
	br := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(orDefault(s.IdleTimeout, DefaultIdleTimeout)))
		line, err := readLine(br, MaxLineSize, false)
		if errors.Is(err, ErrLineTooLong) {
			s.bad.Add(1)
			s.refused(log, "too long", "control request refused", "err", err)
			s.respond(c, Response{Error: "request " + err.Error()})
			return
		}
		if err != nil {
			return // EOF, idle, or shutting down: nobody to answer
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		req, err := parseRequest(line)
		if err != nil {
			s.bad.Add(1)
			s.refused(log, "malformed", "control request refused", "err", err)
			if s.respond(c, Response{Error: err.Error()}) != nil {
				return
			}
			continue
		}
		req.Peer = peer
		switch req.Cmd {
		case CmdStatus:
			err = s.respond(c, s.Handler.Status())
		case CmdFault, CmdResume:
			err = s.respond(c, s.act(ctx, req, log))
		case CmdWatch:
			s.watch(ctx, c, br, req, log)
			return
		}
		if err != nil {
			return
		}
	}
}

func (s *Server) act(ctx context.Context, req Request, log *slog.Logger) Response {
	ctx, cancel := context.WithTimeout(ctx, orDefault(s.RequestTimeout, DefaultRequestTimeout))
	defer cancel()
	log = log.With("cmd", req.Cmd, "instance", req.Instance, "reason", req.Reason, "by", req.By)
	log.Info("control request")
	var err error
	if req.Cmd == CmdFault {
		err = s.Handler.Fault(ctx, req)
	} else {
		err = s.Handler.Resume(ctx, req)
	}
	if err != nil {
		s.refused(log, "failed", "control request failed", "err", err)
		return Response{Error: err.Error()}
	}
	return Response{OK: true}
}

// watch streams events to c: the snapshot, then the handler's events, until
// the client closes or ctx is done. The handler's channel is drained here
// into a bounded queue and written from another goroutine, so a client
// that does not read never holds the daemon up: when the queue is full the
// client gets an error event after what is queued, and is disconnected.
// Status events (req.StatusEvery) join the same queue, in order.
func (s *Server) watch(ctx context.Context, c net.Conn, br *bufio.Reader, req Request, log *slog.Logger) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snap, events, err := s.Handler.Watch(ctx)
	if err != nil {
		s.refused(log, "watch refused", "control watch refused", "err", err)
		s.respond(c, Response{Error: fmt.Sprintf("failed to watch: %v", err)})
		return
	}
	s.watchers.Add(1)
	defer s.watchers.Add(-1)
	log.Debug("control watch started", "status_every", req.StatusEvery.Duration())

	var slowOnce sync.Once
	slow := func(why string) {
		slowOnce.Do(func() {
			s.slow.Add(1)
			log.Warn("control watch client too slow; disconnecting", "why", why)
		})
	}

	// The client sends nothing more; reading tells us when it hangs up.
	c.SetReadDeadline(time.Time{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		io.Copy(io.Discard, br)
		cancel()
	}()

	q := make(chan Event, orDefault(s.WatchBuffer, DefaultWatchBuffer))
	q <- Event{Type: EventSnapshot, Time: orNow(snap.Time), Snapshot: &snap}
	var final *Event // the error event that ends the stream, if any
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		defer cancel()
		for ev := range q {
			if err := s.sendEvent(c, ev, orDefault(s.WriteTimeout, DefaultWriteTimeout)); err != nil {
				if ctx.Err() == nil && isTimeout(err) {
					slow("write timed out")
				}
				return
			}
		}
		if final != nil {
			s.sendEvent(c, *final, time.Second)
		}
	}()
	enqueue := func(ev Event) bool {
		select {
		case q <- ev:
			return true
		default:
			slow("queue full")
			final = &Event{Type: EventError, Time: time.Now(),
				Error: fmt.Sprintf("watch client too slow (%d events behind): disconnecting: reconnect for a fresh snapshot", cap(q))}
			return false
		}
	}

	sts := newStatusTaker(ctx, s.Handler, req.StatusEvery.Duration())
	defer sts.stop()
drain:
	for {
		select {
		case <-ctx.Done():
			break drain
		case ev, ok := <-events:
			if !ok {
				if ctx.Err() == nil {
					final = &Event{Type: EventError, Time: time.Now(),
						Error: "vipd ended the event stream: reconnect for a fresh snapshot"}
				}
				break drain
			}
			ev.Time = orNow(ev.Time)
			if !enqueue(ev) {
				break drain
			}
			if ev.Type == EventTransition {
				sts.transition(ev)
			}
		case <-sts.tick:
			sts.take()
		case <-sts.retry:
			sts.retry = nil
			sts.take()
		case st := <-sts.done:
			if !sts.taken(st, log) {
				continue
			}
			if !enqueue(Event{Type: EventStatus, Time: orNow(st.Time), Status: &st}) {
				break drain
			}
		}
	}
	close(q) // publishes final to the writer
	<-writerDone
	cancel()
	c.Close()
	<-readerDone
	log.Debug("control watch ended")
}

// How long a status after a transition may wait for the Status to show it.
// vipd's engine (vrrp.Instance) adds or removes the VIPs before it reports
// the transition, so a Status taken after the event reads the VIPs as they
// now are; but the engine publishes the state that Status reads only after
// its whole step, so that Status may still show the old state for a few
// microseconds. It is taken again after 1, 2, 4 ... 32 ms (63 ms in all),
// then sent as it is: a handler that never shows the new state (it lost an
// event, say) must not stop the statuses.
const (
	settleDelay = time.Millisecond
	settleTries = 6
)

// statusTaker makes a watch's status events: Handler.Status every period
// and after each transition, one at a time, on a goroutine of its own so
// that the watch goes on draining the handler's events meanwhile. Its
// fields are the watch loop's: only that goroutine touches them.
type statusTaker struct {
	ctx  context.Context
	h    Handler
	tick <-chan time.Time // every period; nil when no status is wanted
	// done delivers a Status that take asked for.
	done   chan Status
	retry  <-chan time.Time // the next try at a status that lagged
	ticker *time.Ticker
	wg     sync.WaitGroup

	on    bool // statuses were asked for
	busy  bool // a Status is being taken
	again bool // take another once it is back
	// pending are the transitions sent since the last status event; the
	// next one must show them.
	pending []Event
	tries   int
}

func newStatusTaker(ctx context.Context, h Handler, every time.Duration) *statusTaker {
	t := &statusTaker{ctx: ctx, h: h, done: make(chan Status)}
	if every > 0 {
		t.on = true
		t.ticker = time.NewTicker(max(every, MinStatusEvery))
		t.tick = t.ticker.C
	}
	return t
}

// stop waits for a Status being taken; the watch's context is done.
func (t *statusTaker) stop() {
	if t.ticker != nil {
		t.ticker.Stop()
	}
	t.wg.Wait()
}

// transition asks for a status that shows ev, the transition just sent.
func (t *statusTaker) transition(ev Event) {
	if !t.on {
		return
	}
	t.pending = append(t.pending, ev)
	t.tries = 0
	t.take()
}

func (t *statusTaker) take() {
	if t.busy {
		t.again = true
		return
	}
	t.busy = true
	t.wg.Go(func() {
		st := t.h.Status()
		select {
		case t.done <- st:
		case <-t.ctx.Done():
		}
	})
}

// taken handles a Status that came back and says whether to send it. One
// that lags behind a transition already sent is taken again shortly.
func (t *statusTaker) taken(st Status, log *slog.Logger) bool {
	t.busy = false
	defer func() {
		if t.again {
			t.again = false
			t.take()
		}
	}()
	if lag := lagging(st, t.pending); lag != nil {
		if t.tries < settleTries {
			t.tries++
			if t.retry == nil {
				t.retry = time.After(settleDelay << (t.tries - 1))
			}
			return false
		}
		log.Debug("status still behind a transition; sending it as it is",
			"instance", lag.Instance, "to", lag.To, "tries", t.tries)
	}
	t.pending, t.tries = nil, 0
	return true
}

// lagging returns a transition of trs that st does not show yet: the
// instance is in another state and has not changed since. Nil if none.
func lagging(st Status, trs []Event) *Event {
	for i := range trs {
		tr := &trs[i]
		for _, in := range st.Instances {
			if in.Name == tr.Instance && in.State != tr.To && !in.LastTransition.After(tr.Time) {
				return tr
			}
		}
	}
	return nil
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// respond writes one response document. A document that cannot be encoded
// whole becomes an error response rather than a broken line.
func (s *Server) respond(c net.Conn, v any) error {
	b, err := encodeLine(v)
	if err != nil {
		b, _ = encodeLine(Response{Error: err.Error()})
	}
	return writeLine(c, b, orDefault(s.WriteTimeout, DefaultWriteTimeout))
}

// sendEvent is respond for events: the failure becomes an error event.
func (s *Server) sendEvent(c net.Conn, ev Event, timeout time.Duration) error {
	b, err := encodeLine(ev)
	if err != nil {
		b, _ = encodeLine(Event{Type: EventError, Time: time.Now(), Instance: ev.Instance, Error: err.Error()})
	}
	return writeLine(c, b, timeout)
}

func encodeLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("failed to encode %T: %w", v, err)
	}
	if len(b) > MaxLineSize {
		return nil, fmt.Errorf("failed to encode %T: %d bytes, more than the 1 MiB a line may hold", v, len(b))
	}
	return append(b, '\n'), nil
}

func writeLine(c net.Conn, b []byte, timeout time.Duration) error {
	c.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.Write(b)
	return err
}
