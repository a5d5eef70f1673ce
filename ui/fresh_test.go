package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
)

// pace is the feeds' status pace in these tests, as feed.Node asks vipd.
const pace = 100 * time.Millisecond

// pacedLab is a gate lab whose feeds are paced watches (a status every
// 100 ms), on node clocks that are skew off the console's: nginx-01
// MASTER with the VIP, nginx-02 BACKUP, both reporting at t0.
type pacedLab struct {
	*gateLab
	t    *testing.T
	skew time.Duration
}

func newPacedLab(t *testing.T, skew time.Duration) *pacedLab {
	t.Helper()
	p := &pacedLab{gateLab: newGateLab(t, false), t: t, skew: skew}
	for i, in := range []control.Instance{p.master(), p.backup()} {
		st := p.doc(i, in)
		p.send(i, Update{Conn: connected(t0.Add(-time.Hour)), StatusEvery: pace,
			Event: &control.Event{Time: st.Time, Type: control.EventSnapshot, Snapshot: st}})
	}
	return p
}

func (p *pacedLab) master() control.Instance { return p.instance(control.StateMaster, 150, true) }
func (p *pacedLab) backup() control.Instance { return p.instance(control.StateBackup, 100, false) }
func (p *pacedLab) fault() control.Instance  { return p.instance(control.StateFault, 150, false) }

// nodeNow is the console's clock as the nodes' clocks read it.
func (p *pacedLab) nodeNow() time.Time { return p.clock.Add(p.skew) }

// doc is node i's status with in, taken now by the node's clock.
func (p *pacedLab) doc(i int, in control.Instance) *control.Status {
	st := status(p.name(i), in)
	st.Time = p.nodeNow()
	return st
}

// report sends node i's status event with in, taken now.
func (p *pacedLab) report(i int, in control.Instance) { p.send(i, Update{Status: p.doc(i, in)}) }

// moves sends node i's transition, now.
func (p *pacedLab) moves(i int, from, to control.State, reason string) {
	p.send(i, Update{Event: &control.Event{Time: p.nodeNow(), Type: control.EventTransition, Instance: "VI_1",
		From: from, To: to, Reason: reason}})
}

// at moves the console's clock to t0+d, and lets a freshness timer fire.
func (p *pacedLab) at(d time.Duration) {
	p.clock = t0.Add(d)
	p.apply(freshMsg{pair: 0, node: 0})
}

