package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHandler is a daemon in miniature: a fixed status, a Hub, and a record
// of fault and resume requests.
type fakeHandler struct {
	hub Hub

	mu       sync.Mutex
	status   Status
	stale    []Status // returned, first first, by the next Status calls instead of status
	calls    int      // Status calls
	reqs     []Request
	actErr   error         // returned by Fault and Resume
	watchErr error         // returned by Watch
	block    chan struct{} // if set, Status waits for it to close
}

var _ Handler = (*fakeHandler)(nil)

func newFakeHandler() *fakeHandler {
	st := fullStatus()
	return &fakeHandler{status: st}
}

func (h *fakeHandler) Status() Status {
	h.mu.Lock()
	block := h.block
	h.mu.Unlock()
	if block != nil {
		<-block
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if len(h.stale) > 0 {
		st := h.stale[0]
		h.stale = h.stale[1:]
		return st
	}
	return h.status
}

// setStatus makes st the status, after the stale ones.
func (h *fakeHandler) setStatus(st Status, stale ...Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status, h.stale = st, stale
}

func (h *fakeHandler) statusCalls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

func (h *fakeHandler) Watch(ctx context.Context) (Status, <-chan Event, error) {
	if h.watchErr != nil {
		return Status{}, nil, h.watchErr
	}
	events := h.hub.Subscribe(ctx)
	return h.Status(), events, nil
}

func (h *fakeHandler) Fault(ctx context.Context, req Request) error  { return h.act(req) }
func (h *fakeHandler) Resume(ctx context.Context, req Request) error { return h.act(req) }

func (h *fakeHandler) act(req Request) error {
	h.mu.Lock()
	h.reqs = append(h.reqs, req)
	err := h.actErr
	h.mu.Unlock()
	if err != nil {
		return err
	}
	h.hub.Publish(Event{Type: EventAction, Instance: req.Instance, Action: req.Cmd,
		Reason: req.Reason, By: req.By, Peer: req.Peer})
	return nil
}

func (h *fakeHandler) requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.reqs...)
}

// shortDir returns a temporary directory with a short name: a unix socket
// path must fit in 108 bytes, and t.TempDir's names can be long.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startServer serves srv on a fresh socket until the test ends, and checks
// that Serve then returns nil promptly. stop ends it earlier.
func startServer(t *testing.T, srv *Server) (path string, stop func()) {
	t.Helper()
	path = filepath.Join(shortDir(t), "run", "vipd.sock")
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve returned %v after cancel; want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Serve did not return within 10s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return path, stop
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dial(t *testing.T, path string) *Client {
	t.Helper()
	c, err := Dial(testCtx(t), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawConn is a hand-typed session, as with socat.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, path string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatalf("failed to send %q: %v", s, err)
	}
}

func (r *rawConn) line() string {
	r.t.Helper()
	l, err := r.br.ReadString('\n')
	if err != nil {
		r.t.Fatalf("failed to read a line: %v (got %q)", err, l)
	}
	return l
}

func TestServeStatus(t *testing.T) {
	h := newFakeHandler()
	path, _ := startServer(t, &Server{Handler: h})
	c := dial(t, path)
	for i := range 3 { // several requests on one connection
		got, err := c.Status(testCtx(t))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if want := h.Status(); !reflect.DeepEqual(got, want) {
			t.Fatalf("Status = %+v; want %+v", got, want)
		}
	}
}

func TestServeFaultResume(t *testing.T) {
	tests := []struct {
		name    string
		call    func(context.Context, *Client) error
		actErr  error
		want    Request // Peer aside
		wantErr string
	}{
		{
			name: "fault one",
			call: func(ctx context.Context, c *Client) error { return c.Fault(ctx, "VI_1", "drill") },
			want: Request{Contract: 1, Cmd: CmdFault, Instance: "VI_1", Reason: "drill", By: "alice via test"},
		},
		{
			name: "fault all",
			call: func(ctx context.Context, c *Client) error { return c.Fault(ctx, "", "maintenance") },
			want: Request{Contract: 1, Cmd: CmdFault, Reason: "maintenance", By: "alice via test"},
		},
		{
			name: "resume",
			call: func(ctx context.Context, c *Client) error { return c.Resume(ctx, "VI_1") },
			want: Request{Contract: 1, Cmd: CmdResume, Instance: "VI_1", By: "alice via test"},
		},
		{
			name:    "refused",
			call:    func(ctx context.Context, c *Client) error { return c.Resume(ctx, "VI_9") },
			actErr:  errors.New(`unknown instance "VI_9"`),
			want:    Request{Contract: 1, Cmd: CmdResume, Instance: "VI_9", By: "alice via test"},
			wantErr: `failed to resume "VI_9": vipd: unknown instance "VI_9"`,
		},
		{
			name:    "bad reason",
			call:    func(ctx context.Context, c *Client) error { return c.Fault(ctx, "VI_1", "two\nlines") },
			wantErr: `failed to fault "VI_1": vipd: reason contains control character U+000A`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHandler()
			h.actErr = tt.actErr
			path, _ := startServer(t, &Server{Handler: h})
			c := dial(t, path)
			c.By = "alice via test"
			err := tt.call(testCtx(t), c)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" {
				var re *RemoteError
				if err == nil || err.Error() != tt.wantErr || !errors.As(err, &re) {
					t.Fatalf("error = %v; want *RemoteError %q", err, tt.wantErr)
				}
			}
			reqs := h.requests()
			if tt.want.Cmd == "" {
				if len(reqs) != 0 {
					t.Fatalf("handler got %+v; want nothing", reqs)
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("handler got %d requests; want 1", len(reqs))
			}
			got := reqs[0]
			if got.Peer == nil || got.Peer.PID != os.Getpid() || got.Peer.UID != os.Getuid() {
				t.Errorf("Peer = %v; want pid %d uid %d", got.Peer, os.Getpid(), os.Getuid())
			}
			got.Peer = nil
			if got != tt.want {
				t.Errorf("handler got %+v; want %+v", got, tt.want)
			}
			// The connection is still good.
			if _, err := c.Status(testCtx(t)); err != nil {
				t.Errorf("Status after %s: %v", tt.name, err)
			}
		})
	}
}

