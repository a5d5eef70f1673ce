package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ssh/sshtest"
	"github.com/vipkit/vip/ui"
)

func status(state control.State, present bool, at time.Time) control.Status {
	return control.Status{
		RouterID: "nginx-01", VipdVersion: "test", Time: at,
		Instances: []control.Instance{{
			Name: "VI_1", Interface: "eth0", VRID: 60, Version: 2, State: state, BasePriority: 100,
			EffectivePriority: 100, VIPs: []string{"198.51.100.100/24"}, VIPPresent: present,
		}},
	}
}

func line(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// vipdLog records the commands a fake vipd ran.
type vipdLog struct {
	mu   sync.Mutex
	cmds []string
}

func (l *vipdLog) add(cmd string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cmds = append(l.cmds, cmd)
	n := 0
	for _, c := range l.cmds {
		if c == cmd {
			n++
		}
	}
	return n
}

func (l *vipdLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.cmds...)
}

func TestNodeWatch(t *testing.T) {
	t0 := time.Now()
	snap := control.Event{Time: t0, Type: control.EventSnapshot, Snapshot: ptr(status(control.StateBackup, false, t0))}
	trans := control.Event{Time: t0.Add(time.Millisecond), Type: control.EventTransition, Instance: "VI_1",
		From: control.StateBackup, To: control.StateMaster, Master: netip.MustParseAddr("198.51.100.11"), Reason: "master down"}
	// vipd's status right after the transition: it shows it.
	after := control.Event{Time: t0.Add(2 * time.Millisecond), Type: control.EventStatus,
		Status: ptr(status(control.StateMaster, true, t0.Add(2*time.Millisecond)))}
	var log vipdLog
	_, cfg := server(t, func(ctx context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
		log.add(cmd)
		switch cmd {
		case "vipd watch --json --status-every 100ms -socket /run/other.sock":
			io.WriteString(stdout, line(t, snap)+"\n"+line(t, trans)+line(t, after)) // a blank line is skipped
			<-ctx.Done()
			return 0
		}
		fmt.Fprintf(stderr, "unexpected %q\n", cmd)
		return 2
	})
	c := runNode(t, cfg, NodeConfig{Vipd: Vipd{Socket: "/run/other.sock"}})
	c.next("connected", func(u ui.Update) bool { return u.Conn != nil && u.Conn.Connected })
	u := c.next("snapshot", func(u ui.Update) bool { return u.Event != nil })
	if u.Event.Type != control.EventSnapshot || u.Event.Snapshot.Instances[0].State != control.StateBackup {
		t.Fatalf("first event = %+v, want the BACKUP snapshot", u.Event)
	}
	u = c.next("transition", func(u ui.Update) bool { return u.Event != nil })
	if u.Event.Type != control.EventTransition || u.Event.To != control.StateMaster {
		t.Fatalf("second event = %+v, want the transition to MASTER", u.Event)
	}
	// The transition is cross-checked by the stream's status: did the VIP
	// follow?
	u = c.next("status", func(u ui.Update) bool { return u.Status != nil || u.Err != nil || u.Event != nil })
	if u.Status == nil || !u.Status.Instances[0].VIPPresent {
		t.Fatalf("after the transition got %+v, want a status with vip_present", u)
	}
	for _, u := range c.got {
		if u.Err != nil {
			t.Errorf("unexpected error %v", u.Err)
		}
	}
	if cmds := log.list(); len(cmds) != 1 {
		t.Errorf("vipd ran %q, want the watch alone", cmds)
	}
}

// With no transition at all the console still gets fresh statuses, from
// the watch alone: no `vipd status` runs on the node.
func TestNodeStatusStream(t *testing.T) {
	t0 := time.Now()
	const n = 5
	var log vipdLog
	_, cfg := server(t, func(ctx context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
		log.add(cmd)
		if cmd != "vipd watch --json --status-every 200ms" {
			fmt.Fprintf(stderr, "unexpected %q\n", cmd)
			return 2
		}
		io.WriteString(stdout, line(t, control.Event{Time: t0, Type: control.EventSnapshot, Snapshot: ptr(status(control.StateBackup, false, t0))}))
		for i := 1; i <= n; i++ {
			at := t0.Add(time.Duration(i) * 200 * time.Millisecond)
			st := status(control.StateBackup, false, at)
			st.Instances[0].Stats.AdvertRcvd = uint64(i)
			io.WriteString(stdout, line(t, control.Event{Time: at, Type: control.EventStatus, Status: &st}))
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				return 0
			}
		}
		<-ctx.Done()
		return 0
	})
	c := runNode(t, cfg, NodeConfig{StatusEvery: 200 * time.Millisecond})
	c.next("snapshot", func(u ui.Update) bool { return u.Event != nil })
	for i := 1; i <= n; i++ {
		u := c.next(fmt.Sprintf("status %d", i), func(u ui.Update) bool { return u.Status != nil || u.Event != nil || u.Err != nil })
		if u.Status == nil {
			t.Fatalf("update %+v; want status %d", u, i)
		}
		if got := u.Status.Instances[0].Stats.AdvertRcvd; got != uint64(i) {
			t.Fatalf("status %d says %d adverts; want %d", i, got, i)
		}
	}
	if cmds := log.list(); len(cmds) != 1 {
		t.Errorf("vipd ran %q, want the watch alone", cmds)
	}
}

