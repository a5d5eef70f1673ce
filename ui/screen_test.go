package ui

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
)

// checkFailed is nginx-01's failed check d after t0.
func checkFailed(d time.Duration, err string) Update {
	return Update{Event: &control.Event{Time: at(d), Type: control.EventCheck, Guard: "nginx",
		Check: &control.Check{Time: at(d), Error: err, Phase: control.PhaseCheck}}}
}

// A node in FAULT fails a check 18 times a second: the repeats fold into
// one line with their count and last time, and the failover's lines stay
// on the screen however long it lasts.
func TestTimelineFolds(t *testing.T) {
	l := newLab(t)
	l.steady()
	l.nginxFails()
	const refused = "GET http://127.0.0.1/health: connection refused"
	const timeout = "GET http://127.0.0.1/health: timeout"
	n, i := 0, 0
	var last time.Time
	for d := 1300 * time.Millisecond; d < 61*time.Second; d += 55 * time.Millisecond {
		i++
		err := refused
		if i%100 == 0 { // now and then another way: two lines, not one each
			err = timeout
		} else {
			n, last = n+1, at(d)
		}
		l.send(0, checkFailed(d, err))
	}
	tl := l.m.pairs[0].timeline
	var folded *entry
	for i, e := range tl.entries {
		if e.node == "nginx-01" && strings.HasSuffix(e.text, "connection refused") && e.count > 1 {
			if folded != nil {
				t.Errorf("two folded lines for one failure")
			}
			folded = &tl.entries[i]
		}
	}
	if folded == nil || folded.count != n || !folded.last.Equal(last) {
		t.Fatalf("folded line %+v, want %d checks", folded, n)
	}
	if len(tl.entries) > 20 {
		t.Errorf("%d lines for %d events, want the repeats folded", len(tl.entries), n)
	}
	screen := l.screen()
	contains(t, screen, fmt.Sprintf("×%d, last 03:05:05", n), "nginx check failed: connection refus", "nginx check failed: timeout ×10, last 03:05:01.245", "MASTER -> FAULT", "BACKUP -> MASTER", "nginx failed: 3 failures",
		"nginx check failed: timeout") // the URL is on the panel
	// The line before the transitions folded apart from the ones after:
	// what happened first stays first.
	if got := strings.Count(screen, "nginx check failed"); got != 3 {
		t.Errorf("%d lines of failed checks, want 3 (before the verdict; after it, refused and timeout):\n%s", got, screen)
	}
}

// Transitions, verdicts and operator actions stay however many ordinary
// events follow; ordinary ones drop out, oldest first.
func TestTimelineKeeps(t *testing.T) {
	g := newGateLabOpts(t, func(o *Options) { o.TimelineSize = 20 })
	l := g.lab
	l.steady()
	l.nginxFails()
	l.send(0, Update{Event: &control.Event{Time: at(2 * time.Second), Type: control.EventAction, Action: "fault", By: "alice"}})
	l.apply(ActionMsg{Action: Action{Kind: ActionFault}}) // refused: a verdict of the console's own
	for i := range 500 {
		l.send(0, checkFailed(3*time.Second+time.Duration(i)*time.Millisecond, fmt.Sprintf("error %d", i)))
	}
	tl := l.m.pairs[0].timeline
	var kept, ordinary []string
	for _, e := range tl.entries {
		if e.keep {
			kept = append(kept, e.text)
		} else {
			ordinary = append(ordinary, e.text)
		}
	}
	if len(ordinary) != 20 || !strings.HasSuffix(ordinary[0], "error 499") || !strings.HasSuffix(ordinary[19], "error 480") {
		t.Errorf("ordinary entries %q, want the 20 newest", ordinary)
	}
	want := []string{"fault all instances requested by alice", "VI_1 BACKUP -> MASTER: priority 0 received",
		"VI_1 MASTER -> FAULT: nginx failed: 3 failures in a row (fall 3)", "nginx failed: 3 failures in a row (fall 3)",
		"failover drill: forced give-up: REFUSED: " + l.m.gate.shown.Why, // at t0, the console's clock
		"connected", "connected"} // the links', two hours before
	if strings.Join(kept, "|") != strings.Join(want, "|") {
		t.Errorf("kept %q, want %q", kept, want)
	}
	// Paging reaches them.
	l.m.layout()
	seen := false
	for range len(tl.entries) {
		seen = seen || strings.Contains(ansi.Strip(tl.View()), "MASTER -> FAULT")
		tl.Update(press("down"))
	}
	if !seen {
		t.Error("paging down never showed the transition")
	}
}