func TestServeGarbage(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"not json", "hello", "malformed request: invalid character 'h'"},
		{"binary", "\x00\xff\xfe", "malformed request"},
		{"empty object", "{}", `malformed request: no "cmd"`},
		{"null", "null", `malformed request: no "cmd"`},
		{"array", `["status"]`, "malformed request: json: cannot unmarshal array"},
		{"cmd not a string", `{"cmd":1}`, "malformed request: json: cannot unmarshal number"},
		{"unknown cmd", `{"cmd":"reboot"}`, `unknown cmd "reboot"`},
		{"long unknown cmd", `{"cmd":"` + strings.Repeat("r", 1000) + `"}`, `unknown cmd "rrrr`},
		{"newer client", `{"contract":2,"cmd":"status"}`, "request speaks contract 2, this vipd speaks 1"},
		{"two documents", `{"cmd":"status"} {"cmd":"status"}`, "malformed request: invalid character '{' after top-level value"},
		{"truncated", `{"cmd":"sta`, "malformed request: unexpected end of JSON input"},
		{"control in instance", `{"cmd":"fault","instance":"VI_1\u0007"}`, "instance contains control character U+0007"},
		{"long instance", `{"cmd":"fault","instance":"` + strings.Repeat("i", 129) + `"}`, "instance longer than 128 bytes"},
		{"long reason", `{"cmd":"fault","reason":"` + strings.Repeat("r", 513) + `"}`, "reason longer than 512 bytes"},
		{"escape in by", `{"cmd":"resume","by":"\u001b[31m"}`, "by contains control character U+001B"},
		{"negative status_every_ms", `{"cmd":"watch","status_every_ms":-1}`, "status_every_ms is negative"},
		{"status_every_ms over an hour", `{"cmd":"watch","status_every_ms":3600001}`, "status_every_ms above 3600000 (an hour)"},
		{"status_every_ms not a number", `{"cmd":"watch","status_every_ms":"1s"}`, "malformed request: bad milliseconds"},
		{"deep nesting", strings.Repeat("[", 20000), "malformed request"},
	}
	h := newFakeHandler()
	srv := &Server{Handler: h}
	path, _ := startServer(t, srv)
	r := dialRaw(t, path) // one connection survives them all
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			r.send(tt.line + "\n")
			var resp Response
			l := r.line()
			if err := json.Unmarshal([]byte(l), &resp); err != nil {
				t.Fatalf("response %q: %v", l, err)
			}
			if resp.Contract != 1 || resp.OK || !strings.Contains(resp.Error, tt.want) {
				t.Fatalf("response %s; want an error containing %q", l, tt.want)
			}
			if len(l) > 300 {
				t.Errorf("response is %d bytes; errors must not echo their input", len(l))
			}
		})
	}
	r.t = t
	// Blank lines are no requests; the connection still answers.
	r.send("\n\r\n  \n" + `{"cmd":"status"}` + "\n")
	if _, err := parseStatus([]byte(r.line())); err != nil {
		t.Fatal(err)
	}
	if got := srv.Stats().BadRequests; got != uint64(len(tests)) {
		t.Errorf("BadRequests = %d; want %d", got, len(tests))
	}
	if len(h.requests()) != 0 {
		t.Errorf("garbage reached the handler: %+v", h.requests())
	}
}

