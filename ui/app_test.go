package ui

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
)

func press(s string) tea.KeyPressMsg {
	switch s {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func TestSplitBrainAndNoMaster(t *testing.T) {
	type node struct {
		state control.State
		vip   bool
		down  bool // SSH link down: the last status is stale
	}
	m, b, f := control.StateMaster, control.StateBackup, control.StateFault
	for _, tc := range []struct {
		name        string
		n1, n2      node
		split, none bool
		banner      string
	}{
		{name: "master and backup", n1: node{m, true, false}, n2: node{b, false, false}},
		{name: "both master with the VIP", n1: node{m, true, false}, n2: node{m, true, false}, split: true,
			banner: "SPLIT BRAIN VI_1: nginx-01 and nginx-02 both MASTER and holding 198.51.100.100"},
		// Two MASTER claims, one VIP: no addresses clash; the cards say
		// "MASTER without the VIP".
		{name: "both master, one VIP", n1: node{m, true, false}, n2: node{m, false, false}},
		{name: "backup still holds the VIP", n1: node{m, true, false}, n2: node{b, true, false}, split: true,
			banner: "SPLIT BRAIN VI_1: nginx-01 and nginx-02 both hold 198.51.100.100"},
		{name: "both backup", n1: node{b, false, false}, n2: node{b, false, false}, none: true,
			banner: "NO MASTER VI_1: no node is MASTER or holds 198.51.100.100"},
		{name: "backup and fault", n1: node{f, false, false}, n2: node{b, false, false}, none: true},
		{name: "no master while a node is down is unknown", n1: node{b, false, false}, n2: node{b, false, true}},
		{name: "a stale master is not split brain", n1: node{m, true, false}, n2: node{m, true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			for i, n := range []node{tc.n1, tc.n2} {
				l.send(i, Update{Conn: connected(t0), Status: status(l.name(i), l.instance(n.state, 100, n.vip))})
				if n.down {
					l.send(i, Update{Conn: disconnected(t0, 1, "connection refused")})
				}
			}
			h := analyze(l.m.pairs[0].nodes, nil, "")
			if len(h) != 1 {
				t.Fatalf("analyze judged %d instances, want 1", len(h))
			}
			if h[0].splitBrain() != tc.split || h[0].noMaster() != tc.none {
				t.Errorf("split brain %v, no master %v; want %v, %v", h[0].splitBrain(), h[0].noMaster(), tc.split, tc.none)
			}
			screen := l.screen()
			if tc.banner != "" {
				contains(t, screen, tc.banner)
			}
			if !tc.split {
				lacks(t, screen, "SPLIT BRAIN")
			}
			if !tc.none {
				lacks(t, screen, "NO MASTER")
			}
		})
	}
}

// A transition makes the VIP unconfirmed until the next status; the MASTER
// claim alone is no split brain (the node it replaced may be the one that
// is gone), the status confirming the VIP on both is.
func TestTransitionBeforeStatus(t *testing.T) {
	l := newLab(t)
	l.steady()
	l.send(1, Update{Event: transition(time.Second, control.StateBackup, control.StateMaster, addr2, "master down")})
	n := l.m.pairs[0].nodes[1]
	in := n.instance("VI_1")
	if in.State != control.StateMaster || in.Master != addr2 || in.Transitions != 2 || in.Stats.BecomeMaster != 1 {
		t.Errorf("after transition: state %s master %s transitions %d become_master %d", in.State, in.Master, in.Transitions, in.Stats.BecomeMaster)
	}
	if !n.vipUnknown["VI_1"] {
		t.Error("VIP presence not marked unconfirmed after a transition")
	}
	contains(t, l.screen(), "VIP unconfirmed", "held by nginx-01, nginx-02 MASTER too")
	lacks(t, l.screen(), "SPLIT BRAIN")

	st := status("nginx-02", l.instance(control.StateMaster, 100, true))
	l.send(1, Update{Status: st})
	if n.vipUnknown["VI_1"] {
		t.Error("a status did not confirm the VIP")
	}
	contains(t, l.screen(), "held by nginx-01 and nginx-02", "SPLIT BRAIN VI_1: nginx-01 and nginx-02 both MASTER and holding")
}

func TestDisconnect(t *testing.T) {
	l := newLab(t)
	l.steady()
	l.send(1, Update{Conn: disconnected(at(-15*time.Second), 3, "dial tcp 198.51.100.12:22: connect: connection refused")})
	n1, n2 := l.m.pairs[0].nodes[0], l.m.pairs[0].nodes[1]
	if n2.live() || !n1.live() {
		t.Fatalf("live: nginx-01 %v nginx-02 %v, want true false", n1.live(), n2.live())
	}
	screen := l.screen()
	contains(t, screen, "DISCONNECTED", "disconnected since 03:03:50", "(attempt 3)", "connection refused",
		"-> reconnecting", "last known at 03:04:05", "held by nginx-01", "(nginx-02 unknown)")
	// nginx-01 stays live in its own panel.
	if left := column(screen, 0, 40); !strings.Contains(left, "connected") || !strings.Contains(left, "VIP held") {
		t.Errorf("nginx-01's panel is not live:\n%s", left)
	}
	if e := l.m.pairs[0].timeline.entries[0]; e.node != "nginx-02" || !strings.HasPrefix(e.text, "disconnected: dial tcp") {
		t.Errorf("newest event %q %q, want nginx-02's disconnection", e.node, e.text)
	}
	// Failing again the same way adds nothing; coming back does.
	before := len(l.m.pairs[0].timeline.entries)
	l.send(1, Update{Conn: disconnected(at(-15*time.Second), 4, "dial tcp 198.51.100.12:22: connect: connection refused")})
	if got := len(l.m.pairs[0].timeline.entries); got != before {
		t.Errorf("a retry failing alike added %d events", got-before)
	}
	l.send(1, Update{Conn: connected(at(time.Second))})
	if !n2.live() {
		t.Error("nginx-02 not live after reconnecting")
	}
	if e := l.m.pairs[0].timeline.entries[0]; e.text != "connected" {
		t.Errorf("newest event %q, want connected", e.text)
	}
}

func TestBadInputPerNode(t *testing.T) {
	changed := &ssh.HostKeyChangedError{Host: "nginx-02", Address: "198.51.100.12", Type: "ssh-ed25519", Fingerprint: "SHA256:abc",
		Offending: []ssh.KnownKey{{File: "/home/alice/.ssh/known_hosts", Line: 12}}}
	for _, tc := range []struct {
		name   string
		u      Update
		want   []string
		remedy string
	}{
		{"vipd too old", Update{Err: &control.VersionError{Got: 0, Want: 1}},
			[]string{"NO DATA", "vipd missing or too old"}, "install or upgrade vipd"},
		{"vipd newer than the console", Update{Err: &control.VersionError{Got: 2, Want: 1}},
			[]string{"console too old"}, "upgrade vipctl"},
		{"vipd not installed", Update{Err: &ssh.ExitError{Host: "nginx-02", Cmd: "vipd watch --json", Status: 127, Stderr: "vipd: command not found"}},
			[]string{"vipd missing or too old", "command not found"}, "install vipd on this node"},
		{"host key changed", Update{Conn: &ssh.State{Since: t0, Attempt: 1, LastErr: changed}},
			[]string{"DISCONNECTED", "HOST KEY CHANGED", "known_hosts:12"}, `ssh-keygen -f "/home/alice/.ssh/known_hosts" -R "198.51.100.12"`},
		{"sudo password", Update{Err: fmt.Errorf("failed to watch: %w", &ssh.ExitError{Status: 1})}, []string{"stream failed"}, "retrying"},
		{"vipd refused", Update{Err: &control.RemoteError{Msg: "unknown command"}}, []string{"vipd refused"}, "journalctl -u vipd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			l.resize(160, 40) // room for the whole remedy
			l.steady()
			l.send(1, tc.u)
			screen := l.screen()
			right := strings.Join(strings.Fields(strings.ReplaceAll(column(screen, 80, 160), "│", " ")), " ")
			for _, w := range append(tc.want, tc.remedy) {
				if !strings.Contains(right, w) {
					t.Errorf("nginx-02's panel lacks %q:\n%s", w, column(screen, 80, 160))
				}
			}
			if left := column(screen, 0, 80); !strings.Contains(left, "connected") || strings.Contains(left, "NO DATA") {
				t.Errorf("nginx-01's panel is affected:\n%s", left)
			}
			if !l.m.pairs[0].nodes[0].live() || l.m.pairs[0].nodes[1].live() {
				t.Error("want nginx-01 live and nginx-02 not")
			}
		})
	}
}

// The "hears no adverts" warning needs evidence: a BACKUP status, read
// after its MASTER peer's status had counted adverts sent, with none
// received. A first status read before any master was elected (what
// `vipctl demo --snapshot` caught right after the election) is none.
func TestNoAdvertsWarning(t *testing.T) {
	const warning = "hears no adverts"
	deaf := func(l *lab) control.Instance {
		in := l.instance(control.StateBackup, 100, false)
		in.Stats.AdvertRcvd, in.LastAdvert, in.LastAdvertAge, in.Master = 0, time.Time{}, 0, netip.Addr{}
		return in
	}
	master := func(l *lab, sent uint64) control.Instance {
		in := l.instance(control.StateMaster, 100, true)
		in.Stats.AdvertSent = sent
		return in
	}
	for _, tc := range []struct {
		name string
		run  func(l *lab)
		want bool
	}{
		{"a backup alone, before any master", func(l *lab) {
			l.send(1, Update{Conn: connected(t0), Status: status("nginx-02", deaf(l))})
		}, false},
		{"the backup's first status, older than the master's", func(l *lab) {
			l.send(1, Update{Conn: connected(t0), Status: status("nginx-02", deaf(l))})
			l.clock = l.clock.Add(time.Second)
			l.send(0, Update{Conn: connected(t0), Status: status("nginx-01", master(l, 10))})
		}, false},
		{"read after a master that had just begun", func(l *lab) {
			l.send(0, Update{Conn: connected(t0), Status: status("nginx-01", master(l, 1))})
			l.clock = l.clock.Add(time.Second)
			l.send(1, Update{Conn: connected(t0), Status: status("nginx-02", deaf(l))})
		}, false},
		{"read after the master's adverts", func(l *lab) {
			l.send(0, Update{Conn: connected(t0), Status: status("nginx-01", master(l, 10))})
			l.clock = l.clock.Add(time.Second)
			l.send(1, Update{Conn: connected(t0), Status: status("nginx-02", deaf(l))})
		}, true},
		{"and then one heard", func(l *lab) {
			l.send(0, Update{Conn: connected(t0), Status: status("nginx-01", master(l, 10))})
			l.clock = l.clock.Add(time.Second)
			in := deaf(l)
			in.Stats.AdvertRcvd = 1
			l.send(1, Update{Conn: connected(t0), Status: status("nginx-02", in)})
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			tc.run(l)
			if tc.want {
				contains(t, l.screen(), "! BACKUP "+warning)
			} else {
				lacks(t, l.screen(), warning)
			}
		})
	}
}

func TestResize(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		want string // on screen
		cols int    // panels side by side
	}{
		{80, 24, "VIP   198.51.100.100", 2},
		{120, 30, "VIP   198.51.100.100", 2},
		{60, 30, "VIP   198.51.100.100", 1},
		{67, 12, "VIP   198.51.100.100", 1},
		{200, 50, "VIP   198.51.100.100", 2},
		{29, 20, "enlarge the terminal", 0},
		{80, 7, "enlarge the terminal", 0},
	} {
		t.Run(fmt.Sprintf("%dx%d", tc.w, tc.h), func(t *testing.T) {
			l := newLab(t)
			l.failover()
			l.resize(tc.w, tc.h)
			if l.m.width != tc.w || l.m.height != tc.h {
				t.Fatalf("model size %dx%d", l.m.width, l.m.height)
			}
			screen := l.screen()
			lines := strings.Split(screen, "\n")
			if len(lines) != tc.h {
				t.Errorf("%d lines, want %d", len(lines), tc.h)
			}
			for i, line := range lines {
				if w := ansi.StringWidth(line); w > tc.w {
					t.Errorf("line %d is %d wide: %q", i, w, line)
				}
			}
			contains(t, screen, tc.want)
			if tc.cols > 0 {
				if got := strings.Count(lines[1], "╭"); got != tc.cols {
					t.Errorf("%d panels in the first row, want %d:\n%s", got, tc.cols, screen)
				}
				if !strings.Contains(screen, "Events") && tc.h >= 20 {
					t.Errorf("no timeline:\n%s", screen)
				}
			}
		})
	}
}