// A console that falls behind gets the newest status, not a backlog of
// old ones; events between statuses all arrive, in order.
func TestNodeStatusCoalesced(t *testing.T) {
	t0 := time.Now()
	const n = 50
	_, cfg := server(t, func(ctx context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
		io.WriteString(stdout, line(t, control.Event{Time: t0, Type: control.EventSnapshot, Snapshot: ptr(status(control.StateBackup, false, t0))}))
		for i := 1; i <= n; i++ {
			st := status(control.StateBackup, false, t0)
			st.Instances[0].Stats.AdvertRcvd = uint64(i)
			io.WriteString(stdout, line(t, control.Event{Time: t0, Type: control.EventStatus, Status: &st}))
			if i == n/2 {
				io.WriteString(stdout, line(t, control.Event{Time: t0, Type: control.EventCheck, Guard: "nginx",
					Check: &control.Check{Time: t0, OK: true, Phase: control.PhaseCheck}}))
			}
		}
		<-ctx.Done()
		return 0
	})
	c := runNode(t, cfg, NodeConfig{})
	c.next("snapshot", func(u ui.Update) bool { return u.Event != nil })
	time.Sleep(500 * time.Millisecond) // the console is busy
	var got []uint64
	check := false
	c.next("the newest status", func(u ui.Update) bool {
		if u.Event != nil && u.Event.Type == control.EventCheck {
			check = true
		}
		if u.Status == nil {
			return false
		}
		got = append(got, u.Status.Instances[0].Stats.AdvertRcvd)
		return got[len(got)-1] == n
	})
	if !check || len(got) > 3 || !slices.IsSorted(got) {
		t.Errorf("statuses %v (check event seen: %v); want the check and at most the ones on each side of it", got, check)
	}
}

func ptr[T any](v T) *T { return &v }

