package ui

import (
	"errors"
	"maps"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
)

const ms = time.Millisecond

// Samples of a dense probe, sent at t0 plus the given offset.
func okAt(d time.Duration) ProbeSample {
	return ProbeSample{Time: at(d), OK: true, Latency: ms, Pace: 5 * ms, Backend: "nginx-02"}
}

func refusedAt(d time.Duration) ProbeSample {
	return ProbeSample{Time: at(d), Latency: ms, Pace: 5 * ms, Err: errors.New("connect: connection refused")}
}

// timeoutAt missed its 10 ms and is followed; lostAt and lateAt are its
// follow-ups: never answered, answered after late.
func timeoutAt(d time.Duration) ProbeSample {
	return ProbeSample{Time: at(d), Latency: 10 * ms, Pace: 5 * ms, Err: ProbeTimeout{After: 10 * ms}, Followed: true}
}

func lostAt(d time.Duration) ProbeSample {
	return ProbeSample{Time: at(d), Latency: time.Second, Pace: 5 * ms, Err: ProbeTimeout{After: time.Second}, FollowUp: true}
}

func lateAt(d, late time.Duration) ProbeSample {
	return ProbeSample{Time: at(d), Latency: late, Pace: 5 * ms, Err: ProbeTimeout{After: 10 * ms, Late: late}, FollowUp: true}
}

func TestProbeMeter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failover bool
		samples  []ProbeSample
		want     ProbeStats // Probed, Pace and FirstError aside
		first    time.Duration
		figure   string
	}{
		{name: "none failed", samples: []ProbeSample{okAt(0), okAt(5 * ms), okAt(10 * ms)},
			want: ProbeStats{Samples: 3}, figure: "no outage (probe, 5ms)"},
		{name: "refused for 60ms",
			samples: []ProbeSample{okAt(0), refusedAt(5 * ms), refusedAt(10 * ms), refusedAt(30 * ms), okAt(65 * ms)},
			want:    ProbeStats{Samples: 5, Failures: 3, Conclusive: 3, Outage: 60 * ms, Longest: 60 * ms}, first: 5 * ms,
			figure: "outage 60ms (probe, 5ms)"},
		{name: "two runs summed",
			samples: []ProbeSample{refusedAt(0), okAt(20 * ms), refusedAt(100 * ms), refusedAt(105 * ms), okAt(150 * ms)},
			want:    ProbeStats{Samples: 5, Failures: 3, Conclusive: 3, Outage: 70 * ms, Longest: 50 * ms},
			figure:  "outage 70ms (probe, 5ms)"},
		{name: "still down at the end: to the last failure's end",
			samples: []ProbeSample{okAt(0), refusedAt(5 * ms), refusedAt(10 * ms)},
			want:    ProbeStats{Samples: 3, Failures: 2, Conclusive: 2, Outage: 6 * ms, Longest: 6 * ms}, first: 5 * ms},
		{name: "slow answers are blips, no outage",
			samples: []ProbeSample{okAt(0), timeoutAt(5 * ms), timeoutAt(10 * ms), okAt(20 * ms), lateAt(5*ms, 22*ms), lateAt(10*ms, 15*ms)},
			want:    ProbeStats{Samples: 4, Failures: 2, Blips: 2, BlipTime: 15 * ms},
			figure:  "no outage (probe, 5ms; 2 slow)"},
		{name: "a blip's follow-up may come before the run ends",
			samples: []ProbeSample{timeoutAt(5 * ms), lateAt(5*ms, 12*ms), okAt(15 * ms)},
			want:    ProbeStats{Samples: 2, Failures: 1, Blips: 1, BlipTime: 10 * ms}},
		{name: "one lost request makes the run an outage",
			samples: []ProbeSample{okAt(0), timeoutAt(5 * ms), timeoutAt(10 * ms), okAt(20 * ms), lateAt(5*ms, 22*ms), lostAt(10 * ms)},
			want:    ProbeStats{Samples: 4, Failures: 2, Conclusive: 2, Outage: 15 * ms, Longest: 15 * ms}, first: 5 * ms,
			figure: "outage 15ms (probe, 5ms)"},
		{name: "not judged while a follow-up is missing",
			samples: []ProbeSample{okAt(0), timeoutAt(5 * ms), okAt(20 * ms)},
			want:    ProbeStats{Samples: 3, Failures: 1}},
		{name: "during a failover every failure counts", failover: true,
			samples: []ProbeSample{okAt(0), timeoutAt(5 * ms), timeoutAt(15 * ms), okAt(68 * ms), lateAt(5*ms, 20*ms)},
			want:    ProbeStats{Samples: 4, Failures: 2, Conclusive: 2, Outage: 63 * ms, Longest: 63 * ms}, first: 5 * ms,
			figure: "outage 63ms (probe, 5ms)"},
		{name: "a refusal among slow answers makes the run an outage",
			samples: []ProbeSample{timeoutAt(0), refusedAt(10 * ms), okAt(30 * ms), lateAt(0, 20*ms)},
			want:    ProbeStats{Samples: 3, Failures: 2, Conclusive: 2, Outage: 30 * ms, Longest: 30 * ms}},
		{name: "a stray follow-up changes nothing",
			samples: []ProbeSample{okAt(0), lostAt(3 * ms), okAt(5 * ms)},
			want:    ProbeStats{Samples: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := probeMeter{noBlips: tc.failover}
			for _, s := range tc.samples {
				p.add(s)
			}
			got := p.stats(true)
			if got.Pace != 5*ms {
				t.Errorf("pace %v, want 5ms", got.Pace)
			}
			if tc.first != 0 && !got.FirstFailure.Equal(at(tc.first)) {
				t.Errorf("first failure at %v, want %v", got.FirstFailure.Sub(t0), tc.first)
			}
			if (got.Conclusive > 0) != (got.FirstError != "") {
				t.Errorf("first error %q with %d conclusive failures", got.FirstError, got.Conclusive)
			}
			got.Probed, got.Pace, got.FirstFailure, got.FirstError = false, 0, time.Time{}, ""
			if got != tc.want {
				t.Errorf("stats\n%+v, want\n%+v", got, tc.want)
			}
			got.Probed, got.Pace = true, 5*ms
			if tc.figure != "" && got.Figure() != tc.figure {
				t.Errorf("figure %q, want %q", got.Figure(), tc.figure)
			}
		})
	}
}

