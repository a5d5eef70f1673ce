package main

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
)

// fakeHandler is a vipd as the control socket sees it.
type fakeHandler struct {
	hub control.Hub
	mu  sync.Mutex
	got []control.Request
}

func (h *fakeHandler) Status() control.Status {
	return control.Status{
		RouterID: "nginx-01", Hostname: "n1", VipdVersion: "test", Time: time.Now(), PID: 42,
		Instances: []control.Instance{{
			Name: "VI_1", Interface: "eth0", VRID: 60, Version: 2, State: control.StateFault,
			BasePriority: 100, VIPs: []string{"198.51.100.100/24"}, FaultReason: "fault requested: drill",
			Master: netip.MustParseAddr("198.51.100.12"), MasterPriority: 100,
		}},
		Nginx: &control.Guard{Name: "nginx", Healthy: true, Verdict: control.VerdictHealthy, Checks: 3},
	}
}

func (h *fakeHandler) Watch(ctx context.Context) (control.Status, <-chan control.Event, error) {
	ch := h.hub.Subscribe(ctx)
	return h.Status(), ch, nil
}

func (h *fakeHandler) Fault(_ context.Context, req control.Request) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, req)
	if req.Instance == "VI_9" {
		return errors.New(`unknown instance "VI_9"`)
	}
	return nil
}

func (h *fakeHandler) Resume(ctx context.Context, req control.Request) error {
	return h.Fault(ctx, req)
}

func serveFake(t *testing.T) (*fakeHandler, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vipd.sock")
	ln, err := control.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	h := &fakeHandler{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		control.Serve(ctx, ln, h, nil)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return h, path
}

func runCLI(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestCLI(t *testing.T) {
	h, sock := serveFake(t)
	missing := filepath.Join(t.TempDir(), "none.sock")

	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string // substrings
	}{
		{"status json", []string{"status", "--json", "-socket", sock}, 0, `"contract":1,"router_id":"nginx-01"`, ""},
		{"status table", []string{"status", "-socket", sock}, 0, "VI_1      eth0       60    FAULT", ""},
		{"status fault reason", []string{"status", "-socket", sock}, 0, "VI_1 FAULT: fault requested: drill", ""},
		{"not running", []string{"status", "-socket", missing}, 1, "", "vipd is not running (nothing listens on " + missing + ")"},
		{"ctl not running", []string{"ctl", "resume", "-socket", missing}, 1, "", "vipd is not running"},
		{"fault", []string{"ctl", "fault", "--reason", "drill", "-i", "VI_1", "--by", "alice", "-socket", sock}, 0, "VI_1: FAULT", ""},
		{"fault refused", []string{"ctl", "fault", "--reason", "x", "-i", "VI_9", "-socket", sock}, 1, "", `unknown instance "VI_9"`},
		{"resume all", []string{"ctl", "resume", "-socket", sock}, 0, "every instance: resumed as BACKUP", ""},
		{"fault without reason", []string{"ctl", "fault", "-socket", sock}, 2, "", "--reason is required"},
		{"ctl without verb", []string{"ctl"}, 2, "", "usage: vipd ctl"},
		{"bad flag", []string{"-nosuch"}, 2, "", "usage: vipd"},
		{"init", []string{"-init"}, 0, "vrrp_instance VI_1 {", ""},
		{"check", []string{"-t", "-f", "../../fixtures/configs/keepalived.conf"}, 0, "silent crash", "test is successful"},
		{"check missing", []string{"-t", "-f", missing}, 1, "", "test failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
				t.Errorf("vipd %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.code, out, errOut)
			}
		})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.got) < 1 || h.got[0].By != "alice" || h.got[0].Reason != "drill" || h.got[0].Peer == nil {
		t.Errorf("requests %+v", h.got)
	}
}

// TestCLIWatch: `vipd watch --json` prints the snapshot, then each event, as
// JSON lines the console decodes.
func TestCLIWatch(t *testing.T) {
	h, sock := serveFake(t)
	var out syncBuffer
	done := make(chan int, 1) // it ends when the server stops, at cleanup
	go func() { done <- run([]string{"watch", "--json", "-socket", sock}, &out, &out) }()
	for h.hub.Watchers() == 0 {
		time.Sleep(time.Millisecond)
	}
	h.hub.Publish(control.Event{Type: control.EventTransition, Instance: "VI_1", From: control.StateMaster, To: control.StateFault, Reason: "drill"})
	for !strings.Contains(out.String(), `"type":"transition"`) {
		time.Sleep(time.Millisecond)
	}
	dec := control.NewEventDecoder(strings.NewReader(out.String()))
	snap, err := dec.Next()
	if err != nil || snap.Type != control.EventSnapshot || snap.Snapshot.RouterID != "nginx-01" {
		t.Errorf("first line: %+v, %v", snap, err)
	}
	ev, err := dec.Next()
	if err != nil || ev.Type != control.EventTransition || ev.To != control.StateFault {
		t.Errorf("second line: %+v, %v", ev, err)
	}
	select {
	case <-done:
		t.Errorf("watch ended early")
	default:
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
