package nodetest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/guard"
)

// The guard's view of the stand-in: the pid file names the running master
// only at the stand-in's own path, its death wakes the watch at once, the
// start command starts it and fails while it is broken.
func TestNginxGuard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		n := NewNginx("nginx-01", "/run/nginx.pid", nil)
		proc, probe, start := n.Guard(config.NginxCheck{URL: "http://127.0.0.1/", PIDFile: "/run/nginx.pid"})
		w := proc.(guard.ExitWatcher)
		defer w.Close()
		if err := w.Check(ctx); err != nil {
			t.Fatalf("Check of a running stand-in: %v", err)
		}
		if err := probe.Probe(ctx); err != nil {
			t.Fatalf("Probe of a running stand-in: %v", err)
		}
		other, _, _ := n.Guard(config.NginxCheck{PIDFile: "/run/other.pid"})
		if err := other.Check(ctx); err == nil || err.Error() != "no pid file /run/other.pid" {
			t.Errorf("Check of another pid file: %v", err)
		}

		n.Break("broken by the test")
		select {
		case <-w.Exited():
		default:
			t.Fatal("the watch did not hear of the master's death at once")
		}
		if err := w.Check(ctx); err == nil || err.Error() != "no pid file /run/nginx.pid" {
			t.Errorf("Check of a stopped stand-in: %v", err)
		}
		if err := probe.Probe(ctx); err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("Probe of a stopped stand-in: %v", err)
		}
		if err := start.Run(ctx, guard.Command{Argv: []string{"systemctl", "start", "nginx"}}); err == nil ||
			err.Error() != "exit status 1: nginx: [emerg] broken by the test" {
			t.Errorf("start of a broken stand-in: %v", err)
		}
		if err := n.Repair(); err != nil || !n.Up() {
			t.Fatalf("Repair: %v, up %v", err, n.Up())
		}
		if err := w.Check(ctx); err != nil {
			t.Errorf("Check after Repair: %v", err)
		}
		n.Stop()
		if err := start.Run(ctx, guard.Command{}); err != nil || !n.Up() {
			t.Errorf("start after Stop: %v, up %v", err, n.Up())
		}
		select {
		case <-w.Exited():
		default:
			t.Error("the watch, armed again by Check, did not hear of the second death")
		}
		if p, _, _ := n.Guard(config.NginxCheck{URL: "http://127.0.0.1/"}); p != nil {
			t.Errorf("a check without pidfile watches %v", p)
		}
	})
}

// The HTTP face: it answers while it runs, refuses connections while it
// is stopped, and the guard GETs it for real when the check's URL is its.
func TestNginxHTTP(t *testing.T) {
	n := NewNginx("nginx-01", "/run/nginx.pid", nil)
	if err := n.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	get := func() (string, error) {
		c := http.Client{Timeout: time.Second}
		r, err := c.Get(n.URL())
		if err != nil {
			return "", err
		}
		defer r.Body.Close()
		b, err := io.ReadAll(r.Body)
		return string(b), err
	}
	if body, err := get(); err != nil || body != "ok nginx-01\n" {
		t.Fatalf("GET: %q, %v", body, err)
	}
	if _, probe, _ := n.Guard(config.NginxCheck{URL: n.URL()}); probe != nil {
		t.Errorf("the guard of its own URL probes %v, want the real GET", probe)
	}
	n.Stop()
	if _, err := get(); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("GET of a stopped stand-in: %v", err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	if body, err := get(); err != nil || body != "ok nginx-01\n" {
		t.Errorf("GET after Start: %q, %v", body, err)
	}
}
