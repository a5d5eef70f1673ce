package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vipkit/vip/node/control"
)

// This file measures what an action cost the VIP, from two sources that
// every figure names:
//
//   - the probe: from each failed request to the next answered one. The
//     pair's probe is dense while an action runs (ProbePacer: every 5 ms
//     in the console), so the figure is good to about its pace;
//   - the nodes' own transition events: how long no node was MASTER,
//     between one node leaving MASTER and another entering it.
//
// The nodes stamp their events with their own clocks, which may differ
// from each other and from the console's. An interval between two nodes'
// timestamps is used only when their clocks agree as far as the console
// can tell: each node's offset is the least (arrival - node time) over
// everything it sent since its stream began (its clock's offset plus the
// fastest delivery: freshness.lag, then the action's own words), and the
// two offsets must be within clockAgree. A loaded console or link delays
// every word of an action; the quiet time before it gives the offset.
// Otherwise the interval is between the events' arrival times at the
// console, good to the links' delivery jitter.

// clockAgree is how far apart two nodes' offsets may be for an interval
// between their timestamps to be trusted: half the 50 ms a figure must be
// good to.
const clockAgree = 25 * time.Millisecond

// HolderGap is how long no node held the VIP while an action ran, by the
// nodes' own events.
type HolderGap struct {
	// Seen: the events showed a node enter or leave MASTER. Without, the
	// other fields are zero.
	Seen bool
	// Gap is the time with no MASTER, summed; Open that there was none at
	// the end (Gap counts to the end).
	Gap  time.Duration
	Open bool
	// Arrival says Gap is between the events' arrival times at the
	// console, not the nodes' timestamps: an edge had no timestamp (a
	// stopped vipd's stream ending), or the clocks could not be compared,
	// or Skew (how far apart the nodes' offsets were) exceeded clockAgree.
	Arrival bool
	Skew    time.Duration
	// From and To are the first gap's edges: "n1 MASTER -> FAULT at
	// 12:00:01.618", "n2 BACKUP -> MASTER at 12:00:01.681".
	From, To string
	// Unknown says why no figure could be given: a node took the VIP
	// while another had not said it let go.
	Unknown string
}

// outageMeter follows one action's samples and node events as they come.
type outageMeter struct {
	start    time.Time
	probe    probeMeter
	holders  []string          // the MASTERs at the start
	instance map[string]string // by node: its instance with the VIP
	// endsHold is the node whose stream ending is its letting go: the
	// target of a vipd stop, which gives the VIP up as it ends its streams
	// (their last word; the INIT transition does not get out).
	endsHold string
	ended    bool
	edges    []holderEdge
	offsets  map[string]time.Duration
}

// holderEdge is a node entering or leaving MASTER.
type holderEdge struct {
	node    string
	at      time.Time // the node's timestamp; zero if it gave none
	arrived time.Time // on the console's clock
	master  bool      // entered MASTER; else left it
	what    string    // "MASTER -> FAULT"
}

func newOutageMeter(p *pairView, a Action, now time.Time) *outageMeter {
	o := &outageMeter{start: now, instance: map[string]string{}, offsets: map[string]time.Duration{}}
	for _, n := range p.nodes {
		in := p.vipInstance(n)
		if in == nil {
			continue
		}
		o.instance[n.name] = in.Name
		if n.fresh.lagKnown {
			o.offsets[n.name] = n.fresh.lag
		}
		if n.live() && in.State == control.StateMaster {
			o.holders = append(o.holders, n.name)
		}
	}
	if a.Kind == ActionStopVipd {
		o.endsHold = a.Node
	}
	o.probe.noBlips = a.Kind.Failover()
	return o
}

// sample takes a probe sample sent since the start.
func (o *outageMeter) sample(s ProbeSample) {
	if o != nil {
		o.probe.add(s)
	}
}

// node takes an update from a node, which arrived at now.
func (o *outageMeter) node(name string, u Update, now time.Time) {
	if o == nil {
		return
	}
	if u.Status != nil {
		o.clock(name, u.Status.Time, now)
	}
	if ev := u.Event; ev != nil {
		o.clock(name, ev.Time, now)
		inst, known := o.instance[name]
		from, to := ev.From == control.StateMaster, ev.To == control.StateMaster
		if ev.Type == control.EventTransition && from != to && (!known || ev.Instance == inst) {
			o.edges = append(o.edges, holderEdge{node: name, at: ev.Time, arrived: now, master: to,
				what: fmt.Sprintf("%s -> %s", ev.From, ev.To)})
		}
	}
	if u.Err != nil && name == o.endsHold && !o.ended {
		o.ended = true
		o.edges = append(o.edges, holderEdge{node: name, arrived: now, what: "vipd ended its stream"})
	}
}