// screenAt checks what every screen must keep at w x h: exactly h lines,
// none wider than w.
func screenAt(t *testing.T, l *lab, w, h int) string {
	t.Helper()
	l.resize(w, h)
	s := l.screen()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, line := range lines {
		if lw := ansi.StringWidth(line); lw > w {
			t.Errorf("line %d is %d wide: %q", i, lw, line)
		}
	}
	return s
}

// timelineRows counts the events the timeline shows.
func timelineRows(screen string) int {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Events") {
			n := 0
			for _, e := range lines[i+1:] {
				if len(e) >= 13 && e[2] == ':' && e[5] == ':' && e[8] == '.' {
					n++
				}
			}
			return n
		}
	}
	return 0
}

// Every screen is usable at 80x24: the help shows every key, a
// confirmation its prompt and input line, a verdict the log beside it.
func TestScreens80x24(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scene func(*gateLab)
		check func(t *testing.T, screen string)
	}{
		{"help", func(g *gateLab) { g.steady(); g.apply(press("?")) }, func(t *testing.T, s string) {
			k := DefaultKeyMap()
			for _, col := range k.FullHelp() {
				for _, b := range col {
					contains(t, s, b.Help().Key+" ", b.Help().Desc)
				}
			}
			if timelineRows(s) < 1 {
				t.Errorf("no events beside the help:\n%s", s)
			}
		}},
		{"confirm typed", func(g *gateLab) {
			g.steady()
			g.apply(ActionMsg{Action: Action{Kind: ActionFailNginx}})
			g.typeText("nginx-0")
		}, func(t *testing.T, s string) {
			contains(t, s, "Confirm failover drill", "Effect: nginx on nginx-01", "Type nginx-01 and press enter", "│ > nginx-0_", "╰────")
		}},
		{"confirm with a fault and a notice", func(g *gateLab) {
			g.faulted()
			g.m.pairs[0].timeline.add("", -1, note{at: t0, text: "x"})
			g.apply(ActionMsg{Action: Action{Kind: ActionResume}})
			g.typeText("nginx-02")
			g.apply(press("enter"))
		}, func(t *testing.T, s string) {
			if cf := "Confirm re-enable on nginx-01"; strings.Contains(s, cf) {
				contains(t, s, "╰────")
				if !strings.Contains(s, "Press y or enter") && !strings.Contains(s, "│ > ") {
					t.Errorf("no prompt:\n%s", s)
				}
			}
		}},
		{"refused verdict and the log", func(g *gateLab) {
			g.faulted()
			g.apply(ActionMsg{Action: Action{Kind: ActionFailNginx}})
		}, func(t *testing.T, s string) {
			contains(t, s, "REFUSED", "Events")
			if n := timelineRows(s); n < 3 {
				t.Errorf("%d events beside the verdict, want 3 at least:\n%s", n, s)
			}
		}},
		{"pass verdict and the log", func(g *gateLab) {
			g.steady()
			g.start(t, Action{Kind: ActionFailNginx})
			g.nginxFails()
			g.confirmTakeover()
			g.advance(2 * time.Second)
			g.tick()
		}, func(t *testing.T, s string) {
			contains(t, s, "PASS failover drill", "Events")
			if n := timelineRows(s); n < 3 {
				t.Errorf("%d events beside the verdict, want 3 at least:\n%s", n, s)
			}
		}},
		{"split brain banner and a refusal", func(g *gateLab) {
			g.splitBrain()
			g.apply(ActionMsg{Action: Action{Kind: ActionFault}})
		}, func(t *testing.T, s string) {
			contains(t, s, "SPLIT BRAIN", "REFUSED", "Events")
			if n := timelineRows(s); n < 3 {
				t.Errorf("%d events, want 3 at least:\n%s", n, s)
			}
		}},
		{"host key question", func(g *gateLab) {
			g.steady()
			g.apply(hostKeyMsg{testHostKeyQ(t, "nginx-02")})
			g.typeText("ye")
		}, func(t *testing.T, s string) {
			contains(t, s, "Trust the host key of nginx-02", "Key: ssh-ed25519 SHA256:", "Type yes and press enter", "│ > ye_", "╰────")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateLab(t, false)
			tc.scene(g)
			tc.check(t, screenAt(t, g.lab, 80, 24))
		})
	}
}