func TestKeys(t *testing.T) {
	l := newLab(t, "web", "api", "db")
	m := l.m
	quit := func(cmd tea.Cmd) bool {
		if cmd == nil {
			return false
		}
		_, ok := cmd().(tea.QuitMsg)
		return ok
	}
	for _, tc := range []struct {
		key   string
		check func(t *testing.T, cmd tea.Cmd)
	}{
		{"tab", func(t *testing.T, _ tea.Cmd) {
			if m.focus != 1 || !m.pairs[0].cards[1].focused || m.pairs[0].cards[0].focused {
				t.Errorf("focus %d", m.focus)
			}
		}},
		{"tab", func(t *testing.T, _ tea.Cmd) {
			if m.focus != 2 || !m.pairs[0].timeline.focused {
				t.Errorf("focus %d, want the timeline", m.focus)
			}
		}},
		{"tab", func(t *testing.T, _ tea.Cmd) {
			if m.focus != 0 {
				t.Errorf("focus %d, want it to wrap to 0", m.focus)
			}
		}},
		{"shift+tab", func(t *testing.T, _ tea.Cmd) {
			if m.focus != 2 {
				t.Errorf("focus %d, want 2", m.focus)
			}
		}},
		{"]", func(t *testing.T, _ tea.Cmd) {
			if m.cur != 1 || m.focus != 0 {
				t.Errorf("pair %d focus %d, want 1 0", m.cur, m.focus)
			}
		}},
		{"[", func(t *testing.T, _ tea.Cmd) {
			if m.cur != 0 {
				t.Errorf("pair %d, want 0", m.cur)
			}
		}},
		{"[", func(t *testing.T, _ tea.Cmd) {
			if m.cur != 2 {
				t.Errorf("pair %d, want 2 (wrapped)", m.cur)
			}
		}},
		{"p", func(t *testing.T, _ tea.Cmd) {
			if !m.showPairs || m.list.cursor != 2 {
				t.Errorf("pairs list %v cursor %d", m.showPairs, m.list.cursor)
			}
		}},
		{"up", func(t *testing.T, _ tea.Cmd) {}},
		{"enter", func(t *testing.T, cmd tea.Cmd) {
			if cmd == nil {
				t.Fatal("enter in the list returned no Cmd")
			}
			msg := cmd()
			if msg != selectPairMsg(1) {
				t.Fatalf("enter gave %#v, want selectPairMsg(1)", msg)
			}
			m.Update(msg)
			if m.cur != 1 || m.showPairs {
				t.Errorf("pair %d list %v, want 1 closed", m.cur, m.showPairs)
			}
		}},
		{"p", func(t *testing.T, _ tea.Cmd) {}},
		{"esc", func(t *testing.T, _ tea.Cmd) {
			if m.showPairs {
				t.Error("esc left the list open")
			}
		}},
		{"enter", func(t *testing.T, _ tea.Cmd) {
			if !m.pairs[1].cards[0].details {
				t.Error("enter on a panel did not show its details")
			}
		}},
		{"?", func(t *testing.T, _ tea.Cmd) {
			if !m.help.ShowAll {
				t.Error("? did not open the full help")
			}
		}},
		{"F", func(t *testing.T, cmd tea.Cmd) {
			if cmd == nil {
				t.Fatal("the fault key did nothing")
			}
			msg, ok := cmd().(ActionMsg)
			if !ok || msg.Action.Kind != ActionFault || msg.Action.Pair != "api" || msg.Action.Node != "" {
				t.Fatalf("F gave %#v, want an ActionMsg for a fault drill on api", msg)
			}
			m.Update(msg)
			if m.gate.seen != 1 || m.gate.shown == nil || m.gate.shown.Result != ResultRefused {
				t.Errorf("the gate saw %d requests and shows %+v; want one refused (no gate)", m.gate.seen, m.gate.shown)
			}
		}},
		{"q", func(t *testing.T, cmd tea.Cmd) {
			if !quit(cmd) {
				t.Error("q did not quit")
			}
		}},
		{"ctrl+c", func(t *testing.T, cmd tea.Cmd) {
			if !quit(cmd) {
				t.Error("ctrl+c did not quit")
			}
		}},
	} {
		_, cmd := m.Update(press(tc.key))
		t.Run(tc.key, func(t *testing.T) { tc.check(t, cmd) })
	}
}

