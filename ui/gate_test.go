package ui

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vipkit/vip/node/control"
)

// fakeExec records what it is asked to run, and runs nothing.
type fakeExec struct {
	mu   sync.Mutex
	runs []Action
	err  error
}

func (g *fakeExec) Run(_ context.Context, a Action) ([]Step, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.runs = append(g.runs, a)
	var steps []Step
	for _, c := range a.Commands {
		steps = append(steps, Step{Node: a.Node, Command: c.Line, Check: c.Check})
	}
	return steps, g.err
}

func (g *fakeExec) ran() []Action {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Action(nil), g.runs...)
}

// memAudit keeps the audit log in memory.
type memAudit struct {
	mu      sync.Mutex
	entries []AuditEntry
}

func (a *memAudit) Record(e AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *memAudit) all() []AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]AuditEntry(nil), a.entries...)
}

// gateLab is a lab with a fake gate, an audit log and a clock that moves.
type gateLab struct {
	*lab
	gate  *fakeExec
	audit *memAudit
}

func newGateLab(t *testing.T, readOnly bool) *gateLab {
	t.Helper()
	return newGateLabOpts(t, func(o *Options) { o.ReadOnly = readOnly })
}

func newGateLabOpts(t *testing.T, edit func(*Options)) *gateLab {
	t.Helper()
	g := &gateLab{gate: &fakeExec{}, audit: &memAudit{}}
	opts := testOptions()
	opts.Executor, opts.Audit, opts.Operator = g.gate, g.audit, "alice"
	if edit != nil {
		edit(&opts)
	}
	g.lab = newLabOpts(t, opts)
	return g
}

// cmdMsgs runs cmd, and each Cmd of a batch it returns, in goroutines, and
// returns the messages that arrive within d. Cmds that wait (ticks, feed
// reads) are left behind.
func cmdMsgs(cmd tea.Cmd, d time.Duration) []tea.Msg {
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 64)
	var run func(tea.Cmd)
	run = func(c tea.Cmd) {
		go func() {
			msg := c()
			// A batch, or a sequence (whose type is unexported): run
			// what it holds.
			if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeFor[tea.Cmd]() {
				for i := range v.Len() {
					if c := v.Index(i).Interface().(tea.Cmd); c != nil {
						run(c)
					}
				}
				return
			}
			ch <- msg
		}()
	}
	run(cmd)
	var out []tea.Msg
	deadline := time.After(d)
	for {
		select {
		case msg := <-ch:
			if msg != nil {
				out = append(out, msg)
			}
		case <-deadline:
			return out
		}
	}
}