// The confirmation keeps its prompt and input line at any height the
// console runs at, cutting what it needs least.
func TestConfirmFits(t *testing.T) {
	for h := 10; h <= 30; h++ { // header, VIP line, box and help
		g := newGateLab(t, false)
		g.faulted()
		g.send(0, Update{Conn: &ssh.State{Since: t0, LastErr: errors.New("x")}}) // a taller card
		g.send(0, Update{Conn: connected(t0)})
		g.steady()
		g.apply(ActionMsg{Action: Action{Kind: ActionStopVipd}})
		g.typeText("ngi")
		s := screenAt(t, g.lab, 80, h)
		if !strings.Contains(s, "│ > ngi_") || !strings.Contains(s, "Type nginx-01") {
			t.Errorf("80x%d: the prompt or its input line is not shown:\n%s", h, s)
		}
	}
}

func testHostKeyQ(t *testing.T, node string) *hostKeyQ {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &hostKeyQ{ctx: context.Background(), node: node, answer: make(chan bool, 1), p: ssh.HostKeyPrompt{
		Host: "root@198.51.100.12", Address: "198.51.100.12", Remote: &net.TCPAddr{IP: net.IPv4(198, 51, 100, 12), Port: 22},
		Key: k, Fingerprint: gossh.FingerprintSHA256(k), File: "/home/alice/.ssh/known_hosts",
	}}
}