// clock notes a node's timestamp against its arrival.
func (o *outageMeter) clock(name string, at, now time.Time) {
	if at.IsZero() {
		return
	}
	off := now.Sub(at)
	if cur, ok := o.offsets[name]; !ok || off < cur {
		o.offsets[name] = off
	}
}

// lastWord is the probe sample the post-checks judge the VIP by: see
// probeMeter.lastWord.
func (r *runState) lastWord() (ProbeSample, bool) {
	if r.meter == nil {
		if r.lastSample == nil {
			return ProbeSample{}, false
		}
		return *r.lastSample, true
	}
	return r.meter.probe.lastWord()
}

// probeStats is what the probe saw so far.
func (o *outageMeter) probeStats(probed bool) ProbeStats {
	if o == nil {
		return ProbeStats{Probed: probed}
	}
	return o.probe.stats(probed)
}

// holderGap is how long no node was MASTER by the events so far; end is
// the console's clock now, for a gap still open.
func (o *outageMeter) holderGap(end time.Time) HolderGap {
	var g HolderGap
	if o == nil || len(o.edges) == 0 {
		return g
	}
	g.Seen = true
	nodeClock := len(o.holders) > 0
	var offs []time.Duration
	for _, e := range o.edges {
		off, ok := o.offsets[e.node]
		if e.at.IsZero() || !ok {
			nodeClock = false
		}
		if ok {
			offs = append(offs, off)
		}
	}
	if len(offs) > 0 {
		g.Skew = slices.Max(offs) - slices.Min(offs)
	}
	if g.Skew > clockAgree {
		nodeClock = false
	}
	g.Arrival = !nodeClock
	when := func(e holderEdge) time.Time {
		if nodeClock {
			return e.at
		}
		return e.arrived
	}
	edges := slices.Clone(o.edges)
	slices.SortStableFunc(edges, func(a, b holderEdge) int { return when(a).Compare(when(b)) })
	clock := func(t time.Time) string { return t.Format("15:04:05.000") }

	held := map[string]bool{}
	for _, n := range o.holders {
		held[n] = true
	}
	since, leaver := o.start, ""
	for _, e := range edges {
		t := when(e)
		switch {
		case e.master && len(held) == 0:
			g.Gap += max(t.Sub(since), 0)
			if g.To == "" {
				g.To = fmt.Sprintf("%s %s at %s", e.node, e.what, clock(t))
			}
		case e.master && !held[e.node] && g.Unknown == "":
			var others []string
			for n := range held {
				others = append(others, n)
			}
			slices.Sort(others)
			g.Unknown = fmt.Sprintf("%s %s while %s had not said it let go", e.node, e.what, strings.Join(others, " and "))
		case !e.master && held[e.node] && len(held) == 1:
			since, leaver = t, e.node
			if g.From == "" {
				g.From = fmt.Sprintf("%s %s at %s", e.node, e.what, clock(t))
			}
		}
		if e.master {
			held[e.node] = true
		} else {
			delete(held, e.node)
		}
	}
	if len(held) == 0 {
		g.Open = true
		if nodeClock {
			end = end.Add(-o.offsets[leaver]) // on the leaver's clock
		}
		g.Gap += max(end.Sub(since), 0)
	}
	return g
}

// A blip is a run of failed requests that were all answered after all,
// only later than the dense probe's 10 ms (the probe follows each one up
// to its sparse timeout and says so in a follow-up): slow answers from a
// busy host, no outage. Outside a failover the figure and the verdicts
// leave blips out, and say how many there were. A request not answered
// within the sparse timeout, a refused connection, an error status, and
// while a failover runs every failure, count.

// ProbeTimeout is a probe request's error when no answer came within
// After, the time a client allows. Late is when the answer came all the
// same, if it did while the probe followed the request: a slow answer,
// not a lost request.
type ProbeTimeout struct{ After, Late time.Duration }

func (e ProbeTimeout) Error() string {
	if e.Late > 0 {
		return fmt.Sprintf("no answer within %v (answered after %v)", roundMS(e.After), roundMS(e.Late))
	}
	return fmt.Sprintf("no answer within %v", roundMS(e.After))
}

// roundMS rounds d to 0.1 ms: the adaptive timeout is no round figure.
func roundMS(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }

// slow reports whether a failed sample was a slow answer.
func slow(s ProbeSample) bool {
	var timeout ProbeTimeout
	return !s.OK && errors.As(s.Err, &timeout) && timeout.Late > 0
}