// A blip in progress does not hide the answer before it from the
// post-checks; a run that is an outage does.
func TestProbeMeterLastWord(t *testing.T) {
	var p probeMeter
	p.add(okAt(0))
	p.add(timeoutAt(5 * ms))
	if s, ok := p.lastWord(); !ok || !s.OK {
		t.Errorf("during a possible blip the last word is %+v, want the answer before", s)
	}
	p.add(refusedAt(15 * ms))
	if s, ok := p.lastWord(); !ok || s.OK {
		t.Errorf("during an outage the last word is %+v, want the failure", s)
	}
}

// transitionAt is node's transition at node time d.
func transitionAt(d time.Duration, from, to control.State) Update {
	return Update{Event: &control.Event{Time: at(d), Type: control.EventTransition, Instance: "VI_1", From: from, To: to}}
}

// statusAt is a status event stamped at node time d.
func statusAt(d time.Duration) Update {
	return Update{Event: &control.Event{Time: at(d), Type: control.EventStatus, Status: &control.Status{Time: at(d)}}}
}

func TestHolderGap(t *testing.T) {
	type upd struct {
		node    string
		u       Update
		arrival time.Duration // on the console's clock, from t0
	}
	const (
		a, b   = "nginx-01", "nginx-02"
		master = control.StateMaster
	)
	skew := 30 * time.Second // b's clock ahead of the console's and a's
	for _, tc := range []struct {
		name   string
		kind   ActionKind
		start  []string                 // the MASTERs at the start
		lags   map[string]time.Duration // the streams' least lag before the action
		ups    []upd
		want   HolderGap // From and To aside
		from   string
		to     string
		figure string
	}{
		{name: "nothing moved", kind: ActionRestartNginx, start: []string{a},
			ups: []upd{{a, statusAt(100 * ms), 102 * ms}}},
		{name: "fault: between the nodes' timestamps", kind: ActionFault, start: []string{a},
			ups: []upd{
				{a, statusAt(0), 2 * ms}, {b, statusAt(0), 3 * ms},
				{a, transitionAt(100*ms, master, control.StateFault), 110 * ms},
				{b, transitionAt(163*ms, control.StateBackup, master), 165 * ms},
			},
			want: HolderGap{Seen: true, Gap: 63 * ms}, from: a + " MASTER -> FAULT at 03:04:05.100",
			to: b + " BACKUP -> MASTER at 03:04:05.163", figure: "no holder for 63ms (node events)"},
		{name: "clocks 30s apart: arrival times", kind: ActionFault, start: []string{a},
			ups: []upd{
				{a, statusAt(0), 2 * ms}, {b, statusAt(skew), 2 * ms},
				{a, transitionAt(100*ms, master, control.StateFault), 102 * ms},
				{b, transitionAt(skew+163*ms, control.StateBackup, master), 170 * ms},
			},
			want: HolderGap{Seen: true, Gap: 68 * ms, Arrival: true, Skew: skew},
			from: a + " MASTER -> FAULT at 03:04:05.102", to: b + " BACKUP -> MASTER at 03:04:05.170",
			figure: "no holder for 68ms (node events, arrival times: the nodes' clocks differ by 30.0s)"},
		{name: "a node's words late during the action: its stream's lag before it", kind: ActionFault, start: []string{a},
			lags: map[string]time.Duration{a: 2 * ms, b: 2 * ms},
			ups: []upd{
				{a, statusAt(0), 42 * ms}, {b, statusAt(0), 2 * ms},
				{a, transitionAt(100*ms, master, control.StateFault), 170 * ms},
				{b, transitionAt(163*ms, control.StateBackup, master), 165 * ms},
			},
			want: HolderGap{Seen: true, Gap: 63 * ms}, from: a + " MASTER -> FAULT at 03:04:05.100",
			to: b + " BACKUP -> MASTER at 03:04:05.163", figure: "no holder for 63ms (node events)"},
		{name: "the same without the stream's lag: arrival order reversed", kind: ActionFault, start: []string{a},
			ups: []upd{
				{a, statusAt(0), 42 * ms}, {b, statusAt(0), 2 * ms},
				{a, transitionAt(100*ms, master, control.StateFault), 170 * ms},
				{b, transitionAt(163*ms, control.StateBackup, master), 165 * ms},
			},
			want:   HolderGap{Seen: true, Arrival: true, Skew: 40 * ms, Unknown: b + " BACKUP -> MASTER while " + a + " had not said it let go"},
			figure: "holder gap unknown (node events)"},
		{name: "vipd stopped: its stream's end is its letting go", kind: ActionStopVipd, start: []string{a},
			ups: []upd{
				{a, statusAt(0), 2 * ms}, {b, statusAt(0), 2 * ms},
				{a, Update{Err: errors.New("vipd ended the stream")}, 50 * ms},
				{b, transitionAt(110*ms, control.StateBackup, master), 112 * ms},
			},
			want: HolderGap{Seen: true, Gap: 62 * ms, Arrival: true}, from: a + " vipd ended its stream at 03:04:05.050",
			to:     b + " BACKUP -> MASTER at 03:04:05.112",
			figure: "no holder for 62ms (node events, arrival times)"},
		{name: "a stream ending is no letting go but for a vipd stop", kind: ActionFault, start: []string{a},
			ups: []upd{
				{a, statusAt(0), 2 * ms}, {b, statusAt(0), 2 * ms},
				{a, Update{Err: errors.New("connection lost")}, 50 * ms},
				{b, transitionAt(110*ms, control.StateBackup, master), 112 * ms},
			},
			want:   HolderGap{Seen: true, Unknown: b + " BACKUP -> MASTER while " + a + " had not said it let go"},
			figure: "holder gap unknown (node events)"},
		{name: "nobody took over", kind: ActionFault, start: []string{a},
			ups: []upd{
				{a, statusAt(0), 2 * ms}, {b, statusAt(0), 2 * ms},
				{a, transitionAt(100*ms, master, control.StateFault), 102 * ms},
			},
			// The end, on the console's clock, is taken to a's: 2 ms behind.
			want: HolderGap{Seen: true, Gap: 398 * ms, Open: true}, from: a + " MASTER -> FAULT at 03:04:05.100",
			figure: "no holder for 398ms, none at the end (node events)"},
		{name: "another instance's transition is not the VIP's", kind: ActionFault, start: []string{a},
			ups: []upd{{a, Update{Event: &control.Event{Time: at(ms), Type: control.EventTransition, Instance: "VI_2",
				From: master, To: control.StateFault}}, 2 * ms}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &outageMeter{start: t0, holders: tc.start, offsets: maps.Clone(tc.lags),
				instance: map[string]string{a: "VI_1", b: "VI_1"}}
			if o.offsets == nil {
				o.offsets = map[string]time.Duration{}
			}
			if tc.kind == ActionStopVipd {
				o.endsHold = a
			}
			for _, u := range tc.ups {
				o.node(u.node, u.u, at(u.arrival))
			}
			g := o.holderGap(at(500 * ms))
			if g.From != tc.from || g.To != tc.to {
				t.Errorf("from %q to %q, want %q to %q", g.From, g.To, tc.from, tc.to)
			}
			if g.Figure() != tc.figure {
				t.Errorf("figure %q, want %q", g.Figure(), tc.figure)
			}
			g.From, g.To = "", ""
			if g != tc.want {
				t.Errorf("gap\n%+v, want\n%+v", g, tc.want)
			}
		})
	}
}