func TestNodeFailures(t *testing.T) {
	t0 := time.Now()
	snap := line(t, control.Event{Time: t0, Type: control.EventSnapshot, Snapshot: ptr(status(control.StateBackup, false, t0))})
	for _, tc := range []struct {
		name  string
		watch func(ctx context.Context, stdout, stderr io.Writer) int
		want  string           // in the error
		check func(error) bool // about its type
		again bool             // the watch is started again
	}{
		{
			name: "vipd too old",
			watch: func(_ context.Context, stdout, _ io.Writer) int {
				io.WriteString(stdout, `{"time":"2025-01-02T03:04:05Z","type":"snapshot","snapshot":{}}`+"\n")
				return 0
			},
			want:  "vipd on root@127.0.0.1",
			check: func(err error) bool { var v *control.VersionError; return errors.As(err, &v) && v.Got == 0 },
		},
		{
			name: "vipd too new",
			watch: func(_ context.Context, stdout, _ io.Writer) int {
				io.WriteString(stdout, `{"contract":2,"time":"2025-01-02T03:04:05Z","type":"snapshot","snapshot":{"contract":2}}`+"\n")
				return 0
			},
			want:  "too new for this console",
			check: func(err error) bool { var v *control.VersionError; return errors.As(err, &v) && v.Got == 2 },
		},
		{
			name: "vipd not installed",
			watch: func(_ context.Context, _, stderr io.Writer) int {
				io.WriteString(stderr, "sh: 1: vipd: not found\n")
				return 127
			},
			want:  "vipd not installed on root@127.0.0.1",
			check: func(err error) bool { var e *ssh.ExitError; return errors.As(err, &e) && e.Status == 127 },
			again: true,
		},
		{
			name: "vipd without status events",
			watch: func(_ context.Context, _, stderr io.Writer) int {
				io.WriteString(stderr, "flag provided but not defined: -status-every\nUsage of vipd watch:\n")
				return 2
			},
			want:  "too old for this console (its watch has no --status-every): upgrade vipd",
			check: func(err error) bool { var e *ssh.ExitError; return errors.As(err, &e) && e.Status == 2 },
			again: true,
		},
		{
			name: "vipd not running",
			watch: func(_ context.Context, _, stderr io.Writer) int {
				io.WriteString(stderr, "vipd watch: vipd is not running (nothing listens on /run/vipd/control.sock)\n")
				return 1
			},
			want: ": vipd is not running (nothing listens on /run/vipd/control.sock)",
			check: func(err error) bool {
				var e *ssh.ExitError
				return errors.As(err, &e) && e.Status == 1 && errors.Is(err, ui.ErrVipdStopped)
			},
			again: true,
		},
		{
			name: "vipd ends the watch",
			watch: func(_ context.Context, stdout, _ io.Writer) int {
				io.WriteString(stdout, snap)
				return 0
			},
			want:  "ended the watch",
			check: func(err error) bool { return errors.Is(err, io.EOF) && !errors.Is(err, ui.ErrVipdStopped) },
			again: true,
		},
		{
			name: "garbage",
			watch: func(_ context.Context, stdout, _ io.Writer) int {
				io.WriteString(stdout, snap+"Welcome to the node!\n")
				time.Sleep(time.Second) // the console gives up first
				return 0
			},
			want:  "sent a line that is not vipd's JSON (event line 2: malformed document",
			check: func(err error) bool { return errors.Is(err, ui.ErrUnreadable) },
			again: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var watches atomic.Int32
			_, cfg := server(t, func(ctx context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
				if cmd != "vipd watch --json --status-every 100ms" {
					return 2
				}
				watches.Add(1)
				return tc.watch(ctx, stdout, stderr)
			})
			c := runNode(t, cfg, NodeConfig{})
			u := c.next("error", func(u ui.Update) bool { return u.Err != nil })
			if !strings.Contains(u.Err.Error(), tc.want) || !tc.check(u.Err) {
				t.Errorf("error = %v (%T), want %q", u.Err, errors.Unwrap(u.Err), tc.want)
			}
			if tc.name == "vipd too old" && !strings.Contains(u.Err.Error(), "too old for this console") {
				t.Errorf("error = %v, want it to say vipd is too old", u.Err)
			}
			if tc.again {
				c.next("a second error", func(u ui.Update) bool { return u.Err != nil })
				if watches.Load() < 2 {
					t.Errorf("the watch ran %d times, want it started again", watches.Load())
				}
			}
		})
	}
}

// A watch that asks for statuses tells the console their pace with the
// snapshot; vipd shutting down (its instances INIT, then the end of the
// stream, as the CLI reports it) is said as vipd stopped, with the
// evidence; a vipd that ends the watch without a word is not.
func TestNodePaceAndStop(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	snap := line(t, control.Event{Time: t0, Type: control.EventSnapshot, Snapshot: ptr(status(control.StateMaster, true, t0))})
	down := line(t, control.Event{Time: t0.Add(time.Second), Type: control.EventTransition, Instance: "VI_1",
		From: control.StateMaster, To: control.StateInit, Reason: "shutdown"})
	var watches atomic.Int32
	_, cfg := server(t, func(ctx context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
		if cmd != "vipd watch --json --status-every 100ms" {
			return 2
		}
		io.WriteString(stdout, snap)
		if watches.Add(1) == 1 {
			io.WriteString(stdout, down)
		}
		io.WriteString(stderr, "vipd watch: vipd ended the stream\n")
		return 1
	})
	c := runNode(t, cfg, NodeConfig{})
	u := c.next("snapshot", func(u ui.Update) bool { return u.Event != nil })
	if u.Event.Type != control.EventSnapshot || u.StatusEvery != 100*time.Millisecond {
		t.Fatalf("first event %+v with pace %v, want the snapshot with 100ms", u.Event, u.StatusEvery)
	}
	u = c.next("the end of the first watch", func(u ui.Update) bool { return u.Err != nil })
	want := ": VI_1 went INIT (shutdown) at 03:04:06.000 and its watch ended"
	if !errors.Is(u.Err, ui.ErrVipdStopped) || !strings.HasPrefix(u.Err.Error(), "vipd stopped on root@127.0.0.1") || !strings.HasSuffix(u.Err.Error(), want) {
		t.Errorf("error = %v, want %q wrapping ErrVipdStopped", u.Err, want)
	}
	u = c.next("the end of the second watch", func(u ui.Update) bool { return u.Err != nil })
	if errors.Is(u.Err, ui.ErrVipdStopped) || !errors.Is(u.Err, ui.ErrWatchEnded) || !strings.Contains(u.Err.Error(), "ended the watch (stopping or restarting?)") {
		t.Errorf("error = %v, want an ended watch, not a stopped vipd", u.Err)
	}
}