func TestServeLineTooLong(t *testing.T) {
	path, _ := startServer(t, &Server{Handler: newFakeHandler()})
	r := dialRaw(t, path)
	go io.WriteString(r.c, strings.Repeat("a", 3*MaxLineSize)+"\n") // fails once vipd hangs up
	var resp Response
	l := r.line()
	if err := json.Unmarshal([]byte(l), &resp); err != nil || resp.OK || resp.Error != "request line longer than 1 MiB" {
		t.Fatalf("response %q; want a line-too-long error", l)
	}
	if _, err := r.br.ReadString('\n'); err == nil {
		t.Fatalf("connection still open after an over-long line")
	}
}

func TestServeIdleTimeout(t *testing.T) {
	path, _ := startServer(t, &Server{Handler: newFakeHandler(), IdleTimeout: 50 * time.Millisecond})
	r := dialRaw(t, path)
	start := time.Now()
	if _, err := r.br.ReadString('\n'); err != io.EOF {
		t.Fatalf("read on an idle connection = %v; want EOF", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("idle connection closed after %v", d)
	}
}

func TestServeWatch(t *testing.T) {
	h := newFakeHandler()
	srv := &Server{Handler: h}
	path, _ := startServer(t, srv)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()

	var got []Event
	for ev, err := range dial(t, path).Watch(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
		switch len(got) {
		case 1: // the snapshot: now the events may come
			if ev.Type != EventSnapshot || !reflect.DeepEqual(*ev.Snapshot, h.Status()) {
				t.Fatalf("first event %+v; want the snapshot", ev)
			}
			h.hub.Publish(Event{Type: EventTransition, Instance: "VI_1", From: StateBackup, To: StateMaster, Reason: "master down"})
			h.hub.Publish(Event{Type: EventVerdict, Guard: "nginx", Verdict: VerdictHealthy})
			c := dial(t, path)
			c.By = "bob"
			if err := c.Fault(ctx, "VI_1", "drill"); err != nil {
				t.Fatal(err)
			}
		case 4:
			cancel() // the sequence ends, without an error
		}
	}
	if len(got) != 4 {
		t.Fatalf("got %d events; want 4", len(got))
	}
	if got[1].Type != EventTransition || got[1].To != StateMaster || got[1].Time.IsZero() {
		t.Errorf("event 1 = %+v; want the transition, stamped", got[1])
	}
	if got[2].Type != EventVerdict || got[2].Verdict != VerdictHealthy {
		t.Errorf("event 2 = %+v; want the verdict", got[2])
	}
	if a := got[3]; a.Type != EventAction || a.Action != CmdFault || a.By != "bob" || a.Reason != "drill" || a.Peer == nil || a.Peer.PID != os.Getpid() {
		t.Errorf("event 3 = %+v; want bob's fault", got[3])
	}
	waitFor(t, "the watcher to go", func() bool { return srv.Stats().Watchers == 0 && h.hub.Watchers() == 0 })
}

// A watcher that reads slowly gets what was queued, then an error event,
// then EOF; a watcher that does not read at all is cut off after
// WriteTimeout. Neither holds up the daemon or other clients.
func TestServeWatchSlowClient(t *testing.T) {
	big := strings.Repeat("x", 16<<10) // a few events fill the socket buffer
	tests := []struct {
		name    string
		buffer  int
		timeout time.Duration
		read    bool // read once cut off; else wait for the cut
	}{
		// The queue overflows while the client is behind; it then gets
		// what was queued and an error event.
		{"slow reader", 4, 10 * time.Second, true},
		// The queue holds everything, but the socket stays full for
		// longer than WriteTimeout.
		{"stalled reader", 1024, 100 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHandler()
			h.hub.Buffer = 4096 // the hub never drops: the server must
			srv := &Server{Handler: h, WatchBuffer: tt.buffer, WriteTimeout: tt.timeout}
			path, _ := startServer(t, srv)
			r := dialRaw(t, path)
			r.send(`{"cmd":"watch"}` + "\n")
			waitFor(t, "the watch", func() bool { return h.hub.Watchers() == 1 })

			start := time.Now()
			const n = 300
			for i := range n {
				h.hub.Publish(Event{Type: EventNotify, Instance: fmt.Sprint(i), Notify: &Notify{Command: big}})
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("publishing %d events took %v: the daemon was held up", n, d)
			}
			waitFor(t, "the slow watcher to be counted", func() bool { return srv.Stats().SlowWatchers == 1 })
			if _, err := dial(t, path).Status(testCtx(t)); err != nil {
				t.Fatalf("Status while a watcher is stuck: %v", err)
			}
			if !tt.read {
				waitFor(t, "the stalled watcher to be cut off", func() bool { return srv.Stats().Watchers == 0 })
			}

			dec := NewEventDecoder(r.br)
			var evs []Event
			for {
				ev, err := dec.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					if tt.read {
						t.Fatal(err)
					}
					break // cut off mid-line
				}
				evs = append(evs, ev)
			}
			if len(evs) == 0 || evs[0].Type != EventSnapshot {
				t.Fatalf("stream does not start with a snapshot")
			}
			evs = evs[1:]
			if tt.read {
				last := evs[len(evs)-1]
				if last.Type != EventError || !strings.Contains(last.Error, "too slow (4 events behind)") {
					t.Fatalf("last event %+v; want the too-slow error", last)
				}
				evs = evs[:len(evs)-1]
			}
			for i, ev := range evs { // what came is complete and in order
				if ev.Instance != fmt.Sprint(i) {
					t.Fatalf("event %d is %q (%s %q): a gap", i, ev.Instance, ev.Type, ev.Error)
				}
			}
			if len(evs) >= n {
				t.Fatalf("got all %d events: the client was not slow", len(evs))
			}
			t.Logf("got %d of %d events before the cut", len(evs), n)
			waitFor(t, "the watcher to go", func() bool { return srv.Stats().Watchers == 0 && h.hub.Watchers() == 0 })
			if got := srv.Stats().SlowWatchers; got != 1 {
				t.Errorf("SlowWatchers = %d; want 1", got)
			}
		})
	}
}