func TestTimelineBounds(t *testing.T) {
	opts := testOptions()
	opts.TimelineSize = 5
	f1, f2 := newFeed("nginx-01"), newFeed("nginx-02")
	m := New([]Pair{{Name: "web", Nodes: []Feed{f1, f2}}}, opts)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	tl := m.pairs[0].timeline

	// Twenty events, the two nodes' out of order: the timeline keeps the
	// five newest by time, newest first.
	for i := range 20 {
		node := i % 2
		d := time.Duration(i) * time.Second
		if node == 1 {
			d -= 1500 * time.Millisecond // nginx-02 reports late
		}
		ev := &control.Event{Time: at(d), Type: control.EventError, Error: fmt.Sprint(i)}
		m.Update(updateMsg{pair: 0, node: node, u: Update{Event: ev}})
	}
	if len(tl.entries) != 5 {
		t.Fatalf("%d entries, want 5", len(tl.entries))
	}
	var got []string
	for i, e := range tl.entries {
		got = append(got, strings.TrimPrefix(e.text, "vipd: "))
		if i > 0 && e.at.After(tl.entries[i-1].at) {
			t.Errorf("entry %d is newer than the one above it", i)
		}
	}
	if want := "18 19 16 17 14"; strings.Join(got, " ") != want {
		t.Errorf("entries %q, want %q", strings.Join(got, " "), want)
	}

	// Equal times: panel order, then arrival.
	tl2 := newTimeline(m.c, 10, nil)
	tl2.add("nginx-01", 0, note{at: t0, text: "a"})
	tl2.add("nginx-02", 1, note{at: t0, text: "b"})
	tl2.add("nginx-01", 0, note{at: t0, text: "c"})
	if got := tl2.entries[0].text + tl2.entries[1].text + tl2.entries[2].text; got != "bca" {
		t.Errorf("equal times ordered %q, want bca", got)
	}

	// Scrolling stays within the entries.
	tl.SetSize(80, 3) // title and two rows
	for _, k := range []struct {
		key  string
		want int
	}{{"down", 1}, {"down", 2}, {"down", 3}, {"down", 3}, {"up", 2}, {"g", 0}, {"up", 0}} {
		tl.Update(press(k.key))
		if tl.offset != k.want {
			t.Errorf("after %s offset %d, want %d", k.key, tl.offset, k.want)
		}
	}
}

