package ui

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
)

// t0 is the console's fixed clock in tests.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// at is t0 plus d, for event times.
func at(d time.Duration) time.Time { return t0.Add(d) }

type fakeFeed struct {
	name string
	ch   chan Update

	mu         sync.Mutex
	reconnects []func(context.Context, ssh.HostKeyPrompt) bool // the confirm of each
}

func newFeed(name string) *fakeFeed { return &fakeFeed{name: name, ch: make(chan Update, 64)} }

func (f *fakeFeed) Node() string           { return f.name }
func (f *fakeFeed) Updates() <-chan Update { return f.ch }

func (f *fakeFeed) Reconnect(confirm func(context.Context, ssh.HostKeyPrompt) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reconnects = append(f.reconnects, confirm)
}

func (f *fakeFeed) redials() []func(context.Context, ssh.HostKeyPrompt) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]func(context.Context, ssh.HostKeyPrompt) bool(nil), f.reconnects...)
}

type fakeProbe struct{ ch chan ProbeSample }

func newProbe() *fakeProbe                       { return &fakeProbe{ch: make(chan ProbeSample, 64)} }
func (p *fakeProbe) Updates() <-chan ProbeSample { return p.ch }

// testOptions fix the clock and the zone, and turn the ticker off.
func testOptions() Options {
	return Options{Now: func() time.Time { return t0 }, Location: time.UTC, Refresh: -1, DrawEvery: -1, Commands: planCommands}
}

// planCommands and planVipd name each command after what it is for, so
// that tests can tell which ran.
var planCommands = Commands{
	NginxStop:   []string{"plan restart-nginx"},
	NginxBreak:  []string{"plan fail-nginx"},
	NginxRepair: []string{"plan repair"},
	VipdStop:    []string{"plan stop-vipd"},
	VipdStart:   []string{"plan start-vipd"},

	KeepalivedStop:  []string{"plan stop-keepalived"},
	KeepalivedStart: []string{"plan start-keepalived"},
}

type planVipd struct{}

func (planVipd) Fault(string, string, string) string { return "plan fault" }
func (planVipd) Resume(string, string) string        { return "plan resume" }

// lab is one or more pairs of nodes nginx-01/nginx-02 (nginx-03/04, ...)
// on VIPs 198.51.100.100, .101, ... Its scenarios apply messages to its
// model as the feeds' Cmds would deliver them, and record them for a
// replay into a running program.
type lab struct {
	m      *Model
	feeds  [][]*fakeFeed // per pair
	probes []*fakeProbe
	p      int       // the pair the scenario methods act on
	msgs   []tea.Msg // what was applied, in order
	clock  time.Time // the console's, t0 until advanced
}

func newLab(t testing.TB, pairs ...string) *lab {
	t.Helper()
	return newLabOpts(t, testOptions(), pairs...)
}

// newLabOpts is newLab with opts; the clock is the lab's, unless opts
// has one.
func newLabOpts(t testing.TB, opts Options, pairs ...string) *lab {
	t.Helper()
	if len(pairs) == 0 {
		pairs = []string{"web"}
	}
	l := &lab{clock: t0}
	opts.Now = func() time.Time { return l.clock }
	var ps []Pair
	for i, name := range pairs {
		a, b := newFeed(fmt.Sprintf("nginx-%02d", 2*i+1)), newFeed(fmt.Sprintf("nginx-%02d", 2*i+2))
		pr := newProbe()
		l.feeds = append(l.feeds, []*fakeFeed{a, b})
		l.probes = append(l.probes, pr)
		ps = append(ps, Pair{Name: name, VIP: fmt.Sprintf("198.51.100.%d", 100+i), Nodes: []Feed{a, b}, Probe: pr, Vipd: planVipd{}})
	}
	l.m = New(ps, opts)
	l.m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	t.Cleanup(l.close)
	return l
}

// close ends every feed, as the caller of a real console does, so that
// the Cmds reading them return.
func (l *lab) close() {
	for i := range l.feeds {
		for _, f := range l.feeds[i] {
			close(f.ch)
		}
		close(l.probes[i].ch)
	}
}

// apply applies msg as the Program would and records it.
func (l *lab) apply(msg tea.Msg) tea.Cmd {
	l.msgs = append(l.msgs, msg)
	_, cmd := l.m.Update(msg)
	return cmd
}

// send delivers u from node i of the current pair.
func (l *lab) send(i int, u Update) tea.Cmd {
	return l.apply(updateMsg{pair: l.p, node: i, u: u})
}

func (l *lab) sample(s ProbeSample) { l.apply(probeMsg{pair: l.p, s: s}) }

func (l *lab) resize(w, h int) { l.m.Update(tea.WindowSizeMsg{Width: w, Height: h}) }