// pacer is a probe the console can make dense.
type pacer struct {
	*fakeProbe
	dense []bool
}

func (p *pacer) Dense(on bool) { p.dense = append(p.dense, on) }

// The probe is dense exactly while an action runs, and the verdict names
// each figure's source: on screen, in the timeline and the audit log.
func TestGateDenseProbe(t *testing.T) {
	pr := &pacer{fakeProbe: newProbe()}
	g := newGateLab(t, false)
	g.m.pairs[0].pacer = pr
	g.steady()
	g.start(t, Action{Kind: ActionFault})
	if len(pr.dense) != 1 || !pr.dense[0] {
		t.Fatalf("Dense calls %v once the action started, want [true]", pr.dense)
	}
	g.sample(ProbeSample{Time: at(1100 * ms), OK: true, Latency: ms, Pace: 5 * ms, Backend: "nginx-01"})
	g.send(0, Update{Event: transition(1200*ms, control.StateMaster, control.StateFault, netip.Addr{}, "fault requested: drill")})
	g.sample(ProbeSample{Time: at(1205 * ms), Latency: 10 * ms, Pace: 5 * ms, Err: ProbeTimeout{After: 10 * ms}, Followed: true})
	g.send(1, Update{Event: transition(1263*ms, control.StateBackup, control.StateMaster, addr2, "master released (priority 0)")})
	g.sample(ProbeSample{Time: at(1270 * ms), OK: true, Latency: ms, Pace: 5 * ms, Backend: "nginx-02"})
	g.confirmTakeover()
	g.advance(1500 * ms)
	cmd := g.tick()
	o := g.m.gate.shown
	if o == nil || o.Result != ResultPass {
		t.Fatalf("outcome %+v, want pass", o)
	}
	if len(pr.dense) != 2 || pr.dense[1] {
		t.Errorf("Dense calls %v once the action ended, want [true false]", pr.dense)
	}
	if got, want := o.outageShort(), "outage 65ms (probe, 5ms), no holder for 63ms (node events)"; got != want {
		t.Errorf("figures %q, want %q", got, want)
	}
	contains(t, g.screen(), "outage 65ms (probe, 5ms: 5 requests, 1 failed); no", "holder for 63ms (node events): nginx-01 MASTER -> FAULT at 03:04:06.200,")
	cmdMsgs(cmd, 20*ms)
	if e := g.audit.all(); len(e) != 1 || e[0].OutageMS != 65 || e[0].NoHolderMS == nil || *e[0].NoHolderMS != 63 ||
		!strings.Contains(e[0].Detail, "outage 65ms (probe, 5ms: ") {
		t.Errorf("audit %+v", e)
	}
}