// live says which nodes are live, "nginx-01 nginx-02".
func (p *pacedLab) live() string {
	var out []string
	for _, n := range p.m.pairs[0].nodes {
		if n.live() {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, " ")
}

// never fails the test if the screen shows a split brain.
func (p *pacedLab) noSplit(when string) {
	p.t.Helper()
	if s := p.screen(); strings.Contains(s, "SPLIT BRAIN") {
		p.t.Errorf("%s: SPLIT BRAIN shown:\n%s", when, s)
	}
	if sb := splitBrains(p.m.pairs[0]); len(sb) > 0 {
		p.t.Errorf("%s: the gate sees %q", when, sb)
	}
}

// skews are the node clocks every rule is checked with: the console's,
// and 30 s ahead and behind (lab nodes share one clock, so only a unit
// test shifts it).
var skews = []time.Duration{0, 30 * time.Second, -30 * time.Second}

func forSkews(t *testing.T, f func(t *testing.T, p *pacedLab)) {
	for _, skew := range skews {
		t.Run(fmt.Sprintf("clock%+v", skew), func(t *testing.T) { f(t, newPacedLab(t, skew)) })
	}
}

// A stalled link (the connection stays up, nothing arrives): the node is
// unknown 400 ms after its last word, its last state labelled, out of the
// VIP line, the pair's health and the gate's checks; its next word makes
// it current again.
func TestFreshSilentNode(t *testing.T) {
	forSkews(t, func(t *testing.T, p *pacedLab) {
		for d := pace; d <= 400*time.Millisecond; d += pace {
			p.at(d)
			p.report(1, p.backup())
		}
		if got := p.live(); got != "nginx-01 nginx-02" {
			t.Fatalf("400ms after nginx-01's last word live: %q, want both", got)
		}
		p.at(401 * time.Millisecond)
		if got := p.live(); got != "nginx-02" {
			t.Fatalf("401ms after nginx-01's last word live: %q, want nginx-02 alone", got)
		}
		s := p.screen()
		contains(t, s, "UNKNOWN", "no word for 401ms", "last word 03:04:05.000", "last known at 03:04:05.000:",
			"held by no node known", "(nginx-01 unknown)")
		lacks(t, s, "held by nginx-01")
		if e := p.m.pairs[0].timeline.entries[0]; e.node != "nginx-01" || e.text != "unknown: no word from vipd for 400ms" ||
			!e.at.Equal(t0.Add(400*time.Millisecond)) {
			t.Errorf("newest event %s %q at %v, want nginx-01 unknown at +400ms", e.node, e.text, e.at)
		}
		if title := column(s, 0, 40); !strings.Contains(strings.Split(title, "\n")[2], "UNKNOWN") {
			t.Errorf("nginx-01's panel is not UNKNOWN:\n%s", title)
		}
		p.noSplit("silent")
		pv := p.m.pairs[0]
		if lvl, why := pairHealth(pv.nodes, pv.probe, pv.vip); lvl != levelWarn || why != "nginx-01 unknown" {
			t.Errorf("pair health %v %q, want nginx-01 unknown", lvl, why)
		}
		if pv.holds(pv.nodes[0]) {
			t.Error("the gate counts the silent nginx-01 as holding the VIP")
		}
		ck := p.m.precheck(pv, Action{Kind: ActionFault})
		if want := "nginx-01: unknown: no word from vipd since"; !strings.Contains(strings.Join(ck.problems, "; "), want) {
			t.Errorf("pre-checks %q, want %q", ck.problems, want)
		}

		p.at(500 * time.Millisecond)
		p.report(0, p.master())
		if got := p.live(); got != "nginx-01 nginx-02" {
			t.Errorf("after nginx-01 spoke again live: %q, want both", got)
		}
		contains(t, p.screen(), "held by nginx-01")
	})
}

// The MASTER's link is cut: it gives the VIP up and cannot say so; the
// peer takes over. The console never shows both holding: the cut node's
// word predates the peer's status showing the VIP, so it is unknown from
// that status on (superseded), and silent soon after anyway.
func TestFreshLinkCut(t *testing.T) {
	forSkews(t, func(t *testing.T, p *pacedLab) {
		p.at(100 * time.Millisecond)
		p.report(0, p.master())
		p.report(1, p.backup())
		// The cut, just after: nginx-01 says nothing more.
		p.at(200 * time.Millisecond)
		p.report(1, p.backup())
		p.noSplit("before the takeover")
		p.at(330 * time.Millisecond)
		p.moves(1, control.StateBackup, control.StateMaster, "master down")
		p.noSplit("nginx-02 MASTER, its VIP not confirmed")
		contains(t, p.screen(), "held by nginx-01, nginx-02 MASTER too")
		p.at(340 * time.Millisecond)
		p.report(1, p.master())
		p.noSplit("nginx-02's status with the VIP")
		if got := p.live(); got != "nginx-02" {
			t.Errorf("live %q, want nginx-02 alone", got)
		}
		s := p.screen()
		contains(t, s, "UNKNOWN", "nginx-02 took the VIP at", "03:04:05.340", "held by nginx-02", "(nginx-01 unknown)")
		lacks(t, s, "held by nginx-01")
		for d := 400 * time.Millisecond; d <= time.Second; d += pace {
			p.at(d)
			p.report(1, p.master())
			p.noSplit(fmt.Sprintf("at +%v", d))
		}
		contains(t, p.screen(), "no word for 900ms")
	})
}

// The MASTER stops; its last statuses, taken while it held the VIP, are
// held up on its link and arrive after the peer's status with the VIP
// (a loaded machine: a CI drill read SPLIT BRAIN so). They are old news:
// taken before the takeover, they do not make it a holder again.
func TestFreshBacklogAfterTakeover(t *testing.T) {
	forSkews(t, func(t *testing.T, p *pacedLab) {
		p.at(100 * time.Millisecond)
		p.report(0, p.master())
		p.report(1, p.backup())
		held := []*control.Status{p.doc(0, p.master())} // taken at 100 ms, on its way
		p.at(200 * time.Millisecond)
		held = append(held, p.doc(0, p.master()))
		p.report(1, p.backup())
		p.at(330 * time.Millisecond)
		p.moves(1, control.StateBackup, control.StateMaster, "master released (priority 0)")
		p.at(340 * time.Millisecond)
		p.report(1, p.master())
		for i, st := range held {
			p.at(time.Duration(350+10*i) * time.Millisecond)
			p.send(0, Update{Status: st})
			p.noSplit(fmt.Sprintf("nginx-01's held status %d", i))
		}
		if got := p.live(); got != "nginx-02" {
			t.Errorf("live %q, want nginx-02 alone", got)
		}
		contains(t, p.screen(), "held by nginx-02", "(nginx-01 unknown)")
		// A status nginx-01 takes after the takeover, still holding, is a
		// split brain.
		p.at(400 * time.Millisecond)
		p.report(0, p.master())
		contains(t, p.screen(), "SPLIT BRAIN VI_1")
	})
}

// An action's outage meter starts from each node's offset as its stream
// measured it before the action: words delayed during the action (a
// loaded console) do not make the nodes' clocks seem to disagree.
func TestOutageMeterSeedsOffsets(t *testing.T) {
	forSkews(t, func(t *testing.T, p *pacedLab) {
		p.at(100 * time.Millisecond)
		p.report(0, p.master())
		p.report(1, p.backup())
		pv := p.m.pairs[0]
		o := newOutageMeter(pv, Action{Kind: ActionFault, Node: p.name(0)}, p.clock)
		for i, n := range pv.nodes {
			if got, want := o.offsets[n.name], -p.skew; got != want || !n.fresh.lagKnown {
				t.Errorf("node %d: offset %v, want %v (its stream's lag)", i, got, want)
			}
		}
	})
}

// A real partition: both nodes keep reporting, both hold the VIP. The
// banner comes with the first status of the old master after the new one
// showed the VIP: both statuses current.
func TestFreshPartition(t *testing.T) {
	forSkews(t, func(t *testing.T, p *pacedLab) {
		p.at(100 * time.Millisecond)
		p.report(0, p.master())
		p.report(1, p.backup())
		p.at(330 * time.Millisecond)
		p.moves(1, control.StateBackup, control.StateMaster, "master down")
		p.at(340 * time.Millisecond)
		p.report(1, p.master())
		p.noSplit("before nginx-01's next status")
		p.at(400 * time.Millisecond)
		p.report(0, p.master())
		want := "SPLIT BRAIN VI_1: nginx-01 and nginx-02 both MASTER and holding 198.51.100.100"
		contains(t, p.screen(), want, "held by nginx-01 and nginx-02")
		pv := p.m.pairs[0]
		if lvl, why := pairHealth(pv.nodes, pv.probe, pv.vip); lvl != levelBad || why != "SPLIT BRAIN VI_1" {
			t.Errorf("pair health %v %q, want SPLIT BRAIN", lvl, why)
		}
		if sb := splitBrains(pv); len(sb) != 1 || sb[0] != want {
			t.Errorf("the gate sees %q, want %q", sb, want)
		}
		// One of them goes quiet: the evidence is no longer current.
		for d := 500 * time.Millisecond; d <= 900*time.Millisecond; d += pace {
			p.at(d)
			p.report(1, p.master())
		}
		p.noSplit("nginx-01 silent for 500ms")
	})
}

// A link that stalled and then releases what it held: the statuses arrive
// all at once, seconds after they were taken. They are shown as what was,
// not as what is: the node stays unknown until a status arrives on time,
// and its backlog (which says it held the VIP before it lost it) makes no
// split brain.
func TestFreshBacklog(t *testing.T) {
	forSkews(t, func(t *testing.T, p *pacedLab) {
		p.at(100 * time.Millisecond)
		p.report(0, p.master())
		for d := 200 * time.Millisecond; d <= 3*time.Second; d += pace {
			p.at(d)
			if d == 500*time.Millisecond {
				p.moves(1, control.StateBackup, control.StateMaster, "master down")
			}
			if d >= 500*time.Millisecond {
				p.report(1, p.master())
			} else {
				p.report(1, p.backup())
			}
		}
		// At +3s nginx-01's backlog: MASTER with the VIP until +300ms
		// (it lost its link at +310ms), FAULT after, all arriving now.
		arrive := p.clock
		for d := 200 * time.Millisecond; d < 3*time.Second; d += pace {
			in := p.master()
			if d > 300*time.Millisecond {
				in = p.fault()
			}
			st := status(p.name(0), in)
			st.Time = t0.Add(d + p.skew)
			p.clock = p.clock.Add(time.Millisecond / 2)
			p.send(0, Update{Status: st})
			p.noSplit(fmt.Sprintf("backlog status of +%v", d))
			// Those taken within the window of their arrival are
			// current enough.
			if n := p.m.pairs[0].nodes[0]; n.live() && d < 2500*time.Millisecond {
				t.Fatalf("nginx-01 live on its backlog status of +%v", d)
			}
			if d == 200*time.Millisecond {
				s := p.screen()
				contains(t, s, "UNKNOWN", "catching up: 2.8s late", "last known at 03:04:05.200:")
				lacks(t, s, "held by nginx-01")
			}
		}
		// On time again.
		p.clock = arrive.Add(20 * time.Millisecond)
		p.report(0, p.fault())
		if got := p.live(); got != "nginx-01 nginx-02" {
			t.Errorf("live %q after a status on time, want both", got)
		}
		p.noSplit("caught up")
	})
}

// A node's clock that steps back (or a link that gets slower for good):
// every status is late by the same amount. After stepAfter of them the
// node is current again, and the timeline says why.
func TestFreshClockStep(t *testing.T) {
	p := newPacedLab(t, 0)
	p.skew = -5 * time.Second
	for i := 1; i <= stepAfter; i++ {
		p.at(time.Second + time.Duration(i)*pace) // the snapshot's window is over
		p.report(1, p.backup())
		p.send(0, Update{Status: p.doc(0, p.master())})
		if live := p.m.pairs[0].nodes[0].live(); live != (i == stepAfter) {
			t.Errorf("after %d late statuses live %v", i, live)
		}
	}
	var texts []string
	for _, e := range p.m.pairs[0].timeline.entries[:3] {
		texts = append(texts, e.text)
	}
	if got := strings.Join(texts, " | "); !strings.Contains(got, "reports now arrive 5.0s later") || !strings.Contains(got, "reporting on time again") {
		t.Errorf("newest events %q, want the clock step and nginx-01 current again", got)
	}
}

// A node clock 30 s off is said on its card, and its events take their
// place in the timeline by the console's clock.
func TestFreshSkewShown(t *testing.T) {
	for _, tc := range []struct {
		skew time.Duration
		want string
	}{
		{0, ""},
		{30 * time.Second, "! clock 30.0s ahead of this console"},
		{-30 * time.Second, "! clock 30.0s behind this console"},
	} {
		p := newPacedLab(t, tc.skew)
		p.at(100 * time.Millisecond)
		p.moves(0, control.StateMaster, control.StateFault, "nginx failed")
		s := p.screen()
		if tc.want != "" {
			contains(t, s, tc.want)
		} else {
			lacks(t, s, "! clock")
		}
		e := p.m.pairs[0].timeline.entries[0]
		if !strings.Contains(e.text, "MASTER -> FAULT") || !e.at.Equal(t0.Add(100*time.Millisecond)) {
			t.Errorf("skew %v: newest event %q at %v, want the transition at 03:04:05.100", tc.skew, e.text, e.at)
		}
	}
}

// A node that streams garbage, and a stopped vipd: neither shows a state
// as current, and the card says which it is, plainly.
func TestFreshBadStream(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(p *pacedLab)
		err    error
		want   []string
		unwant []string
		health string
	}{
		{
			name:   "garbage",
			err:    causeErr{"the watch on root@lb1 sent a line that is not vipd's JSON (event line 2: malformed document: invalid character 'W')", ErrUnreadable},
			want:   []string{"NO DATA", "unreadable output", "not vipd's JSON", "-> the console watches again", "last known at"},
			health: "nginx-01 down",
		},
		{
			name:   "vipd stopped",
			before: func(p *pacedLab) { p.moves(0, control.StateMaster, control.StateInit, "shutdown") },
			err:    causeErr{"vipd stopped on root@lb1: VI_1 went INIT (shutdown) at 03:04:05.100 and its watch ended", ErrVipdStopped},
			want:   []string{"vipd stopped", "VI_1 went INIT (shutdown) at", "03:04:05.100 and its watch ended", "-> start vipd on the node", "last known at"},
			unwant: []string{"NO DATA", "stream failed", "retrying"},
			health: "nginx-01 vipd stopped",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPacedLab(t, 0)
			p.at(100 * time.Millisecond)
			if tc.before != nil {
				tc.before(p)
			}
			p.send(0, Update{Err: tc.err})
			s := p.screen()
			contains(t, column(s, 0, 40), tc.want...)
			lacks(t, s, tc.unwant...)
			lacks(t, s, "held by nginx-01")
			p.noSplit(tc.name)
			pv := p.m.pairs[0]
			if _, why := pairHealth(pv.nodes, pv.probe, pv.vip); why != tc.health {
				t.Errorf("pair health %q, want %q", why, tc.health)
			}
			if got := p.live(); got != "nginx-02" {
				t.Errorf("live %q, want nginx-02 alone", got)
			}
		})
	}
}