func TestFeedCmds(t *testing.T) {
	l := newLab(t)
	// Init reads every feed and the probe (the ticker is off), and asks
	// for the background colour.
	batch, ok := l.m.Init()().(tea.BatchMsg)
	if !ok || len(batch) != 4 {
		t.Fatalf("Init gave %#v, want a batch of 3 reads and a query", batch)
	}
	u := Update{Conn: connected(t0)}
	l.feeds[0][1].ch <- u
	got := batch[1]()
	if msg, ok := got.(updateMsg); !ok || msg.pair != 0 || msg.node != 1 || msg.u.Conn != u.Conn {
		t.Fatalf("nginx-02's read gave %#v", got)
	}
	// Each update re-arms the same feed's read.
	cmd := l.send(1, u)
	l.feeds[0][1].ch <- Update{Err: errors.New("boom")}
	if msg, ok := cmd().(updateMsg); !ok || msg.node != 1 || msg.u.Err == nil {
		t.Fatalf("re-armed read gave %#v", msg)
	}
	// A closed feed ends its reads.
	f := newFeed("x")
	close(f.ch)
	if msg := waitUpdate(0, 1, f.ch)(); msg != (feedClosedMsg{pair: 0, node: 1}) {
		t.Fatalf("closed feed gave %#v", msg)
	}
	if _, cmd := l.m.Update(feedClosedMsg{pair: 0, node: 1}); cmd != nil {
		t.Error("a closed feed was read again")
	}
	contains(t, l.screen(), "feed ended")

	p := make(chan ProbeSample, 1)
	p <- ProbeSample{OK: true, Backend: "nginx-01"}
	if msg, ok := waitProbe(0, p)().(probeMsg); !ok || msg.s.Backend != "nginx-01" {
		t.Fatalf("probe read gave %#v", msg)
	}
	close(p)
	if msg := waitProbe(3, p)(); msg != (probeClosedMsg{pair: 3}) {
		t.Fatalf("closed probe gave %#v", msg)
	}
}