func TestAnsweredBy(t *testing.T) {
	l := newLab(t)
	p := l.m.pairs[0]
	host := func(i int, hostname, router string) {
		p.nodes[i].status = &control.Status{Hostname: hostname, RouterID: router}
	}
	host(0, "web1.example.com", "lb-a")
	host(1, "web2.example.com", "lb-b")
	for _, tc := range []struct {
		backend, from  string
		want, wantFrom string
	}{
		{"nginx-02", "X-Served-By", "nginx-02", "X-Served-By"},
		{"web1.example.com", "X-Served-By", "nginx-01", "X-Served-By web1.example.com"},
		{"web2", "X-Served-By", "nginx-02", "X-Served-By web2"},
		{"lb-a", "body", "nginx-01", "body lb-a"},
		{"web3", "X-Served-By", "", `X-Served-By "web3" names no node of the pair`},
		{"", "", "", ""},
	} {
		got := p.answeredBy(ProbeSample{OK: true, Backend: tc.backend, From: tc.from})
		if got.Backend != tc.want || got.From != tc.wantFrom {
			t.Errorf("%q from %q: %q (%q), want %q (%q)", tc.backend, tc.from, got.Backend, got.From, tc.want, tc.wantFrom)
		}
	}
	// Lab nodes share one hostname: it names neither.
	host(0, "labhost", "n1")
	host(1, "labhost", "n2")
	if got := p.answeredBy(ProbeSample{OK: true, Backend: "labhost", From: "X-Served-By"}); got.Backend != "" ||
		got.From != `X-Served-By "labhost" fits nginx-01 and nginx-02 alike` {
		t.Errorf("a shared hostname: %q (%q)", got.Backend, got.From)
	}
}

// A dense probe's samples reach the model in batches; a sparse one's one
// at a time.
func TestWaitProbeBatches(t *testing.T) {
	ch := make(chan ProbeSample, 8)
	for i := range 5 {
		ch <- okAt(time.Duration(i) * 5 * ms)
	}
	pair, ss := ProbeSamples(waitProbe(3, ch)())
	if pair != 3 || len(ss) != 5 || !ss[4].Time.Equal(at(20*ms)) {
		t.Errorf("dense: pair %d, %d samples", pair, len(ss))
	}
	ch <- ProbeSample{Time: at(time.Second), OK: true, Pace: 200 * ms}
	ch <- ProbeSample{Time: at(1200 * ms), OK: true, Pace: 200 * ms}
	if _, ss := ProbeSamples(waitProbe(0, ch)()); len(ss) != 1 {
		t.Errorf("sparse: %d samples in one message", len(ss))
	}
	close(ch)
	<-ch
	if _, ok := waitProbe(0, ch)().(probeClosedMsg); !ok {
		t.Error("a closed probe is not reported")
	}
	if pair, ss := ProbeSamples(tickMsg{}); pair != -1 || ss != nil {
		t.Error("ProbeSamples of another message")
	}
}