// instance is VI_1 on the current pair's VIP.
func (l *lab) instance(st control.State, prio uint8, vip bool) control.Instance {
	in := instance(st, prio, vip)
	in.VIPs = []string{fmt.Sprintf("198.51.100.%d/24", 100+l.p)}
	return in
}

// name is node i of the current pair's name.
func (l *lab) name(i int) string { return l.feeds[l.p][i].name }

// screen is the view without colours.
func (l *lab) screen() string { return ansi.Strip(l.m.View().Content) }

var (
	addr1 = netip.MustParseAddr("198.51.100.11")
	addr2 = netip.MustParseAddr("198.51.100.12")
)

// instance is VI_1 in state st, with the VIP on the interface or not.
func instance(st control.State, prio uint8, vip bool) control.Instance {
	in := control.Instance{
		Name: "VI_1", Interface: "eth0", VRID: 60, Version: 2,
		AdverInt: control.Seconds(time.Second), MasterAdverInt: control.Seconds(time.Second),
		State: st, BasePriority: prio, EffectivePriority: prio, NoPreempt: true,
		MasterPriority: 100, VIPs: []string{"198.51.100.100/24"}, VIPPresent: vip,
		LastTransition: t0.Add(-time.Hour), Transitions: 1, Master: addr1,
	}
	switch st {
	case control.StateMaster:
		in.Stats.AdvertSent = 3600
		in.Stats.BecomeMaster = 1
	case control.StateBackup:
		in.LastAdvert = t0.Add(-313 * time.Millisecond)
		in.LastAdvertAge = control.Millis(313 * time.Millisecond)
		in.Stats.AdvertRcvd = 3598
	case control.StateFault, control.StateInit:
		in.EffectivePriority = 0
	}
	return in
}

func healthy() *control.Guard {
	return &control.Guard{
		Name: "nginx", Healthy: true, Verdict: control.VerdictHealthy, Since: t0.Add(-time.Hour),
		URL: "http://127.0.0.1/health", Latency: control.Millis(412 * time.Microsecond),
		LastCheck: t0.Add(-time.Second), Checks: 1800,
	}
}

func status(node string, ins ...control.Instance) *control.Status {
	return &control.Status{
		Contract: control.ContractVersion, RouterID: node, Hostname: node, VipdVersion: "v0.1.0",
		Time: t0, PID: 4242, Uptime: control.Millis(time.Hour), Instances: ins, Nginx: healthy(),
	}
}

func snapshot(node string, ins ...control.Instance) *control.Event {
	return &control.Event{Time: t0.Add(-time.Minute), Type: control.EventSnapshot, Snapshot: status(node, ins...)}
}

func transition(d time.Duration, from, to control.State, master netip.Addr, reason string) *control.Event {
	return &control.Event{Time: at(d), Type: control.EventTransition, Instance: "VI_1", From: from, To: to, Master: master, Reason: reason}
}

func connected(since time.Time) *ssh.State { return &ssh.State{Connected: true, Since: since} }

func disconnected(since time.Time, attempt int, err string) *ssh.State {
	return &ssh.State{Since: since, Attempt: attempt, LastErr: errors.New(err)}
}

// steady brings the lab to nginx-01 MASTER, nginx-02 BACKUP, probe happy.
func (l *lab) steady() {
	l.send(0, Update{Conn: connected(t0.Add(-2 * time.Hour)), Event: snapshot(l.name(0), l.instance(control.StateMaster, 150, true))})
	l.send(1, Update{Conn: connected(t0.Add(-2 * time.Hour)), Event: snapshot(l.name(1), l.instance(control.StateBackup, 100, false))})
	for i := range 10 {
		l.sample(ProbeSample{Time: at(time.Duration(i-10) * time.Second), OK: true, Latency: 1200 * time.Microsecond, Backend: l.name(0)})
	}
}

// failover: nginx on nginx-01 fails, nginx-01 goes to FAULT, nginx-02
// takes over; no status has confirmed the VIP yet and the probe fails.
func (l *lab) failover() {
	l.steady()
	l.nginxFails()
}

// nginxFails is failover without the steady state before.
func (l *lab) nginxFails() {
	l.send(0, Update{Event: &control.Event{Time: at(time.Second), Type: control.EventCheck, Guard: "nginx",
		Check: &control.Check{Time: at(time.Second), OK: false, Latency: control.Millis(180 * time.Microsecond),
			Error: "GET http://127.0.0.1/health: connection refused", Phase: control.PhaseCheck}}})
	l.send(0, Update{Event: &control.Event{Time: at(1100 * time.Millisecond), Type: control.EventVerdict, Guard: "nginx",
		Verdict: control.VerdictFailed, Reason: "3 failures in a row (fall 3)"}})
	l.send(0, Update{Event: transition(1200*time.Millisecond, control.StateMaster, control.StateFault, netip.Addr{}, "nginx failed: 3 failures in a row (fall 3)")})
	l.send(1, Update{Event: transition(1250*time.Millisecond, control.StateBackup, control.StateMaster, addr2, "priority 0 received")})
	l.sample(ProbeSample{Time: at(time.Second), OK: true, Latency: 1100 * time.Microsecond, Backend: l.name(0)})
	l.sample(ProbeSample{Time: at(1500 * time.Millisecond), Latency: 2 * time.Millisecond, Err: errors.New("connection refused")})
	l.sample(ProbeSample{Time: at(2 * time.Second), Latency: 2 * time.Millisecond, Err: errors.New("connection refused")})
}