func TestEventsApply(t *testing.T) {
	l := newLab(t)
	l.steady()
	n := l.m.pairs[0].nodes[0]
	check := &control.Check{Time: at(time.Second), OK: false, Latency: control.Millis(time.Millisecond), Error: "refused", Phase: control.PhaseCheck}
	l.send(0, Update{Event: &control.Event{Time: at(time.Second), Type: control.EventCheck, Guard: "nginx", Check: check}})
	l.send(0, Update{Event: &control.Event{Time: at(2 * time.Second), Type: control.EventVerdict, Guard: "nginx", Verdict: control.VerdictFailed, Reason: "3 failures"}})
	l.send(0, Update{Event: &control.Event{Time: at(2 * time.Second), Type: control.EventVerdict, Guard: "chk_disk", Verdict: control.VerdictHealthy}})
	l.send(0, Update{Event: transition(3*time.Second, control.StateMaster, control.StateFault, netip.Addr{}, "nginx failed")})
	l.send(0, Update{Event: &control.Event{Time: at(4 * time.Second), Type: control.EventAction, Action: control.CmdResume, Reason: "drill over", By: "alice"}})
	l.send(0, Update{Event: &control.Event{Time: at(5 * time.Second), Type: control.EventNotify, Instance: "VI_1",
		Notify: &control.Notify{Hook: "notify_fault", Command: "/x", Exit: -1, Error: "timed out"}}})
	l.send(0, Update{Event: &control.Event{Time: at(6 * time.Second), Type: "future"}})

	g := n.status.Nginx
	if g.Verdict != control.VerdictFailed || g.Healthy || g.LastError != "refused" || g.Reason != "3 failures" {
		t.Errorf("nginx guard %+v", g)
	}
	if len(n.status.Scripts) != 1 || !n.status.Scripts[0].Healthy {
		t.Errorf("scripts %+v", n.status.Scripts)
	}
	in := n.instance("VI_1")
	if in.State != control.StateFault || in.EffectivePriority != 0 || in.FaultReason != "nginx failed" || in.Master.IsValid() {
		t.Errorf("instance %+v", in)
	}
	var texts []string
	for _, e := range l.m.pairs[0].timeline.entries[:6] {
		texts = append(texts, e.text)
	}
	want := []string{
		"VI_1 notify_fault failed: exit -1 timed out",
		"resume all instances requested by alice: drill over",
		"VI_1 MASTER -> FAULT: nginx failed",
		"chk_disk healthy",
		"nginx failed: 3 failures",
		"nginx check failed: refused",
	}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	contains(t, l.screen(), "VI_1 FAULT", "fault: nginx failed", "nginx FAILED: 3 failures")
}

