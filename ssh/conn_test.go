package ssh

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/vipkit/vip/ssh/sshtest"
)

func TestKeepAlive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cut  func(*sshtest.Server, *Client)
	}{
		{"server stops answering", func(s *sshtest.Server, _ *Client) { s.Stall() }},
		{"connection closed", func(_ *sshtest.Server, c *Client) { c.client.Conn.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := bound(t, 20*time.Second)
			e := newEnv(t, sshtest.Options{Handler: echo("ok")})
			cfg := e.config(t, "root")
			cfg.KeepAlive, cfg.KeepAliveMax = 100*time.Millisecond, 3
			c := e.dial(t, ctx, cfg)

			done := make(chan error, 1)
			go func() { done <- c.KeepAlive(ctx) }()
			// Healthy for a while: keepalives are answered.
			select {
			case err := <-done:
				t.Fatalf("KeepAlive on a healthy link = %v", err)
			case <-time.After(300 * time.Millisecond):
			}

			broke := time.Now()
			tt.cut(e.srv, c)
			select {
			case err := <-done:
				if !errors.Is(err, ErrConnLost) {
					t.Fatalf("KeepAlive = %v, want ErrConnLost", err)
				}
				// 3 misses at 100ms, plus slack for -race on a busy machine.
				if d := time.Since(broke); d > 2*time.Second {
					t.Errorf("took %s to notice", d)
				}
				t.Logf("noticed after %s: %v", time.Since(broke).Round(time.Millisecond), err)
			case <-ctx.Done():
				t.Fatal("KeepAlive never noticed")
			}
			select {
			case <-c.Done():
			case <-ctx.Done():
				t.Fatal("client not closed after the link died")
			}
			e.srv.Resume()
		})
	}
}

func TestConnReconnects(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 30*time.Second)
	e := newEnv(t, sshtest.Options{Handler: echo("ok")})
	cfg := e.config(t, "root")
	cfg.KeepAlive, cfg.KeepAliveMax = 100*time.Millisecond, 3
	cfg.Timeout = 300 * time.Millisecond
	cfg.Reconnect = Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}
	conn := New(cfg)

	if _, err := conn.Exec(ctx, "x"); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Exec before Run = %v, want ErrDisconnected", err)
	}

	rctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- conn.Run(rctx) }()
	defer func() {
		stop()
		if err := <-ran; err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
		last := <-conn.Updates()
		if _, open := <-conn.Updates(); open || last.Connected || !errors.Is(last.LastErr, context.Canceled) {
			t.Errorf("after Run: last update %+v, channel open %v", last, open)
		}
	}()

	// wait reads Updates until one satisfies ok.
	wait := func(what string, ok func(State) bool) State {
		t.Helper()
		for {
			select {
			case s, open := <-conn.Updates():
				if !open {
					t.Fatalf("Updates closed while waiting until %s", what)
				}
				t.Logf("state: %v", s)
				if ok(s) {
					return s
				}
			case <-ctx.Done():
				t.Fatalf("never %s; last state %v", what, conn.State())
			}
		}
	}

	up := wait("connected", func(s State) bool { return s.Connected })
	if out, err := conn.Exec(ctx, "x"); err != nil || string(out) != "ok" {
		t.Fatalf("Exec = %q, %v", out, err)
	}

	stalled := time.Now()
	e.srv.Stall()
	down := wait("disconnected", func(s State) bool { return !s.Connected })
	if !errors.Is(down.LastErr, ErrConnLost) || down.Since.Before(stalled) || !down.Since.After(up.Since) {
		t.Errorf("down state = %+v, want ErrConnLost since after %v", down, stalled)
	}
	start := time.Now()
	_, err := conn.Exec(ctx, "x")
	if !errors.Is(err, ErrDisconnected) || time.Since(start) > 100*time.Millisecond {
		t.Errorf("Exec while down = %v after %s, want ErrDisconnected at once", err, time.Since(start))
	}

	// Redials time out against the stalled server, backing off.
	retrying := wait("retrying", func(s State) bool { return s.Attempt >= 2 })
	if !retrying.Since.Equal(down.Since) {
		t.Errorf("Since moved while retrying: %v, then %v", down.Since, retrying.Since)
	}
	e.srv.Resume()
	back := wait("reconnected", func(s State) bool { return s.Connected })
	if s := conn.State(); !s.Connected || s.Attempt != 0 || s.LastErr != nil || !s.Since.Equal(back.Since) {
		t.Errorf("State() = %+v after reconnecting", s)
	}
	if out, err := conn.Exec(ctx, "x"); err != nil || string(out) != "ok" {
		t.Fatalf("Exec after reconnect = %q, %v", out, err)
	}
	t.Logf("down for %s", back.Since.Sub(down.Since).Round(time.Millisecond))
}