// When vipd ends the stream (the hub cut the watcher off), the client is
// told to reconnect.
func TestServeWatchStreamEnded(t *testing.T) {
	h := newFakeHandler()
	h.hub.Buffer = 1
	path, _ := startServer(t, &Server{Handler: h})
	var got []Event
	for ev, err := range dial(t, path).Watch(testCtx(t)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
		if len(got) == 1 {
			// The server drains the hub at once, but not between two
			// Publish calls under the hub's lock: fill it from inside.
			h.hub.mu.Lock()
			for ch := range h.hub.subs {
				delete(h.hub.subs, ch)
				close(ch)
			}
			h.hub.mu.Unlock()
		}
	}
	if len(got) != 2 || got[1].Type != EventError || !strings.Contains(got[1].Error, "vipd ended the event stream") {
		t.Fatalf("got %+v; want the snapshot and an error event", got)
	}
}

func TestServeWatchRefused(t *testing.T) {
	h := newFakeHandler()
	h.watchErr = errors.New("not ready")
	path, _ := startServer(t, &Server{Handler: h})
	n := 0
	for _, err := range dial(t, path).Watch(testCtx(t)) {
		n++
		var re *RemoteError
		if !errors.As(err, &re) || re.Msg != "failed to watch: not ready" {
			t.Fatalf("error = %v; want vipd's refusal", err)
		}
	}
	if n != 1 {
		t.Fatalf("got %d results; want 1 error", n)
	}
}

