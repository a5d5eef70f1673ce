package control

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) warnings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for l := range strings.Lines(s.b.String()) {
		if strings.Contains(l, "level=WARN") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// A client that sends garbage in a loop gets every answer but writes one
// WARN line per reason per interval, the next one counting what was held
// back.
func TestServeRefusalsRateLimited(t *testing.T) {
	var logs syncBuffer
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := newFakeHandler()
	h.actErr = errors.New(`no instance "nosuch"`)
	srv := &Server{Handler: h, Logger: slog.New(slog.NewTextHandler(&logs, nil)), RefusalLogEvery: 10 * time.Second,
		now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	path, _ := startServer(t, srv)
	r := dialRaw(t, path)
	send := func(line string, n int) {
		for range n {
			r.send(line + "\n")
			if l := r.line(); !strings.Contains(l, `"error"`) {
				t.Fatalf("response %q; want an error", l)
			}
		}
	}
	tests := []struct {
		name      string
		line      string
		n         int
		advance   time.Duration
		wantWarns int    // in all, after this step
		wantLast  string // in the last WARN line
	}{
		{"first garbage is logged", "hello", 1, 0, 1, "reason=malformed"},
		{"a loop of garbage is not", "hello", 200, time.Second, 1, "reason=malformed"},
		{"another reason has its own line", `{"cmd":"fault","instance":"nosuch"}`, 3, 0, 2, "reason=failed"},
		{"after the interval, one line with the count", `{"cmd":"nosuch"}`, 1, 10 * time.Second, 3, "suppressed=200"},
		{"and quiet again", "hello", 50, time.Second, 3, "suppressed=200"},
	}
	for _, tt := range tests {
		mu.Lock()
		now = now.Add(tt.advance)
		mu.Unlock()
		send(tt.line, tt.n)
		ws := logs.warnings()
		if len(ws) != tt.wantWarns {
			t.Fatalf("%s: %d WARN lines, want %d:\n%s", tt.name, len(ws), tt.wantWarns, strings.Join(ws, "\n"))
		}
		if !strings.Contains(ws[len(ws)-1], tt.wantLast) {
			t.Errorf("%s: last WARN %q, want %q in it", tt.name, ws[len(ws)-1], tt.wantLast)
		}
	}
	if got := srv.Stats().BadRequests; got != 252 {
		t.Errorf("BadRequests = %d, want 252: the counter counts every refusal", got)
	}
}
