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
	// Status returns a snapshot of the node.
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
			log.Warn("control request refused", "err", err)
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
			log.Warn("control request refused", "err", err)
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
			s.watch(ctx, c, br, log)
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
		log.Warn("control request failed", "err", err)
		return Response{Error: err.Error()}
	}
	return Response{OK: true}
}

// watch streams events to c: the snapshot, then the handler's events, until
// the client closes or ctx is done. The handler's channel is drained here
// into a bounded queue and written from another goroutine, so a client
// that does not read never holds the daemon up: when the queue is full the
// client gets an error event after what is queued, and is disconnected.
func (s *Server) watch(ctx context.Context, c net.Conn, br *bufio.Reader, log *slog.Logger) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snap, events, err := s.Handler.Watch(ctx)
	if err != nil {
		log.Warn("control watch refused", "err", err)
		s.respond(c, Response{Error: fmt.Sprintf("failed to watch: %v", err)})
		return
	}
	s.watchers.Add(1)
	defer s.watchers.Add(-1)
	log.Debug("control watch started")

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
			select {
			case q <- ev:
			default:
				slow("queue full")
				final = &Event{Type: EventError, Time: time.Now(),
					Error: fmt.Sprintf("watch client too slow (%d events behind): disconnecting: reconnect for a fresh snapshot", cap(q))}
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