// causeErr is an error as a feed makes it: its text, and a cause for
// errors.Is.
type causeErr struct {
	msg   string
	cause error
}

func (e causeErr) Error() string { return e.msg }
func (e causeErr) Unwrap() error { return e.cause }

// Answers from both nodes in turn are split-brain evidence of their own
// where the console cannot hear a node (here nginx-02's link is down): the
// probe speaks for it. Where both nodes' word is current, it decides.
func TestFreshProbeInTurn(t *testing.T) {
	p := newPacedLab(t, 0)
	p.at(100 * time.Millisecond)
	p.report(0, p.master())
	turns := func(from time.Duration) {
		for i, b := range []string{"nginx-01", "nginx-02", "nginx-01"} {
			p.sample(ProbeSample{Time: t0.Add(from + time.Duration(i)*200*time.Millisecond), OK: true, Backend: b, Latency: time.Millisecond})
		}
	}
	turns(0)
	p.noSplit("both nodes current")
	p.send(1, Update{Conn: disconnected(p.clock, 1, "connection lost")})
	contains(t, p.screen(), "SPLIT BRAIN VI_1: the VIP answers from nginx-01 and nginx-02 in turn")
	// Older than probeTurns: no longer evidence.
	p.clock = t0.Add(1500 * time.Millisecond)
	p.report(0, p.master())
	p.noSplit("1.5s later")
	// One change is a failover, not a split brain.
	p.sample(ProbeSample{Time: p.clock, OK: true, Backend: "nginx-02", Latency: time.Millisecond})
	p.noSplit("one change")
	turns(1600 * time.Millisecond)
	p.clock = t0.Add(2100 * time.Millisecond)
	p.report(0, p.master())
	contains(t, p.screen(), "the VIP answers from nginx-01 and nginx-02 in turn")
}