// Cancelling Serve closes every connection and returns nil.
func TestServeShutdown(t *testing.T) {
	h := newFakeHandler()
	path, stop := startServer(t, &Server{Handler: h})
	idle := dialRaw(t, path)
	watching := make(chan struct{})
	watchDone := make(chan error, 1)
	go func() {
		var last error
		for ev, err := range dial(t, path).Watch(testCtx(t)) {
			if err != nil {
				last = err
			}
			if ev.Type == EventSnapshot {
				close(watching)
			}
		}
		watchDone <- last
	}()
	<-watching
	stop()
	if _, err := idle.br.ReadString('\n'); err != io.EOF {
		t.Errorf("idle connection read %v after shutdown; want EOF", err)
	}
	select {
	case err := <-watchDone:
		if err != nil {
			t.Errorf("Watch ended with %v; want a plain end", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not end after shutdown")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after shutdown: %v", err)
	}
}

// A request whose context ends gives up and leaves the Client closed.
func TestClientCancel(t *testing.T) {
	h := newFakeHandler()
	release := make(chan struct{})
	h.block = release
	path, _ := startServer(t, &Server{Handler: h})
	t.Cleanup(func() { close(release) }) // before the server stops
	c := dial(t, path)
	ctx, cancel := context.WithTimeout(testCtx(t), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Status(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Status = %v; want the deadline", err)
	}
	if _, err := c.Status(testCtx(t)); !errors.Is(err, errClientDone) {
		t.Fatalf("Status after a cancelled one = %v; want errClientDone", err)
	}
	for _, err := range c.Watch(testCtx(t)) {
		if !errors.Is(err, errClientDone) {
			t.Fatalf("Watch after a cancelled request = %v; want errClientDone", err)
		}
	}
}

// A console meeting a newer vipd says so, over any transport.
func TestClientVersionMismatch(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		call  func(*Client) error
	}{
		{"status", `{"contract":2,"vrrp":{}}`, func(c *Client) error { _, err := c.Status(testCtx(t)); return err }},
		{"fault", `{"contract":2,"ok":true}`, func(c *Client) error { return c.Fault(testCtx(t), "", "") }},
		{"watch", `{"contract":2,"type":"snapshot2"}`, func(c *Client) error {
			for _, err := range c.Watch(testCtx(t)) {
				return err
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer server.Close()
			go func() { // a vipd of contract 2
				br := bufio.NewReader(server)
				br.ReadString('\n')
				io.WriteString(server, tt.reply+"\n")
			}()
			c := NewClient(client)
			defer c.Close()
			err := tt.call(c)
			var ve *VersionError
			if !errors.As(err, &ve) || ve.Got != 2 || !strings.Contains(err.Error(), "vipd speaks contract 2, this console needs 1: upgrade the console") {
				t.Fatalf("error = %v; want a *VersionError saying to upgrade the console", err)
			}
		})
	}
}

// A watch that asks for statuses gets one every StatusEvery (at most ten a
// second), each a Status as Handler.Status returns it; one that does not
// ask gets none.
func TestServeWatchStatusPeriodic(t *testing.T) {
	const window = 650 * time.Millisecond
	tests := []struct {
		name     string
		every    time.Duration
		min, max int // statuses within window
	}{
		{"none", 0, 0, 0},
		{"every 150ms", 150 * time.Millisecond, 2, 5},
		{"1ms, taken as 100ms", time.Millisecond, 3, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHandler()
			path, _ := startServer(t, &Server{Handler: h})
			c := dial(t, path)
			c.StatusEvery = tt.every
			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()
			var statuses []time.Time
			for ev, err := range c.Watch(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				switch ev.Type {
				case EventSnapshot:
					// The end of the window: an event after the statuses.
					time.AfterFunc(window, func() { h.hub.Publish(Event{Type: EventVerdict, Guard: "nginx", Verdict: VerdictHealthy}) })
				case EventStatus:
					if !reflect.DeepEqual(*ev.Status, h.Status()) || !ev.Time.Equal(ev.Status.Time) {
						t.Fatalf("status event %+v; want the handler's status, at its time", ev)
					}
					statuses = append(statuses, time.Now())
				case EventVerdict:
					cancel()
				default:
					t.Fatalf("unexpected %s event", ev.Type)
				}
			}
			if n := len(statuses); n < tt.min || n > tt.max {
				t.Fatalf("got %d status events in %v; want %d to %d", n, window, tt.min, tt.max)
			}
			for i := 1; i < len(statuses); i++ {
				if gap := statuses[i].Sub(statuses[i-1]); gap < max(tt.every, MinStatusEvery)/2 {
					t.Errorf("status events %d and %d only %v apart", i-1, i, gap)
				}
			}
		})
	}
}

// After a transition a watch gets a status that shows it: one that still
// shows the old state is taken again, for a bounded time.
func TestServeWatchStatusAfterTransition(t *testing.T) {
	withVI1 := func(state State, lastTrans time.Time) Status {
		st := fullStatus()
		st.Instances = slices.Clone(st.Instances)
		st.Instances[0].State, st.Instances[0].LastTransition = state, lastTrans
		return st
	}
	old := fullStatus() // VI_1 BACKUP since an hour before t0
	tests := []struct {
		name      string
		instance  string
		after     func(trans time.Time) Status
		stale     int   // Status calls that still show old
		want      State // VI_1 in the status event
		wantCalls int   // Status calls for it
		minWait   time.Duration
	}{
		{
			name: "shows it", instance: "VI_1",
			after: func(tr time.Time) Status { return withVI1(StateMaster, tr) },
			want:  StateMaster, wantCalls: 1,
		},
		{
			name: "shows it late", instance: "VI_1",
			after: func(tr time.Time) Status { return withVI1(StateMaster, tr) },
			stale: 2, want: StateMaster, wantCalls: 3,
		},
		{
			// A lost event, say: the status goes anyway, after every try.
			name: "never shows it", instance: "VI_1",
			after: func(time.Time) Status { return old },
			stale: 100, want: StateBackup, wantCalls: settleTries + 1,
			minWait: (1<<settleTries - 1) * settleDelay,
		},
		{
			// A later transition, not yet sent: the status is newer still.
			name: "moved on", instance: "VI_1",
			after: func(tr time.Time) Status { return withVI1(StateFault, tr.Add(time.Millisecond)) },
			want:  StateFault, wantCalls: 1,
		},
		{
			name: "instance not in the status", instance: "VI_9",
			after: func(time.Time) Status { return old },
			want:  StateBackup, wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHandler()
			path, _ := startServer(t, &Server{Handler: h})
			c := dial(t, path)
			c.StatusEvery = time.Hour // no periodic status within the test
			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()
			var (
				got   []Event
				calls int
				start time.Time
				took  time.Duration
			)
			for ev, err := range c.Watch(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ev)
				switch len(got) {
				case 1:
					// vipd: the engine acts, then reports the transition.
					tr := time.Now()
					stale := make([]Status, tt.stale)
					for i := range stale {
						stale[i] = old
					}
					h.setStatus(tt.after(tr), stale...)
					calls, start = h.statusCalls(), time.Now()
					h.hub.Publish(Event{Time: tr, Type: EventTransition, Instance: tt.instance, From: StateBackup, To: StateMaster})
				case 3:
					took = time.Since(start)
					cancel()
				}
			}
			if len(got) != 3 || got[1].Type != EventTransition || got[2].Type != EventStatus {
				t.Fatalf("got %v; want the snapshot, the transition and a status", types(got))
			}
			if st := got[2].Status.Instances[0].State; st != tt.want {
				t.Errorf("status after the transition shows VI_1 %s; want %s", st, tt.want)
			}
			if n := h.statusCalls() - calls; n != tt.wantCalls {
				t.Errorf("Status called %d times for it; want %d", n, tt.wantCalls)
			}
			if took < tt.minWait || took > 5*time.Second {
				t.Errorf("status came %v after the transition; want %v to 5s", took, tt.minWait)
			}
		})
	}
}