func TestConnStopsOnChangedKey(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 20*time.Second)
	e := newEnv(t, sshtest.Options{Handler: echo("ok")})
	writeFile(t, e.knownHosts(), knownhosts.Line([]string{knownhosts.Normalize(e.srv.Addr())}, newKey(t).pub())+"\n")
	cfg := e.config(t, "root")
	cfg.Reconnect = Backoff{Min: 10 * time.Millisecond, Max: 10 * time.Millisecond}
	conn := New(cfg)
	ran := runConn(t, ctx, conn)

	s := nextState(t, ctx, conn)
	var changed *HostKeyChangedError
	if s.Connected || s.Attempt != 1 || !errors.As(s.LastErr, &changed) {
		t.Fatalf("state %+v, want *HostKeyChangedError", s)
	}
	// No redial on its own, however short the backoff.
	select {
	case s := <-conn.Updates():
		t.Fatalf("redialled by itself: %+v", s)
	case err := <-ran:
		t.Fatalf("Run = %v, want it to wait for Redial", err)
	case <-time.After(200 * time.Millisecond):
	}
	// The operator fixed known_hosts and asks: it connects, the backoff
	// started over.
	writeFile(t, e.knownHosts(), e.srv.KnownHostsLine())
	conn.Redial(nil)
	if s := nextState(t, ctx, conn); !s.Connected {
		t.Fatalf("state %+v after Redial, want connected", s)
	}
	if err := conn.Run(ctx); err == nil {
		t.Error("second Run succeeded")
	}
}

// An unknown key is refused by the automatic dials (no Confirm), and asked
// about on the dial an operator asked for.
func TestConnRedialConfirms(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 20*time.Second)
	e := newEnv(t, sshtest.Options{Handler: echo("ok")})
	writeFile(t, e.knownHosts(), "")
	conn := New(e.config(t, "root"))
	runConn(t, ctx, conn)
	if s := nextState(t, ctx, conn); s.Connected || !errors.Is(s.LastErr, ErrHostKeyUnknown) {
		t.Fatalf("state %+v, want ErrHostKeyUnknown", s)
	}
	var asked int
	conn.Redial(func(context.Context, HostKeyPrompt) bool { asked++; return true })
	if s := nextState(t, ctx, conn); !s.Connected || asked != 1 {
		t.Fatalf("state %+v after Redial, asked %d times; want connected after one question", s, asked)
	}
	if kh := readFile(t, e.knownHosts()); strings.Count(kh, "\n") != 1 {
		t.Errorf("known_hosts = %q, want the one line added", kh)
	}
}

// Redial ends the backoff's wait and starts it over; on a link that is up
// it closes it and dials again.
func TestConnRedial(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 20*time.Second)
	e := newEnv(t, sshtest.Options{Handler: echo("ok")})
	cfg := e.config(t, "root")
	cfg.Reconnect = Backoff{Min: time.Hour, Max: time.Hour}
	var refuse atomic.Bool
	refuse.Store(true)
	var nd net.Dialer
	cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if refuse.Load() {
			return nil, errors.New("connection refused")
		}
		return nd.DialContext(ctx, network, addr)
	}
	conn := New(cfg)
	runConn(t, ctx, conn)
	if s := nextState(t, ctx, conn); s.Connected || s.Attempt != 1 {
		t.Fatalf("state %+v, want the first attempt failed", s)
	}
	conn.Redial(nil) // an hour early
	if s := nextState(t, ctx, conn); s.Connected || s.Attempt != 1 {
		t.Fatalf("state %+v after Redial, want attempt 1 again (the backoff reset)", s)
	}
	refuse.Store(false)
	conn.Redial(nil)
	up := nextState(t, ctx, conn)
	if !up.Connected {
		t.Fatalf("state %+v, want connected", up)
	}
	conn.Redial(nil)
	if s := nextState(t, ctx, conn); s.Connected || !errors.Is(s.LastErr, ErrConnLost) {
		t.Fatalf("state %+v after Redial while up, want the link closed", s)
	}
	if s := nextState(t, ctx, conn); !s.Connected || !s.Since.After(up.Since) {
		t.Fatalf("state %+v, want connected again", s)
	}
}

// runConn runs conn until the test ends.
func runConn(t *testing.T, ctx context.Context, conn *Conn) <-chan error {
	t.Helper()
	rctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- conn.Run(rctx) }()
	t.Cleanup(func() {
		stop()
		<-ran
	})
	return ran
}

func nextState(t *testing.T, ctx context.Context, conn *Conn) State {
	t.Helper()
	select {
	case s, ok := <-conn.Updates():
		if !ok {
			t.Fatal("Updates closed")
		}
		return s
	case <-ctx.Done():
		t.Fatalf("no state; last %+v", conn.State())
	}
	return State{}
}