// The timer makes the silence show when nothing else happens: an update
// from a paced stream arms it, and it fires once the window is over.
func TestFreshTimer(t *testing.T) {
	l := newLab(t)
	st := status(l.name(0), l.instance(control.StateMaster, 150, true))
	cmd := l.send(0, Update{Conn: connected(t0), StatusEvery: pace, Event: &control.Event{Time: t0, Type: control.EventSnapshot, Snapshot: st}})
	start := time.Now()
	var fired bool
	for _, msg := range cmdMsgs(cmd, time.Second) {
		if f, ok := msg.(freshMsg); ok && f.node == 0 {
			fired = true
		}
	}
	if !fired {
		t.Fatal("no freshness timer after a paced snapshot")
	}
	if time.Since(start) < 400*time.Millisecond {
		t.Errorf("the timer fired within %v, before the window", time.Since(start))
	}
	// An unpaced stream: silence means nothing, no timer.
	cmd = l.send(1, Update{Conn: connected(t0), Event: snapshot(l.name(1), l.instance(control.StateBackup, 100, false))})
	for _, msg := range cmdMsgs(cmd, 600*time.Millisecond) {
		if f, ok := msg.(freshMsg); ok && f.node == 1 {
			t.Error("a freshness timer for an unpaced stream")
		}
	}
}