// A watch that ran a while and ended is started again at once, not after
// the backoff: whether vipd stopped or restarts shows in milliseconds.
func TestNodeWatchAgainAtOnce(t *testing.T) {
	t0 := time.Now()
	snap := line(t, control.Event{Time: t0, Type: control.EventSnapshot, Snapshot: ptr(status(control.StateMaster, true, t0))})
	var watches atomic.Int32
	_, cfg := server(t, func(ctx context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
		if watches.Add(1) > 1 {
			io.WriteString(stderr, "vipd watch: vipd is not running (nothing listens on /run/vipd/control.sock)\n")
			return 1
		}
		io.WriteString(stdout, snap)
		time.Sleep(600 * time.Millisecond)
		io.WriteString(stderr, "vipd watch: vipd ended the stream\n")
		return 1
	})
	c := runNode(t, cfg, NodeConfig{RetryMin: 500 * time.Millisecond, RetryMax: time.Second})
	ended := c.next("the end of the watch", func(u ui.Update) bool { return u.Err != nil })
	at := time.Now()
	if !errors.Is(ended.Err, ui.ErrWatchEnded) {
		t.Errorf("error = %v, want ErrWatchEnded", ended.Err)
	}
	u := c.next("the second watch", func(u ui.Update) bool { return u.Err != nil })
	if d := time.Since(at); d > 300*time.Millisecond || !errors.Is(u.Err, ui.ErrVipdStopped) {
		t.Errorf("%v later: %v; want vipd stopped, at once (not after the 500ms backoff)", d, u.Err)
	}
}

