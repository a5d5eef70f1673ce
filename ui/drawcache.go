package ui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Bubble Tea calls View after every message. Most messages change nothing
// the screen shows: watching 10 pairs, the 18 nodes of the pairs not shown
// send about 180 statuses a second, and those reach the screen only through
// their pair's tab in the header. Drawing every panel anew for each through
// lipgloss was most of the console's CPU, so the model keeps its last screen
// and draws again only when a message may have changed it.
//
// And Bubble Tea calls View on its only loop: a console that drew for each
// of a busy node's statuses and guard checks fell behind its feeds (a
// drill's master sends ~20 a second; on a slow or loaded laptop each draw
// took 15 ms), and the news it showed grew older until the node was
// called unknown. So the feeds' news is drawn at most every DrawEvery,
// the frame after it came; a key, a transition and news that moves a role
// or the VIP are drawn at once.

// drawEvery is the default of Options.DrawEvery: 20 screens a second at
// most, which keeps what is shown within 50 ms of what the console knows,
// a quarter of the 200 ms in which the screen must match the nodes.
const drawEvery = 50 * time.Millisecond

// frameMsg draws the news held back since the last screen.
type frameMsg struct{}

// screenCache is the last screen drawn and what it was drawn for.
type screenCache struct {
	valid   bool
	content string
	clock   string    // the header's clock: time alone moves it
	asking  *hostKeyQ // the host-key question: a dial that gives up takes it away
	w, h    int
	renders int // screens drawn, for tests

	drawnAt    time.Time // on the console's clock
	frameArmed bool      // a frameMsg is on its way
}

// shownMark is what a quiet message could still change on the screen:
// every pair's tab and the shown pair's judgements of time (a sweep in
// any Update may find a shown node silent).
type shownMark struct {
	tabs     []level
	notes    uint64 // the shown pair's timeline's changes
	liveBits uint64 // the shown pair's nodes that are live
}

// quietPair returns the pair a message is about when that pair is not the
// one shown and nothing on the screen but the header speaks of other
// pairs; -1 if the message may change the screen in any other way.
func (m *Model) quietPair(msg tea.Msg) int {
	pair := -1
	switch msg := msg.(type) {
	case updateMsg:
		pair = msg.pair
	case probeMsg:
		pair = msg.pair
	case freshMsg:
		pair = msg.pair
	default:
		return -1
	}
	// The pair list, an action, a confirmation, a drill and a host-key
	// question may show any pair's state.
	if pair == m.cur || m.showPairs || m.gate.run != nil || m.gate.confirm != nil ||
		m.gate.shown != nil || m.drill != nil || m.hostKeys.shown() != nil {
		return -1
	}
	return pair
}

// mark reads the shownMark of the model now.
func (m *Model) mark() shownMark {
	var k shownMark
	if len(m.pairs) > 1 { // one pair's header has no tabs' health
		k.tabs = make([]level, len(m.pairs))
		for i, p := range m.pairs {
			k.tabs[i] = tabLevel(p)
		}
	}
	if p := m.pair(); p != nil {
		k.notes = p.timeline.changes
		for i, n := range p.nodes {
			if i < 64 && n.live() {
				k.liveBits |= 1 << i
			}
		}
	}
	return k
}

func (a shownMark) equal(b shownMark) bool {
	if a.notes != b.notes || a.liveBits != b.liveBits || len(a.tabs) != len(b.tabs) {
		return false
	}
	for i := range a.tabs {
		if a.tabs[i] != b.tabs[i] {
			return false
		}
	}
	return true
}

// tabLevel is what a pair's tab in the header shows of its health.
func tabLevel(p *pairView) level {
	lvl, _ := pairHealth(p.nodes, p.probe, p.vip)
	if lvl == levelBad || lvl == levelWarn {
		return lvl
	}
	return levelGood
}

// screen returns the screen, drawn anew only if the cache is not valid for
// this size and clock.
func (m *Model) screen() string {
	clock, asking := m.c.clock(m.c.now()), m.hostKeys.shown()
	c := &m.cache
	if c.valid && c.clock == clock && c.asking == asking && c.w == m.width && c.h == m.height {
		return c.content
	}
	if c.valid {
		m.framed = false // time moved, not the model: lay it out again
	}
	c.content = m.render()
	c.valid, c.clock, c.asking, c.w, c.h = true, clock, asking, m.width, m.height
	c.renders++
	c.drawnAt = m.c.now()
	return c.content
}

// drawLater reports whether msg's news may wait for the next frame: it
// came from a feed or a probe, and the screen was drawn less than
// DrawEvery ago. Update also draws at once what changed roles (a
// transition does).
func (m *Model) drawLater(msg tea.Msg, now time.Time) bool {
	switch msg.(type) {
	case updateMsg, probeMsg, freshMsg:
	default:
		return false
	}
	every := m.c.opts.DrawEvery
	return every > 0 && m.cache.valid && now.Sub(m.cache.drawnAt) < every
}

// roles is what of an update's pair must reach the screen at once: which
// nodes are live, their instances' states and VIPs, and so who holds the
// VIP. "" for other messages, and when nothing is held back.
func (m *Model) roles(msg tea.Msg) string {
	u, ok := msg.(updateMsg)
	if !ok || m.c.opts.DrawEvery <= 0 {
		return ""
	}
	var b strings.Builder
	for _, n := range m.pairs[u.pair].nodes {
		if !n.live() {
			b.WriteString("-|")
			continue
		}
		for _, in := range n.status.Instances {
			b.WriteString(string(in.State))
			if in.VIPPresent {
				b.WriteByte('+')
			}
			if n.vipUnknown[in.Name] {
				b.WriteByte('?')
			}
			b.WriteByte(',')
		}
		b.WriteByte('|')
	}
	return b.String()
}

// armFrame asks for a frameMsg when the next screen is due.
func (m *Model) armFrame(now time.Time) tea.Cmd {
	c := &m.cache
	if c.frameArmed {
		return nil
	}
	c.frameArmed = true
	return tea.Tick(max(c.drawnAt.Add(m.c.opts.DrawEvery).Sub(now), time.Millisecond), func(time.Time) tea.Msg { return frameMsg{} })
}