// probeMeter sums a run's probe samples as they come: a dense probe sends
// thousands, and the post-checks read the sums every time.
type probeMeter struct {
	noBlips bool // a failover runs: every failure counts
	st      ProbeStats
	last    ProbeSample
	lastOK  *ProbeSample
	any     bool
	pace    time.Duration // the largest pace around a failure
	open    *failRun      // the run of failures in progress
	// runs holds the runs not judged yet, by their followed requests'
	// times.
	runs map[time.Time]*failRun
}

// failRun is a run of failed requests, from its first one's send time to
// the next answer's (end, once closed).
type failRun struct {
	start, end time.Time
	err        string // the first failure's
	n          int
	pending    int  // followed requests without a follow-up yet
	conclusive bool // an outage: counted in Conclusive and, once closed, Outage
	judged     bool // conclusive, or closed with nothing pending: final
}

func (p *probeMeter) add(s ProbeSample) {
	if s.FollowUp {
		p.followUp(s)
		return
	}
	p.st.Samples++
	if !s.OK {
		p.st.Failures++
		r := p.open
		if r == nil {
			r = &failRun{start: s.Time, err: errText(s.Err)}
			p.open = r
			if p.any {
				p.pace = max(p.pace, p.last.Pace) // the answer before it
			}
		}
		r.n++
		p.pace = max(p.pace, s.Pace)
		switch {
		case r.conclusive:
			p.st.Conclusive++
		case p.noBlips || !(s.Followed || slow(s)):
			p.conclude(r)
		case s.Followed:
			r.pending++
			if p.runs == nil {
				p.runs = map[time.Time]*failRun{}
			}
			p.runs[s.Time] = r
		}
	} else if r := p.open; r != nil {
		p.open = nil
		r.end = s.Time
		p.pace = max(p.pace, s.Pace)
		if r.conclusive {
			p.close(r)
		} else if r.pending == 0 {
			p.blip(r)
		}
	}
	if s.OK {
		p.lastOK = &s
	}
	p.last, p.any = s, true
}

// followUp says what became of a followed request.
func (p *probeMeter) followUp(s ProbeSample) {
	r := p.runs[s.Time]
	if r == nil {
		return
	}
	delete(p.runs, s.Time)
	r.pending--
	switch {
	case r.judged:
	case !slow(s):
		if r.err == "" || strings.HasPrefix(r.err, "no answer within") {
			r.err = errText(s.Err) // the lost request says more
		}
		p.conclude(r)
		if !r.end.IsZero() {
			p.close(r)
		}
	case r.pending == 0 && !r.end.IsZero():
		p.blip(r)
	}
}

// conclude judges r an outage.
func (p *probeMeter) conclude(r *failRun) {
	r.conclusive, r.judged = true, true
	p.st.Conclusive += r.n
	if p.st.FirstFailure.IsZero() || r.start.Before(p.st.FirstFailure) {
		p.st.FirstFailure, p.st.FirstError = r.start, r.err
	}
}

// close counts a conclusive run that has ended.
func (p *probeMeter) close(r *failRun) {
	run := r.end.Sub(r.start)
	p.st.Outage += run
	p.st.Longest = max(p.st.Longest, run)
}

// blip counts a run of slow answers.
func (p *probeMeter) blip(r *failRun) {
	r.judged = true
	p.st.Blips += r.n
	p.st.BlipTime += r.end.Sub(r.start)
}

func (p *probeMeter) stats(probed bool) ProbeStats {
	st := p.st
	st.Probed = probed
	if r := p.open; r != nil && r.conclusive { // still down
		run := p.last.Time.Add(p.last.Latency).Sub(r.start)
		st.Outage += run
		st.Longest = max(st.Longest, run)
	}
	st.Pace = p.pace
	if st.Failures == 0 {
		st.Pace = p.last.Pace
	}
	return st
}

// lastWord is the sample that says whether the VIP answers now: the last
// one, unless it is part of what may yet be a blip; then the last answer.
func (p *probeMeter) lastWord() (ProbeSample, bool) {
	if r := p.open; r != nil && !r.conclusive && p.lastOK != nil {
		return *p.lastOK, true
	}
	return p.last, p.any
}

// Counts is the samples in a few words: "812 requests, 2 failed (2 of
// them slow answers, no outage)".
func (st ProbeStats) Counts() string {
	switch {
	case st.Failures == 0:
		return fmt.Sprintf("%d requests, none failed", st.Samples)
	case st.Blips > 0:
		return fmt.Sprintf("%d requests, %d failed (%d of them slow answers, no outage)", st.Samples, st.Failures, st.Blips)
	}
	return fmt.Sprintf("%d requests, %d failed", st.Samples, st.Failures)
}