func TestNodeHostKeyChanged(t *testing.T) {
	srv, cfg := server(t, func(_ context.Context, _ string, stdout, _ io.Writer, _ io.Reader) int {
		io.WriteString(stdout, line(t, control.Event{Time: time.Now(), Type: control.EventSnapshot, Snapshot: ptr(status(control.StateBackup, false, time.Now()))}))
		return 0
	})
	right, err := os.ReadFile(cfg.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sshtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	wrong := knownhosts.Line([]string{knownhosts.Normalize(srv.Addr())}, other.PublicKey()) + "\n"
	if err := os.WriteFile(cfg.KnownHosts, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	c := runNode(t, cfg, NodeConfig{})
	u := c.next("the link's error", func(u ui.Update) bool { return u.Conn != nil && u.Conn.LastErr != nil })
	var changed *ssh.HostKeyChangedError
	if !errors.As(u.Conn.LastErr, &changed) || !strings.Contains(changed.Remedy(), "ssh-keygen -f") {
		t.Fatalf("link error = %v, want a HostKeyChangedError with its remedy", u.Conn.LastErr)
	}
	// The operator runs the remedy (here: the right key back) and
	// reconnects; no redial happened meanwhile.
	if err := os.WriteFile(cfg.KnownHosts, right, 0o600); err != nil {
		t.Fatal(err)
	}
	c.n.Reconnect(nil)
	c.next("connected", func(u ui.Update) bool { return u.Conn != nil && u.Conn.Connected })
	c.next("the snapshot", func(u ui.Update) bool { return u.Event != nil })
	for _, u := range c.got {
		if u.Err != nil {
			t.Errorf("the node's error %v: the link's state says it (its panel showed it twice)", u.Err)
		}
	}
}

// An unknown host key: Reconnect asks confirm, and the link comes up.
func TestNodeReconnectConfirms(t *testing.T) {
	_, cfg := server(t, func(_ context.Context, _ string, stdout, _ io.Writer, _ io.Reader) int {
		io.WriteString(stdout, line(t, control.Event{Time: time.Now(), Type: control.EventSnapshot, Snapshot: ptr(status(control.StateBackup, false, time.Now()))}))
		return 0
	})
	cfg.KnownHosts += ".new"
	c := runNode(t, cfg, NodeConfig{})
	c.next("ErrHostKeyUnknown", func(u ui.Update) bool { return u.Conn != nil && errors.Is(u.Conn.LastErr, ssh.ErrHostKeyUnknown) })
	var asked atomic.Int32
	c.n.Reconnect(func(_ context.Context, p ssh.HostKeyPrompt) bool {
		asked.Add(1)
		return strings.HasPrefix(p.Fingerprint, "SHA256:")
	})
	c.next("connected", func(u ui.Update) bool { return u.Conn != nil && u.Conn.Connected })
	if asked.Load() != 1 {
		t.Errorf("asked %d times, want once", asked.Load())
	}
}

// One node stalled, another failing: the third still streams.
func TestNodesIndependent(t *testing.T) {
	t0 := time.Now()
	snap := line(t, control.Event{Time: t0, Type: control.EventSnapshot, Snapshot: ptr(status(control.StateMaster, true, t0))})
	stalled, cfgStalled := server(t, func(ctx context.Context, _ string, stdout, _ io.Writer, _ io.Reader) int {
		io.WriteString(stdout, snap)
		<-ctx.Done()
		return 0
	})
	_, cfgBroken := server(t, func(context.Context, string, io.Writer, io.Writer, io.Reader) int { return 127 })
	release := make(chan struct{})
	_, cfgGood := server(t, func(ctx context.Context, _ string, stdout, _ io.Writer, _ io.Reader) int {
		io.WriteString(stdout, snap)
		select {
		case <-release:
		case <-ctx.Done():
			return 0
		}
		io.WriteString(stdout, line(t, control.Event{Time: time.Now(), Type: control.EventCheck, Guard: "nginx",
			Check: &control.Check{Time: time.Now(), OK: true, Phase: control.PhaseCheck}}))
		<-ctx.Done()
		return 0
	})
	a := runNode(t, cfgStalled, NodeConfig{Name: "a"})
	b := runNode(t, cfgBroken, NodeConfig{Name: "b"})
	g := runNode(t, cfgGood, NodeConfig{Name: "g"})
	a.next("a's snapshot", func(u ui.Update) bool { return u.Event != nil })
	stalled.Stall()
	defer stalled.Resume()
	b.next("b's error", func(u ui.Update) bool { return u.Err != nil })
	g.next("g's snapshot", func(u ui.Update) bool { return u.Event != nil })
	close(release)
	g.next("g's check", func(u ui.Update) bool { return u.Event != nil && u.Event.Type == control.EventCheck })
}

func TestQuoteAndLines(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "''",
		"vipd":               "vipd",
		"/run/vipd/x.sock":   "/run/vipd/x.sock",
		"drill from vipctl":  "'drill from vipctl'",
		"it's":               `'it'\''s'`,
		"$(reboot)":          "'$(reboot)'",
		"alice@host:22,x=+%": "alice@host:22,x=+%",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	v := Vipd{}
	for got, want := range map[string]string{
		v.Watch(0):                      "vipd watch --json",
		v.Watch(-1):                     "vipd watch --json",
		v.Watch(time.Second):            "vipd watch --json --status-every 1s",
		v.Watch(250 * time.Millisecond): "vipd watch --json --status-every 250ms",
		v.Status():                      "vipd status --json",
		Vipd{Socket: control.DefaultSocketPath}.Watch(time.Second): "vipd watch --json --status-every 1s",
		Vipd{Socket: "/s"}.Status():                                "vipd status --json -socket /s",
		Vipd{Socket: "/s"}.Watch(time.Second):                      "vipd watch --json --status-every 1s -socket /s",
		Vipd{Command: "/opt/vip/bin/vipd"}.Watch(0):                "/opt/vip/bin/vipd watch --json",
		v.Fault("VI_1", "drill", "alice"):                          "vipd ctl fault --reason drill -i VI_1 --by alice",
		v.Fault("", "a drill", "alice via x"):                      "vipd ctl fault --reason 'a drill' --by 'alice via x'",
		v.Resume("", "bob"):                                        "vipd ctl resume --by bob",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

// A reconnect of a link that is up: the watch it cut starts again on the
// new link at once, not after the watch's backoff.
func TestNodeReconnectWatchesAtOnce(t *testing.T) {
	var watches atomic.Int32
	_, cfg := server(t, func(ctx context.Context, _ string, stdout, _ io.Writer, _ io.Reader) int {
		watches.Add(1)
		io.WriteString(stdout, line(t, control.Event{Time: time.Now(), Type: control.EventSnapshot, Snapshot: ptr(status(control.StateBackup, false, time.Now()))}))
		<-ctx.Done()
		return 0
	})
	c := runNode(t, cfg, NodeConfig{RetryMin: time.Hour, RetryMax: time.Hour})
	c.next("the snapshot", func(u ui.Update) bool { return u.Event != nil })
	start := time.Now()
	c.n.Reconnect(nil)
	c.next("the link closed", func(u ui.Update) bool { return u.Conn != nil && !u.Conn.Connected })
	c.next("the snapshot on the new link", func(u ui.Update) bool { return u.Event != nil })
	if n := watches.Load(); n != 2 {
		t.Errorf("%d watches, want 2", n)
	}
	t.Logf("watching again %v after the reconnect", time.Since(start).Round(time.Millisecond))
}