func TestProbe(t *testing.T) {
	l := newLab(t)
	l.resize(120, 30)
	l.steady()
	// Answers alternating between the nodes are noted once per flapQuiet.
	for i := range 20 {
		b := []string{"nginx-01", "nginx-02"}[i%2]
		l.sample(ProbeSample{Time: at(time.Duration(i) * 500 * time.Millisecond), OK: true, Backend: b, Latency: time.Millisecond})
	}
	var flips []string
	for _, e := range l.m.pairs[0].timeline.entries {
		if strings.HasPrefix(e.text, "VIP now answered") {
			flips = append(flips, e.text)
		}
	}
	if len(flips) != 2 || !strings.Contains(flips[0], "; 9 more changes before") {
		t.Errorf("flips noted: %q", flips)
	}
	contains(t, l.screen(), "from nginx-01 20, nginx-02 10", "but nginx-01 holds it (stale ARP?)")

	// The window is bounded.
	for i := range 60 {
		l.sample(ProbeSample{Time: at(time.Minute + time.Duration(i)*time.Second), Err: errors.New("timeout")})
	}
	p := l.m.pairs[0].probe
	if len(p.samples) != 50 || p.failRun != 60 {
		t.Errorf("%d samples, %d failures in a row", len(p.samples), p.failRun)
	}
	contains(t, l.screen(), "FAILING (60 in a row): timeout", "0/50 ok")
}