func types(evs []Event) []EventType {
	var ts []EventType
	for _, ev := range evs {
		ts = append(ts, ev.Type)
	}
	return ts
}

// Status events queue like any: a watcher that does not read them is cut
// off, and the daemon is not held up.
func TestServeWatchStatusSlowClient(t *testing.T) {
	h := newFakeHandler()
	st := fullStatus()
	st.Hostname = strings.Repeat("x", 256<<10) // two fill the socket buffer
	h.setStatus(st)
	srv := &Server{Handler: h, WatchBuffer: 4, WriteTimeout: 10 * time.Second}
	path, _ := startServer(t, srv)
	r := dialRaw(t, path)
	r.send(`{"cmd":"watch","status_every_ms":100}` + "\n")
	waitFor(t, "the slow watcher to be counted", func() bool { return srv.Stats().SlowWatchers == 1 })

	dec := NewEventDecoder(r.br)
	var evs []Event
	for {
		ev, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if len(evs) < 3 || evs[0].Type != EventSnapshot || evs[1].Type != EventStatus {
		t.Fatalf("got %v; want the snapshot, statuses and the too-slow error", types(evs))
	}
	if last := evs[len(evs)-1]; last.Type != EventError || !strings.Contains(last.Error, "too slow (4 events behind)") {
		t.Fatalf("last event %+v; want the too-slow error", last)
	}
	waitFor(t, "the watcher to go", func() bool { return srv.Stats().Watchers == 0 && h.hub.Watchers() == 0 })
}