// faulted: the failover is over: statuses confirm it and the probe reaches
// nginx-02.
func (l *lab) faulted() {
	l.failover()
	l.confirmTakeover()
}

// confirmTakeover is faulted without the failover before.
func (l *lab) confirmTakeover() {
	in1 := l.instance(control.StateFault, 150, false)
	in1.FaultReason = "nginx failed: 3 failures in a row (fall 3)"
	in1.Master = netip.Addr{}
	st1 := status(l.name(0), in1)
	st1.Time = at(3 * time.Second)
	st1.Nginx.Healthy, st1.Nginx.Verdict, st1.Nginx.Reason = false, control.VerdictFailed, "3 failures in a row (fall 3)"
	st1.Nginx.LastError, st1.Nginx.LastErrorTime = "GET http://127.0.0.1/health: connection refused", at(2900*time.Millisecond)
	in2 := l.instance(control.StateMaster, 100, true)
	in2.Master = addr2
	in2.Stats.AdvertSent = 2
	st2 := status(l.name(1), in2)
	st2.Time = at(3 * time.Second)
	l.send(0, Update{Status: st1})
	l.send(1, Update{Status: st2})
	l.sample(ProbeSample{Time: at(2500 * time.Millisecond), OK: true, Latency: 1300 * time.Microsecond, Backend: l.name(1)})
	l.sample(ProbeSample{Time: at(3 * time.Second), OK: true, Latency: 1300 * time.Microsecond, Backend: l.name(1)})
}

// splitBrain: both nodes MASTER with the VIP; answers alternate.
func (l *lab) splitBrain() {
	l.steady()
	l.send(1, Update{Event: transition(time.Second, control.StateBackup, control.StateMaster, addr2, "master down: no advert for 3.609s")})
	in2 := l.instance(control.StateMaster, 100, true)
	in2.Master = addr2
	st2 := status(l.name(1), in2)
	st2.Time = at(2 * time.Second)
	l.send(1, Update{Status: st2})
	for i := range 6 {
		b := l.name(0)
		if i%2 == 1 {
			b = l.name(1)
		}
		l.sample(ProbeSample{Time: at(time.Duration(i) * 500 * time.Millisecond), OK: true, Latency: 1400 * time.Microsecond, Backend: b})
	}
}

// noMaster: both nodes BACKUP, nobody holds the VIP.
func (l *lab) noMaster() {
	l.send(0, Update{Conn: connected(t0.Add(-2 * time.Hour)), Event: snapshot(l.name(0), l.instance(control.StateBackup, 150, false))})
	l.send(1, Update{Conn: connected(t0.Add(-2 * time.Hour)), Event: snapshot(l.name(1), l.instance(control.StateBackup, 100, false))})
}

// lostLink: nginx-02's SSH link is down and retrying.
func (l *lab) lostLink() {
	l.steady()
	l.send(1, Update{Conn: disconnected(at(-15*time.Second), 0, "connection lost: keepalive timeout")})
	l.send(1, Update{Conn: disconnected(at(-15*time.Second), 3, "dial tcp 198.51.100.12:22: connect: connection refused")})
}

// badInput: vipd on nginx-01 is too old; nginx-02's host key changed.
func (l *lab) badInput() {
	l.send(0, Update{Conn: connected(t0.Add(-time.Minute))})
	l.send(0, Update{Err: fmt.Errorf("failed to read vipd's watch stream on nginx-01: %w", &control.VersionError{Got: 0, Want: 1})})
	l.send(1, Update{Conn: &ssh.State{Since: t0.Add(-time.Minute), Attempt: 1, LastErr: &ssh.HostKeyChangedError{
		Host: l.name(1), Address: "198.51.100.12", Type: "ssh-ed25519",
		Fingerprint: "SHA256:Fq8wNQcVYAHZzbNvI6dA5CVkn4gvLMqRb9JqpdY3t5A",
		Offending:   []ssh.KnownKey{{File: "/home/alice/.ssh/known_hosts", Line: 12, Type: "ssh-ed25519"}},
	}}})
}

func contains(t *testing.T, screen string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(screen, w) {
			t.Errorf("screen lacks %q:\n%s", w, screen)
		}
	}
}

func lacks(t *testing.T, screen string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(screen, w) {
			t.Errorf("screen shows %q:\n%s", w, screen)
		}
	}
}