// Without a Gate, every action is refused at once, and says why.
func TestActionsRefused(t *testing.T) {
	l := newLab(t)
	l.steady()
	l.apply(ActionMsg{Action: Action{Kind: ActionFault, Pair: "web", Node: "nginx-01", Instance: "VI_1"}})
	if o := l.m.gate.shown; o == nil || o.Result != ResultRefused || o.Why != ErrActionsDisabled.Error() {
		t.Fatalf("outcome %+v, want refused: %v", o, ErrActionsDisabled)
	}
	if l.m.gate.confirm != nil {
		t.Error("a confirmation opened without a gate")
	}
	contains(t, l.screen(), "REFUSED failover drill: forced give-up on nginx-01: guarded actions are not", "available: no executor configured")
}

func TestStaleStatus(t *testing.T) {
	now := t0
	opts := testOptions()
	opts.Now = func() time.Time { return now }
	f1, f2 := newFeed("nginx-01"), newFeed("nginx-02")
	m := New([]Pair{{Name: "web", VIP: "198.51.100.100", Nodes: []Feed{f1, f2}}}, opts)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(updateMsg{node: 0, u: Update{Status: status("nginx-01", instance(control.StateMaster, 100, true))}})
	now = t0.Add(30 * time.Second)
	m.Update(tickMsg(now))
	if s := ansi.Strip(m.View().Content); !strings.Contains(s, "status as of 03:04:05 (30.0s old)") {
		t.Errorf("no stale mark:\n%s", s)
	}
}

// Banners are per instance: a pair may share two VIPs, one per node.
func TestSeveralInstances(t *testing.T) {
	l := newLab(t)
	two := func(s1, s2 control.State, v1, v2 bool) []control.Instance {
		a, b := l.instance(s1, 100, v1), l.instance(s2, 100, v2)
		b.Name, b.VIPs = "VI_2", []string{"198.51.100.200/24"}
		return []control.Instance{a, b}
	}
	m, b := control.StateMaster, control.StateBackup
	l.send(0, Update{Conn: connected(t0), Status: status("nginx-01", two(m, b, true, false)...)})
	l.send(1, Update{Conn: connected(t0), Status: status("nginx-02", two(b, m, false, true)...)})
	screen := l.screen()
	lacks(t, screen, "SPLIT BRAIN", "NO MASTER")
	contains(t, screen, "VI_1 MASTER", "VI_2 MASTER", "VIP   198.51.100.100 VI_1  held by nginx-01")

	l.send(1, Update{Status: status("nginx-02", two(m, m, true, true)...)})
	l.send(0, Update{Status: status("nginx-01", two(m, b, true, false)...)})
	screen = l.screen()
	contains(t, screen, "SPLIT BRAIN VI_1: nginx-01 and nginx-02 both MASTER and holding 198.51.100.100")
	lacks(t, screen, "SPLIT BRAIN VI_2", "NO MASTER")

	l.send(0, Update{Status: status("nginx-01", two(m, b, true, false)...)})
	l.send(1, Update{Status: status("nginx-02", two(b, b, false, false)...)})
	screen = l.screen()
	contains(t, screen, "NO MASTER VI_2: no node is MASTER or holds 198.51.100.200")
	lacks(t, screen, "SPLIT BRAIN")
}

// A pair whose other node is in FAULT serves, but has no redundancy left:
// its tab and the list of pairs say so instead of "ok".
func TestPairHealthRedundancy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scene func(*lab)
		lvl   level
		why   string
	}{
		{"steady", (*lab).steady, levelGood, "ok"},
		{"the old master in FAULT", (*lab).faulted, levelWarn, "no redundancy: nginx-01 VI_1 FAULT"},
		{"split brain", (*lab).splitBrain, levelBad, "SPLIT BRAIN VI_1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			tc.scene(l)
			p := l.m.pairs[0]
			if lvl, why := pairHealth(p.nodes, p.probe, p.vip); lvl != tc.lvl || why != tc.why {
				t.Errorf("pair health %v %q, want %v %q", lvl, why, tc.lvl, tc.why)
			}
		})
	}
}
