package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
)

// fakeVipd is a daemon as the control socket sees it: one instance, as
// master, and no events but the statuses the server makes.
type fakeVipd struct{ hub control.Hub }

func (f *fakeVipd) Status() control.Status {
	now := time.Now()
	return control.Status{
		RouterID: "lb1", Hostname: "lb1", VipdVersion: "test", Time: now, PID: 42,
		Instances: []control.Instance{{
			Name: "VI_1", Interface: "eth0", VRID: 60, Version: 2, State: control.StateMaster,
			BasePriority: 100, EffectivePriority: 100, VIPs: []string{"198.51.100.100/24"}, VIPPresent: true,
			LastAdvert: now.Add(-313 * time.Millisecond), LastAdvertAge: control.Millis(313 * time.Millisecond),
			Stats: control.Stats{AdvertRcvd: 5, AdvertSent: 7},
		}},
	}
}

func (f *fakeVipd) Watch(ctx context.Context) (control.Status, <-chan control.Event, error) {
	return f.Status(), f.hub.Subscribe(ctx), nil
}

func (f *fakeVipd) Fault(context.Context, control.Request) error  { return nil }
func (f *fakeVipd) Resume(context.Context, control.Request) error { return nil }

// serve serves a fakeVipd until the test ends and returns its socket.
func serve(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vc") // a socket path must be short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "vipd.sock")
	ln, err := control.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		control.Serve(ctx, ln, &fakeVipd{}, nil)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return path
}

// lines is a Writer that says when it holds n lines.
type lines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	n    int
	full chan struct{}
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if strings.Count(l.buf.String(), "\n") >= l.n && l.full != nil {
		close(l.full)
		l.full = nil
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestWatchUsage(t *testing.T) {
	tests := []struct {
		cmd  string
		args []string
		want string
	}{
		{"watch", []string{"--status-every", "-1s"}, "--status-every -1s: want 0 to 1h0m0s"},
		{"watch", []string{"--status-every", "2h"}, "--status-every 2h0m0s: want 0 to 1h0m0s"},
		{"watch", []string{"--status-every", "soon"}, `invalid value "soon" for flag -status-every`},
		{"status", []string{"--status-every", "1s"}, "flag provided but not defined: -status-every"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{tt.cmd}, tt.args...), " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), tt.cmd, tt.args, Env{Stdout: &stdout, Stderr: &stderr, Socket: "/nonexistent"})
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}

// `vipd watch --status-every` prints the snapshot, then statuses, as JSON
// documents or as lines for people.
func TestWatchStatusEvery(t *testing.T) {
	tests := []struct {
		name  string
		json  bool
		check func(t *testing.T, line string) // each line after the snapshot's
	}{
		{"json", true, func(t *testing.T, line string) {
			ev, err := control.NewEventDecoder(strings.NewReader(line)).Next()
			if err != nil || ev.Type != control.EventStatus || ev.Status.Instances[0].State != control.StateMaster {
				t.Errorf("line %q: %+v, %v; want a status event", line, ev, err)
			}
		}},
		{"human", false, func(t *testing.T, line string) {
			const want = " VI_1: MASTER, VIP here: yes, last advert 313ms ago, adverts in 5 out 7"
			if !strings.HasSuffix(line, want) {
				t.Errorf("line %q; want it to end in %q", line, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := serve(t)
			full := make(chan struct{})
			out := &lines{n: 3, full: full}
			var stderr bytes.Buffer
			args := []string{"--status-every", "100ms", "-socket", path}
			if tt.json {
				args = append(args, "--json")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan int, 1)
			go func() { done <- Run(ctx, "watch", args, Env{Stdout: out, Stderr: &stderr}) }()
			select {
			case <-full:
			case code := <-done:
				t.Fatalf("watch ended with %d: %s", code, stderr.String())
			case <-time.After(10 * time.Second):
				t.Fatalf("no 3 lines within 10s: %q", out.String())
			}
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("exit %d after cancel: %s", code, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("watch did not end within 10s of cancel")
			}
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if tt.json && !strings.Contains(got[0], `"type":"snapshot"`) {
				t.Errorf("first line %q; want the snapshot", got[0])
			}
			for _, line := range got[1:] {
				tt.check(t, line)
			}
		})
	}
}