// Post-checks count only current evidence: a rejoin whose node went
// silent after saying BACKUP does not pass, however long it settles.
func TestFreshPostCheck(t *testing.T) {
	p := newPacedLab(t, 0)
	p.at(100 * time.Millisecond)
	p.moves(0, control.StateMaster, control.StateFault, "fault requested: drill")
	p.report(0, p.fault())
	p.moves(1, control.StateBackup, control.StateMaster, "priority 0 received")
	p.report(1, p.master())
	for _, n := range p.m.pairs[0].nodes {
		if !n.live() {
			t.Fatalf("%s not live before the rejoin", n.name)
		}
	}
	p.start(t, Action{Kind: ActionResume})
	p.at(200 * time.Millisecond)
	p.moves(0, control.StateFault, control.StateBackup, "resume requested")
	p.report(0, p.backup())
	p.report(1, p.master())
	// nginx-01 goes silent; nginx-02 keeps reporting well past the settle
	// time.
	for d := 300 * time.Millisecond; d <= 5*time.Second; d += pace {
		p.at(d)
		p.report(1, p.master())
		p.tick()
		if o := p.m.gate.shown; o != nil && o.Result == ResultPass {
			t.Fatalf("the rejoin passed at +%v on nginx-01's word from before it went silent: %+v", d, o)
		}
	}
	r := p.m.gate.run
	if r == nil {
		t.Fatalf("the rejoin ended: %+v", p.m.gate.shown)
	}
	var detail string
	for _, e := range r.exps {
		if e.Name == "nginx-01 rejoined as BACKUP" {
			detail = e.Detail
		}
	}
	if !strings.Contains(detail, "nginx-01: unknown: no word from vipd since") {
		t.Errorf("the rejoin's expectation on nginx-01 says %q, want unknown", detail)
	}
}