// c on a node's panel redials it; a host key the reconnect meets is asked
// about in the console, once for every node that meets it, and the answer
// goes back to the dials.
func TestReconnect(t *testing.T) {
	g := newGateLab(t, false)
	g.steady()
	g.apply(press("tab")) // nginx-02's panel
	cmd := g.apply(press("c"))
	if cmd == nil {
		t.Fatal("c did nothing")
	}
	msgs := make(chan []tea.Msg, 1)
	go func() { msgs <- cmdMsgs(cmd, 300*time.Millisecond) }() // the reconnect, and the read of questions
	var redials []func(context.Context, ssh.HostKeyPrompt) bool
	for start := time.Now(); len(redials) == 0 && time.Since(start) < 5*time.Second; time.Sleep(time.Millisecond) {
		redials = g.feeds[0][1].redials()
	}
	if len(redials) != 1 || len(g.feeds[0][0].redials()) != 0 {
		t.Fatalf("%d reconnects of nginx-02, %d of nginx-01; want nginx-02 once", len(redials), len(g.feeds[0][0].redials()))
	}
	contains(t, g.screen(), "nginx-02 reconnecting, as alice asked")

	// The dial meets an unknown key; so does another node's on the same
	// host meanwhile: one question.
	q := testHostKeyQ(t, "")
	answers := make(chan bool, 2)
	for range 2 {
		go func() { answers <- redials[0](context.Background(), q.p) }()
	}
	var asked []*hostKeyQ
	for _, msg := range <-msgs {
		if m, ok := msg.(hostKeyMsg); ok {
			asked = append(asked, m.q)
			g.apply(m)
		}
	}
	if len(asked) != 1 || asked[0].node != "nginx-02" {
		t.Fatalf("asked %d questions (%+v), want one about nginx-02", len(asked), asked)
	}
	contains(t, g.screen(), "Trust the host key of nginx-02 (root@198.51.100.12)?", q.p.Fingerprint, "enter answer • esc refuse")

	// Anything but yes or no asks again; "q" is typing here.
	g.typeText("qmaybe")
	g.apply(press("enter"))
	contains(t, g.screen(), `Please type "yes" or "no".`)
	for range 6 {
		g.apply(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	g.typeText("yes")
	g.apply(press("enter"))
	for range 2 {
		select {
		case yes := <-answers:
			if !yes {
				t.Error("a dial was told no")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the dials got no answer")
		}
	}
	s := g.screen()
	lacks(t, s, "Trust the host key")
	contains(t, s, "trusted by alice")
}

func TestReconnectRefused(t *testing.T) {
	t.Run("esc refuses the key", func(t *testing.T) {
		g := newGateLab(t, false)
		g.steady()
		q := testHostKeyQ(t, "nginx-01")
		g.apply(hostKeyMsg{q})
		g.apply(press("esc"))
		if yes := <-q.answer; yes {
			t.Error("esc trusted the key")
		}
		contains(t, g.screen(), "host key of root@198.51.100.12 not trusted")
	})
	t.Run("a dial that gave up takes its question away", func(t *testing.T) {
		g := newGateLab(t, false)
		g.steady()
		q := testHostKeyQ(t, "nginx-01")
		ctx, cancel := context.WithCancel(context.Background())
		q.ctx = ctx
		g.apply(hostKeyMsg{q})
		contains(t, g.screen(), "Trust the host key")
		cancel()
		lacks(t, g.screen(), "Trust the host key")
	})
	t.Run("not while an action runs over the link", func(t *testing.T) {
		g := newGateLab(t, false)
		g.steady()
		g.start(t, Action{Kind: ActionFailNginx})
		if cmd := g.apply(press("c")); cmd != nil {
			t.Error("c reconnected while an action ran")
		}
		contains(t, g.screen(), "not reconnecting while failover drill")
	})
}

// A host-key error shows once on the card, with the one remedy: the
// reconnect key.
func TestHostKeyCard(t *testing.T) {
	changed := &ssh.HostKeyChangedError{Host: "nginx-02", Address: "198.51.100.12", Type: "ssh-ed25519", Fingerprint: "SHA256:abc",
		Offending: []ssh.KnownKey{{File: "/k", Line: 3, Type: "ssh-ed25519"}}}
	unknown := fmt.Errorf("%w: ssh-ed25519 key SHA256:abc of root@lb2 is not in /k", ssh.ErrHostKeyUnknown)
	for _, tc := range []struct {
		name   string
		err    error
		title  string
		remedy string
	}{
		{"changed", changed, "HOST KEY CHANGED", `then press c to reconnect and check the new key's fingerprint`},
		{"unknown", unknown, "host key not trusted", "press c to reconnect: it shows the key's fingerprint to check and trust"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			l.steady()
			l.send(1, Update{Conn: &ssh.State{Since: t0, Attempt: 1, LastErr: tc.err}})
			l.send(1, Update{Err: fmt.Errorf("host key of root@lb2: %w", tc.err)}) // a feed passing it on too
			s := screenAt(t, l, 120, 40)
			right := column(s, 60, 120)
			right = right[:strings.Index(right, "╰")] // the card
			if n := strings.Count(right, tc.title); n != 1 {
				t.Errorf("%q shown %d times, want once:\n%s", tc.title, n, right)
			}
			flat := strings.Join(strings.Fields(strings.NewReplacer("│", " ", "╰", " ", "╭", " ").Replace(right)), " ")
			contains(t, flat, tc.remedy)
			lacks(t, flat, "restart vipctl", "ssh(1)")
		})
	}
}
