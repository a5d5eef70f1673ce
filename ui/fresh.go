package ui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
)

// This file judges how current a node's word is. Only the console's clock
// decides: when a word arrived. A node's own timestamps are compared only
// with its own earlier ones (a difference, which its clock's offset does
// not change), to tell news held up in a stalled link from news, and to
// place when a word was taken on the console's clock (taken).

const (
	// freshSlack is how much later than its stream's status pace a
	// node's next word may arrive: at the feeds' 100 ms a node is unknown
	// 400 ms after its last word, which leaves room for a busy console
	// and a slow link without calling a live node unknown.
	freshSlack = 300 * time.Millisecond
	// skewShown: a node clock further than this from the console's is
	// said on its card, and its event times are moved onto the console's
	// clock so that the timeline keeps the order things happened in.
	skewShown = time.Second
	// stepAfter is how many late statuses in a row, each about as late
	// as the one before, make a clock that stepped back (or a link that
	// got slower for good) rather than a backlog being released.
	stepAfter = 5
)

// freshness is how current one node's word is.
type freshness struct {
	// pace is how often the stream promised a status (Update.StatusEvery);
	// 0: no promise, silence says nothing.
	pace time.Duration
	// heard is when the last timely word arrived; statusTaken is when the
	// last timely status was taken, on the console's clock (taken). A
	// backlog arrives after the news it is older than: only when a word
	// was taken orders it against another node's.
	heard, statusTaken time.Time
	silent             bool // no timely word within the window (sweep)

	// lag is the stream's smallest arrival time minus node time: the
	// node clock's offset from the console's plus the fastest transit. A
	// word whose lag exceeds it by more than the window was held up on
	// the way (a stalled link releasing its backlog): old news, which
	// updates what is shown but not heard.
	lag      time.Duration
	lagKnown bool
	late     time.Duration // how late the last word was; 0 if timely
	lastLate time.Duration // the lag of the last late status
	steady   int           // late statuses in a row, each about as late
}

// window is how long after its last word a node is still current.
func (f *freshness) window() time.Duration { return f.pace + freshSlack }

// paced reports whether silence means something on this stream.
func (f *freshness) paced() bool { return f.pace > 0 }

// restart begins a new stream (a snapshot) with its pace.
func (f *freshness) restart(pace time.Duration) {
	*f = freshness{pace: max(pace, 0)}
}

// word records a status or event stamped at (node clock) arriving now. It
// returns what the timeline should show: a clock step, once.
func (f *freshness) word(at, now time.Time, status bool) []note {
	if at.IsZero() { // no stamp: only its arrival is known
		f.timely(at, now, status)
		return nil
	}
	lag := now.Sub(at)
	if status && (!f.lagKnown || lag < f.lag) {
		// Statuses set the baseline: their time is when they were
		// taken, the moment before they were sent.
		f.lag, f.lagKnown = lag, true
	}
	over := lag - f.lag
	if !f.paced() || !f.lagKnown || over <= f.window() {
		f.timely(at, now, status)
		return nil
	}
	f.late = over
	if !status {
		return nil
	}
	if f.steady > 0 && absDur(lag-f.lastLate) < f.pace/2 {
		f.steady++
	} else {
		f.steady = 1
	}
	f.lastLate = lag
	if f.steady < stepAfter {
		return nil
	}
	// A backlog drains (each status less late than the one before); these
	// keep coming at the pace, all as late: the node's clock stepped back
	// or its link got slower. Either way this is how current it now is.
	f.lag = lag
	f.timely(at, now, status)
	return []note{{at: now, text: fmt.Sprintf("reports now arrive %s later after their time stamps: the node's clock stepped back, or its link got slower", fmtDur(over)), level: levelWarn}}
}

func (f *freshness) timely(at, now time.Time, status bool) {
	f.heard, f.late, f.steady = now, 0, 0
	if status {
		f.statusTaken = f.taken(at, now)
	}
}

// taken is when a word stamped at (node clock) arriving now was taken, on
// the console's clock: its stamp plus the stream's smallest lag, which is
// the node clock's offset and the fastest transit (never after now). With
// no stamp or no lag yet, its arrival.
func (f *freshness) taken(at, now time.Time) time.Time {
	if at.IsZero() || !f.lagKnown {
		return now
	}
	if t := at.Add(f.lag); t.Before(now) {
		return t
	}
	return now
}

// sweep judges silence at now; it reports whether that changed.
func (f *freshness) sweep(now time.Time) bool {
	silent := f.paced() && now.Sub(f.heard) > f.window()
	changed := silent != f.silent
	f.silent = silent
	return changed
}

// due is how long from now until the node turns silent if nothing comes;
// false when silence means nothing or it already is.
func (f *freshness) due(now time.Time) (time.Duration, bool) {
	if !f.paced() || f.silent {
		return 0, false
	}
	return max(f.heard.Add(f.window()).Sub(now), 0) + time.Millisecond, true
}

// skew is how far the node's clock is ahead of the console's (negative:
// behind), when that is more than skewShown. Only a paced stream brings
// statuses often enough for the fastest one to measure it.
func (f *freshness) skew() (time.Duration, bool) {
	if !f.paced() || !f.lagKnown || absDur(f.lag) < skewShown {
		return 0, false
	}
	return -f.lag, true
}

// local is t (node clock) on the console's clock, when the two differ by
// more than skewShown; t otherwise, so that times agree with the node's
// logs to the millisecond.
func (f *freshness) local(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	if d, ok := f.skew(); ok {
		return t.Add(-d)
	}
	return t
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// sweep judges every pair's freshness at now (sweep, probeState.sweep).
func (m *Model) sweep(now time.Time) {
	for i := range m.pairs {
		m.sweepPair(i, now)
	}
}

// sweepPair judges pair i's freshness at now: after one pair's message,
// the sweep at its start still holds for the others.
func (m *Model) sweepPair(i int, now time.Time) {
	p := m.pairs[i]
	for j, nt := range sweep(p.nodes, now) {
		p.timeline.add(p.nodes[j].name, j, nt)
		m.observe(i, p.nodes[j].name, nt)
	}
	if p.probe != nil {
		p.probe.sweep(now)
	}
}

// armFresh starts node's freshness timer, unless one runs: when it fires
// (freshMsg) the model judges silence again, so that a node whose stream
// went quiet is shown unknown on time even when nothing else happens.
func (m *Model) armFresh(pair, node int, now time.Time) tea.Cmd {
	n := m.pairs[pair].nodes[node]
	d, ok := n.fresh.due(now)
	if n.freshArmed || !ok {
		return nil
	}
	n.freshArmed = true
	return tea.Tick(d, func(time.Time) tea.Msg { return freshMsg{pair: pair, node: node} })
}