// typeText types s into a confirmation.
func (l *lab) typeText(s string) {
	for _, r := range s {
		l.apply(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func (l *lab) advance(d time.Duration) { l.clock = l.clock.Add(d) }

// tick re-evaluates the running action, as its tick would.
func (l *lab) tick() tea.Cmd {
	if r := l.m.gate.run; r != nil {
		return l.apply(gateTickMsg{id: r.id})
	}
	return nil
}

func TestGatePrecheck(t *testing.T) {
	for _, tc := range []struct {
		name       string
		readOnly   bool
		scene      func(*lab)
		a          Action
		refused    string // a refusal containing this; "" for a confirmation
		target     string
		peer       string
		typed      bool
		passedHave string
	}{
		{name: "nginx drill on the master", scene: (*lab).steady, a: Action{Kind: ActionFailNginx},
			target: "nginx-01", peer: "nginx-02", typed: true, passedHave: "nginx-02 is a healthy BACKUP"},
		{name: "vipd drill", scene: (*lab).steady, a: Action{Kind: ActionStopVipd}, target: "nginx-01", peer: "nginx-02", typed: true},
		{name: "restart check", scene: (*lab).steady, a: Action{Kind: ActionRestartNginx}, target: "nginx-01", peer: "nginx-02", typed: true},
		{name: "a drill named on the backup", scene: (*lab).steady, a: Action{Kind: ActionFault, Node: "nginx-02"},
			refused: "nginx-02 is BACKUP, not MASTER: failover drill: forced give-up runs on the MASTER"},
		{name: "read-only", readOnly: true, scene: (*lab).steady, a: Action{Kind: ActionFault}, refused: ErrReadOnly.Error()},
		{name: "peer not a healthy backup", scene: (*lab).faulted, a: Action{Kind: ActionFailNginx},
			refused: "the peer is not a healthy BACKUP: nginx-01 is FAULT, not BACKUP (nginx failed: 3 failures in a row (fall 3))"},
		{name: "split brain", scene: (*lab).splitBrain, a: Action{Kind: ActionFault},
			refused: "SPLIT BRAIN VI_1: nginx-01 and nginx-02 both MASTER and holding 198.51.100.100: end it first"},
		{name: "a node disconnected", scene: (*lab).lostLink, a: Action{Kind: ActionFailNginx},
			refused: "nginx-02 is disconnected since 03:03:50 (attempt 3): dial tcp 198.51.100.12:22: connect: connection refused"},
		{name: "no master", scene: (*lab).noMaster, a: Action{Kind: ActionStopVipd}, refused: "no node is MASTER holding the VIP"},
		{name: "probe failing", scene: func(l *lab) {
			l.steady()
			l.sample(ProbeSample{Time: t0, Err: errors.New("connection refused")})
		}, a: Action{Kind: ActionFault}, refused: "the VIP does not answer now (1 failures in a row: connection refused)"},
		{name: "nothing to repair", scene: (*lab).steady, a: Action{Kind: ActionRepair}, refused: "nothing to repair"},
		{name: "repair the faulted node", scene: (*lab).faulted, a: Action{Kind: ActionRepair}, target: "nginx-01", peer: "nginx-02"},
		{name: "re-enable the faulted node", scene: (*lab).faulted, a: Action{Kind: ActionResume}, target: "nginx-01", peer: "nginx-02",
			passedHave: "nginx-01 is nopreempt"},
		{name: "repair the master", scene: (*lab).steady, a: Action{Kind: ActionRepair, Node: "nginx-01"},
			refused: "nginx-01 is the MASTER holding the VIP: repair is for the node a drill failed"},
		{name: "re-enable before the takeover is confirmed", scene: (*lab).failover, a: Action{Kind: ActionResume, Node: "nginx-01"},
			refused: "no other node holds the VIP (nginx-02 is MASTER but no status has confirmed the VIP since its transition)"},
		{name: "re-enable would preempt", scene: func(l *lab) {
			l.faulted()
			in := l.instance(control.StateFault, 150, false)
			in.NoPreempt = false
			l.send(0, Update{Status: status("nginx-01", in)})
		}, a: Action{Kind: ActionResume}, refused: "nginx-01 is not nopreempt and its priority 150 is above nginx-02's 100"},
		{name: "unknown node", scene: (*lab).steady, a: Action{Kind: ActionRepair, Node: "nginx-09"}, refused: "pair web has no node nginx-09"},
		{name: "unknown pair", scene: (*lab).steady, a: Action{Kind: ActionRepair, Pair: "db"}, refused: `no pair "db"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateLab(t, tc.readOnly)
			tc.scene(g.lab)
			cmd := g.apply(ActionMsg{Action: tc.a})
			m := g.m
			if m.gate.seen != 1 {
				t.Errorf("the gate saw %d requests, want 1", m.gate.seen)
			}
			if tc.refused != "" {
				o := m.gate.shown
				if o == nil || o.Result != ResultRefused || !strings.Contains(o.Why, tc.refused) {
					t.Fatalf("outcome %+v, want refused with %q", o, tc.refused)
				}
				if m.gate.confirm != nil || len(g.gate.ran()) > 0 {
					t.Error("a refused action was confirmed or run")
				}
				cmdMsgs(cmd, 20*time.Millisecond) // the audit record
				if e := g.audit.all(); len(e) != 1 || e[0].Result != ResultRefused || e[0].Who != "alice" || e[0].ReadOnly != tc.readOnly {
					t.Errorf("audit log %+v, want one refusal by alice", e)
				}
				contains(t, g.screen(), "REFUSED")
				return
			}
			cf := m.gate.confirm
			if cf == nil {
				t.Fatalf("no confirmation; outcome %+v", m.gate.shown)
			}
			if cf.a.Node != tc.target || cf.peer != tc.peer || cf.typed != tc.typed {
				t.Errorf("confirmation on %s (peer %s, typed %v), want %s (peer %s, typed %v)", cf.a.Node, cf.peer, cf.typed, tc.target, tc.peer, tc.typed)
			}
			if tc.passedHave != "" && !strings.Contains(strings.Join(cf.passed, "|"), tc.passedHave) {
				t.Errorf("checks passed %q lack %q", cf.passed, tc.passedHave)
			}
			if len(g.gate.ran()) > 0 {
				t.Error("the action ran before it was confirmed")
			}
			contains(t, g.screen(), "Confirm "+tc.a.Kind.Title()+" on "+tc.target)
		})
	}
}

func TestGateConfirmKeys(t *testing.T) {
	for _, tc := range []struct {
		name    string
		scene   func(*lab)
		a       Action
		keys    []string // "text:..." types text
		ran     bool
		result  Result // of the outcome shown, if no run
		input   string // left in the box
		notice  string
		confirm string
	}{
		{name: "esc cancels", scene: (*lab).steady, a: Action{Kind: ActionFailNginx}, keys: []string{"text:ngi", "esc"}, result: ResultCancelled},
		{name: "the wrong name", scene: (*lab).steady, a: Action{Kind: ActionFailNginx}, keys: []string{"text:nginx-02", "enter"},
			input: "nginx-02", notice: `"nginx-02" is not nginx-01`},
		{name: "the node's name", scene: (*lab).steady, a: Action{Kind: ActionFailNginx}, keys: []string{"text:nginx-01", "enter"},
			ran: true, confirm: "typed nginx-01"},
		{name: "backspace", scene: (*lab).steady, a: Action{Kind: ActionStopVipd}, keys: []string{"text:nginx-011", "backspace", "enter"},
			ran: true, confirm: "typed nginx-01"},
		{name: "q and the action keys are text", scene: (*lab).steady, a: Action{Kind: ActionFault}, keys: []string{"text:qNFR"}, input: "qNFR"},
		{name: "y runs a repair", scene: (*lab).faulted, a: Action{Kind: ActionRepair}, keys: []string{"text:y"}, ran: true, confirm: "y"},
		{name: "enter runs a repair", scene: (*lab).faulted, a: Action{Kind: ActionRepair}, keys: []string{"enter"}, ran: true, confirm: "enter"},
		{name: "n cancels a repair", scene: (*lab).faulted, a: Action{Kind: ActionRepair}, keys: []string{"text:n"}, result: ResultCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateLab(t, false)
			tc.scene(g.lab)
			g.apply(ActionMsg{Action: tc.a})
			for _, k := range tc.keys {
				if text, ok := strings.CutPrefix(k, "text:"); ok {
					g.typeText(text)
				} else {
					g.apply(press(k))
				}
			}
			m := g.m
			if got := m.gate.run != nil; got != tc.ran {
				t.Fatalf("started %v, want %v", got, tc.ran)
			}
			switch {
			case tc.ran:
				if m.gate.run == nil || m.gate.run.confirmed != tc.confirm {
					t.Errorf("running %+v, want one confirmed by %q", m.gate.run, tc.confirm)
				}
			case tc.result != "":
				if o := m.gate.shown; o == nil || o.Result != tc.result {
					t.Errorf("outcome %+v, want %s", o, tc.result)
				}
			default:
				cf := m.gate.confirm
				if cf == nil || cf.input != tc.input || !strings.Contains(cf.notice, tc.notice) {
					t.Errorf("confirmation %+v, want input %q and notice %q", cf, tc.input, tc.notice)
				}
			}
		})
	}
}

// start confirms a and returns the run's result message, delivered.
func (g *gateLab) start(t *testing.T, a Action) {
	t.Helper()
	g.apply(ActionMsg{Action: a})
	cf := g.m.gate.confirm
	if cf == nil {
		t.Fatalf("no confirmation: %+v", g.m.gate.shown)
	}
	if cf.typed {
		g.typeText(cf.a.Node)
	}
	cmd := g.apply(press("enter"))
	if g.m.gate.run == nil {
		t.Fatalf("not running: %+v", g.m.gate.shown)
	}
	for _, msg := range cmdMsgs(cmd, 20*time.Millisecond) {
		if r, ok := msg.(actionResultMsg); ok {
			g.apply(r)
		}
	}
}

func TestGateFailover(t *testing.T) {
	g := newGateLab(t, false)
	g.steady()
	g.start(t, Action{Kind: ActionFailNginx})
	if r := g.m.gate.run; r == nil || r.phase != phaseVerify || r.target != "nginx-01" || r.peer != "nginx-02" {
		t.Fatalf("run %+v, want nginx-01 -> nginx-02 verifying", r)
	}
	contains(t, g.screen(), "▶ failover drill: nginx fails on nginx-01 → nginx-02", "… nginx-02 is MASTER and holds the VIP")
	g.nginxFails()
	if g.m.gate.run == nil {
		t.Fatalf("ended before the takeover was confirmed: %+v", g.m.gate.shown)
	}
	g.confirmTakeover()
	g.advance(500 * time.Millisecond)
	g.tick()
	if g.m.gate.run == nil {
		t.Fatal("passed before the expectations held for the settle time")
	}
	g.advance(time.Second)
	cmd := g.tick()
	o := g.m.gate.shown
	if g.m.gate.run != nil || o == nil || o.Result != ResultPass {
		t.Fatalf("outcome %+v, want pass", o)
	}
	for _, e := range o.Expectations {
		if !e.OK {
			t.Errorf("expectation %q not met: %s", e.Name, e.Detail)
		}
	}
	if len(o.Expectations) != 3 {
		t.Errorf("%d expectations, want 3: %+v", len(o.Expectations), o.Expectations)
	}
	if o.Probe.Failures != 2 || o.Probe.Outage != time.Second || o.Probe.FirstError != "connection refused" {
		t.Errorf("probe %+v, want 2 failures, 1s outage", o.Probe)
	}
	var transitions int
	for _, e := range o.Events {
		if strings.Contains(e.Text, "->") {
			transitions++
		}
	}
	if transitions != 2 {
		t.Errorf("%d transitions among the events %+v, want 2", transitions, o.Events)
	}
	cmdMsgs(cmd, 20*time.Millisecond)
	e := g.audit.all()
	if len(e) != 1 || e[0].Result != ResultPass || e[0].Node != "nginx-01" || e[0].Confirmed != "typed nginx-01" ||
		e[0].OutageMS != 1000 || e[0].NoHolderMS == nil || *e[0].NoHolderMS != 50 ||
		e[0].Detail != "the VIP moved from nginx-01 to nginx-02; outage 1.0s (probe: 5 requests, 2 failed); "+
			"no holder for 50ms (node events): nginx-01 MASTER -> FAULT at 03:04:06.200, nginx-02 BACKUP -> MASTER at 03:04:06.250" {
		t.Errorf("audit log %+v", e)
	}
	contains(t, g.screen(), "PASS failover drill: nginx fails on nginx-01", "✓ nginx-02 is MASTER and holds the VIP")
	g.apply(press("esc"))
	if g.m.gate.shown != nil {
		t.Error("esc did not dismiss the verdict")
	}
}

func TestGateStateChanged(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		g := newGateLab(t, false)
		g.steady()
		g.apply(ActionMsg{Action: Action{Kind: ActionFailNginx}})
		g.typeText("nginx-01")
		g.send(0, Update{Event: transition(time.Second, control.StateMaster, control.StateFault, netip.Addr{}, "nginx failed")})
		g.apply(press("enter"))
		o := g.m.gate.shown
		if o == nil || o.Result != ResultRefused || len(g.gate.ran()) > 0 {
			t.Fatalf("outcome %+v after %d runs, want refused before running", o, len(g.gate.ran()))
		}
		for _, want := range []string{
			"nginx-01 changed since you looked at 03:04:05 (was: MASTER with the VIP; now: FAULT, VIP unconfirmed)",
			"checked again: ",
		} {
			if !strings.Contains(o.Why, want) {
				t.Errorf("refusal %q lacks %q", o.Why, want)
			}
		}
	})
	t.Run("asked again", func(t *testing.T) {
		g := newGateLab(t, false)
		g.steady()
		g.apply(ActionMsg{Action: Action{Kind: ActionFailNginx}})
		g.typeText("nginx-01")
		g.send(1, Update{Conn: disconnected(at(time.Second), 1, "connection lost")})
		g.send(1, Update{Conn: connected(at(2 * time.Second))})
		g.apply(press("enter"))
		cf := g.m.gate.confirm
		if cf == nil || g.m.gate.run != nil || cf.input != "" || !strings.Contains(cf.notice, "nginx-02 changed since you looked") {
			t.Fatalf("confirmation %+v, running %v; want it asked again, empty", cf, g.m.gate.run != nil)
		}
		g.typeText("nginx-01")
		g.apply(press("enter"))
		if g.m.gate.run == nil {
			t.Errorf("not started after confirming again: %+v", g.m.gate.shown)
		}
	})
	t.Run("counters are no change", func(t *testing.T) {
		g := newGateLab(t, false)
		g.steady()
		g.apply(ActionMsg{Action: Action{Kind: ActionFailNginx}})
		in := g.instance(control.StateMaster, 150, true)
		in.Stats.AdvertSent += 50
		g.send(0, Update{Status: status("nginx-01", in)})
		g.typeText("nginx-01")
		g.apply(press("enter"))
		if g.m.gate.run == nil {
			t.Errorf("a status refresh made the confirmation stale: %+v", g.m.gate.shown)
		}
	})
}

func TestGatePostCheckFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scene  func(*gateLab)
		a      Action
		during func(*gateLab)
		why    []string
		remedy []string
	}{
		{
			name: "the peer does not take over", scene: func(g *gateLab) { g.steady() }, a: Action{Kind: ActionFailNginx},
			during: func(g *gateLab) { g.advance(31 * time.Second) },
			why:    []string{"after 31.0s", "nginx-02 is MASTER and holds the VIP: not so (nginx-02 is BACKUP, not MASTER)"},
			remedy: []string{"nginx on nginx-01 is held down by the drill: repair it (H) (on nginx-01: plan repair)", "rejoins as BACKUP"},
		},
		{
			name: "the commands fail", scene: func(g *gateLab) { g.steady(); g.gate.err = errors.New("exit status 5") },
			a: Action{Kind: ActionStopVipd}, why: []string{"the commands failed: exit status 5"},
			remedy: []string{"vipd on nginx-01 is stopped: re-enable it (R) (on nginx-01: plan start-vipd)"},
		},
		{
			name: "the probe fails during the rejoin", scene: func(g *gateLab) { g.faulted() }, a: Action{Kind: ActionResume},
			during: func(g *gateLab) {
				g.sample(ProbeSample{Time: at(time.Second), Err: errors.New("connection refused"), Latency: time.Millisecond})
			},
			why:    []string{"the probe failed at 03:04:06.000 while nginx-01 rejoined: connection refused"},
			remedy: []string{"nginx-01 did not rejoin cleanly", "nginx-02 keeps the VIP, which is safe"},
		},
		{
			name: "the VIP moves on a restart check", scene: func(g *gateLab) { g.steady() }, a: Action{Kind: ActionRestartNginx},
			during: func(g *gateLab) { g.nginxFails() },
			why:    []string{"the VIP moved: nginx-01 VI_1 MASTER -> FAULT", "vipd could not restart nginx in time"},
			remedy: []string{"nginx on nginx-01 may still be down: repair it (H)"},
		},
		{
			name: "split brain", scene: func(g *gateLab) { g.steady() }, a: Action{Kind: ActionFault},
			during: func(g *gateLab) {
				g.send(1, Update{Event: transition(time.Second, control.StateBackup, control.StateMaster, addr2, "master down")})
				// Split brain takes both nodes' statuses saying they hold
				// the VIP, not a MASTER claim alone.
				g.send(1, Update{Status: status("nginx-02", g.instance(control.StateMaster, 100, true))})
			},
			why:    []string{"SPLIT BRAIN VI_1: nginx-01 and nginx-02 both MASTER"},
			remedy: []string{"At once: stop vipd on nginx-01 (on nginx-01: plan stop-vipd) so that only nginx-02 holds the VIP"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateLab(t, false)
			tc.scene(g)
			g.start(t, tc.a)
			if tc.during != nil {
				tc.during(g)
			}
			g.tick()
			o := g.m.gate.shown
			if g.m.gate.run != nil || o == nil || o.Result != ResultFail {
				t.Fatalf("outcome %+v, want a failure", o)
			}
			for _, w := range tc.why {
				if !strings.Contains(o.Why, w) {
					t.Errorf("what is wrong: %q lacks %q", o.Why, w)
				}
			}
			for _, w := range tc.remedy {
				if !strings.Contains(o.Remedy, w) {
					t.Errorf("remedy %q lacks %q", o.Remedy, w)
				}
			}
			contains(t, g.screen(), "FAIL "+tc.a.Kind.Title(), "-> to return to a safe state:")
		})
	}
}

func TestGateResume(t *testing.T) {
	g := newGateLab(t, false)
	g.faulted()
	g.start(t, Action{Kind: ActionResume})
	in := g.instance(control.StateBackup, 150, false)
	g.send(0, Update{Event: transition(4*time.Second, control.StateFault, control.StateBackup, addr2, "resume requested")})
	g.send(0, Update{Status: status("nginx-01", in)})
	for i := range 10 {
		g.sample(ProbeSample{Time: at(4*time.Second + time.Duration(i)*200*time.Millisecond), OK: true, Backend: "nginx-02", Latency: time.Millisecond})
	}
	g.tick()
	g.advance(3 * time.Second)
	g.tick()
	o := g.m.gate.shown
	if o == nil || o.Result != ResultPass {
		t.Fatalf("outcome %+v, want pass", o)
	}
	want := []string{"the VIP stayed on nginx-02", "nginx-01 rejoined as BACKUP", "the probe saw no error during the rejoin", "the VIP answers from nginx-02"}
	var got []string
	for _, e := range o.Expectations {
		got = append(got, e.Name)
		if !e.OK {
			t.Errorf("%s: %s", e.Name, e.Detail)
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("expectations %q, want %q", got, want)
	}
}

func TestGateBusy(t *testing.T) {
	g := newGateLab(t, false)
	g.steady()
	g.apply(ActionMsg{Action: Action{Kind: ActionFailNginx}})
	g.apply(ActionMsg{Action: Action{Kind: ActionFault}}) // from a script, say
	if o := g.m.gate.shown; o == nil || o.Result != ResultRefused || !strings.Contains(o.Why, "another action is in progress: failover drill: nginx fails on nginx-01 (awaiting confirmation)") {
		t.Fatalf("outcome %+v, want the second refused", o)
	}
	if cf := g.m.gate.confirm; cf == nil || cf.a.Kind != ActionFailNginx {
		t.Errorf("the first confirmation is gone: %+v", cf)
	}
}