// The figures in words, each with its source: "outage 62ms (probe, 5ms)",
// "no holder for 63ms (node events)".

// Figure is the probe's figure for one line, with its source.
func (st ProbeStats) Figure() string {
	if !st.Probed {
		return ""
	}
	src := st.source()
	if st.Blips > 0 {
		src += fmt.Sprintf("; %d slow", st.Blips)
	}
	if st.Conclusive == 0 {
		return "no outage (" + src + ")"
	}
	return fmt.Sprintf("outage %s (%s)", fmtDur(st.Outage), src)
}

// Detail is the probe's figure with its counts.
func (st ProbeStats) Detail() string {
	switch {
	case !st.Probed:
		return ""
	case st.Conclusive == 0:
		return fmt.Sprintf("no outage (%s: %s)", st.source(), st.Counts())
	}
	return fmt.Sprintf("outage %s (%s: %s)", fmtDur(st.Outage), st.source(), st.Counts())
}

func (st ProbeStats) source() string {
	if st.Pace <= 0 {
		return "probe"
	}
	return "probe, " + fmtPace(st.Pace)
}

// fmtPace is an interval in whole ms where it is one.
func fmtPace(d time.Duration) string {
	if d >= time.Millisecond && d < time.Second && d%time.Millisecond == 0 {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmtDur(d)
}

// Figure is the events' figure for one line, with its source.
func (g HolderGap) Figure() string {
	switch {
	case !g.Seen:
		return ""
	case g.Unknown != "":
		return "holder gap unknown (node events)"
	case g.Open:
		return fmt.Sprintf("no holder for %s, none at the end (%s)", fmtDur(g.Gap), g.source())
	case g.To == "":
		return "the VIP always had a holder (" + g.source() + ")"
	}
	return fmt.Sprintf("no holder for %s (%s)", fmtDur(g.Gap), g.source())
}

// Detail is the events' figure with the transitions it is between.
func (g HolderGap) Detail() string {
	s := g.Figure()
	var why []string
	switch {
	case !g.Seen:
		return ""
	case g.Unknown != "":
		why = append(why, g.Unknown)
	default:
		for _, e := range []string{g.From, g.To} {
			if e != "" {
				why = append(why, e)
			}
		}
	}
	if len(why) > 0 {
		s += ": " + strings.Join(why, ", ")
	}
	return s
}

func (g HolderGap) source() string {
	switch {
	case !g.Arrival:
		return "node events"
	case g.Skew > clockAgree:
		return fmt.Sprintf("node events, arrival times: the nodes' clocks differ by %s", fmtDur(g.Skew))
	}
	return "node events, arrival times"
}

// ms is Gap for the audit log and reports, or nil without a figure.
func (g HolderGap) ms() *int64 {
	if !g.Seen || g.Unknown != "" {
		return nil
	}
	v := g.Gap.Milliseconds()
	return &v
}

// outageShort is an outcome's figures for one line, joined by ", ".
func (o *Outcome) outageShort() string {
	return joinNonEmpty(", ", o.Probe.Figure(), o.Holders.Figure())
}

// outageLong is an outcome's figures with their evidence, joined by "; ".
func (o *Outcome) outageLong() string {
	return joinNonEmpty("; ", o.Probe.Detail(), o.Holders.Detail())
}

func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}

// observeNode feeds a node's update to the running action's meter.
func (m *Model) observeNode(pair int, node string, u Update, now time.Time) {
	if r := m.gate.run; r != nil && r.pair == pair {
		r.meter.node(node, u, now)
	}
}

// paceProbe makes pair's probe dense (an action starts) or sparse again.
func (m *Model) paceProbe(pair int, dense bool) {
	if pair >= 0 && pair < len(m.pairs) && m.pairs[pair].pacer != nil {
		m.pairs[pair].pacer.Dense(dense)
	}
}

// ProbeMeter measures a run of probe samples by the rules of an action's
// verdict, for a program that runs the probe outside the console (vipctl
// migrate): the same outage, blips and pace the console would report.
type ProbeMeter struct{ m probeMeter }

// NewProbeMeter returns a meter. With failover set every failure counts
// (a planned handover); otherwise slow answers are blips, as in a step
// that moves no VIP.
func NewProbeMeter(failover bool) *ProbeMeter {
	return &ProbeMeter{m: probeMeter{noBlips: failover}}
}

// Add takes the probe's next sample.
func (p *ProbeMeter) Add(s ProbeSample) { p.m.add(s) }

// Stats is what the samples so far show.
func (p *ProbeMeter) Stats() ProbeStats { return p.m.stats(true) }
