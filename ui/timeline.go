package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// entry is one line of the timeline.
type entry struct {
	note
	node string // "" for the pair as a whole (the probe)
	rank int    // the node's panel index, -1 for the pair: orders equal times
	seq  uint64 // arrival order among equal times and ranks

	// count is how many notes the line stands for: repeats of its text
	// from its node fold into it, the last at last.
	count int
	last  time.Time
}

// timeline is a pair's events, newest first. Ordinary ones (a failed
// check, a probe failure) are kept up to max, the oldest dropped first;
// those marked keep (transitions, verdicts, operator actions) stay, up to
// keepFactor times max, so that the failover an operator is looking into
// never scrolls away under a flood of failed checks.
type timeline struct {
	c       *common
	entries []entry // newest first
	max     int
	seq     uint64
	changes uint64 // adds, counted ones included: the screen's cache reads it
	nameW   int    // width of the node column
	kept    int    // entries marked keep

	offset  int // first entry shown
	width   int
	height  int
	focused bool
}

// keepFactor bounds the entries marked keep, as a multiple of the
// ordinary ones: a node flapping for days must not grow the console
// without end.
const keepFactor = 10

var _ Component = (*timeline)(nil)

func newTimeline(c *common, size int, names []string) *timeline {
	t := &timeline{c: c, max: size, nameW: len("VIP")}
	for _, n := range names {
		t.nameW = max(t.nameW, ansi.StringWidth(n))
	}
	return t
}

// add places an entry by its time. Nodes' clocks and arrival order differ,
// so the time decides; among equal times the panel order, then arrival. A
// note that repeats a line of its node since the node's last line to keep
// (the same text; neither one to keep) folds into that line instead: a
// check failing two ways in turn makes two lines, not a line each time.
func (t *timeline) add(node string, rank int, n note) {
	t.changes++
	if i := t.repeats(node, rank, n); i >= 0 {
		e := &t.entries[i]
		e.count++
		if n.at.After(e.last) {
			e.last = n.at
		}
		return
	}
	t.seq++
	e := entry{note: n, node: node, rank: rank, seq: t.seq, count: 1, last: n.at}
	i := 0
	for i < len(t.entries) && !newer(e, t.entries[i]) {
		i++
	}
	t.entries = slices.Insert(t.entries, i, e)
	if e.keep {
		t.kept++
	}
	if t.offset > 0 && i < t.offset {
		t.offset++ // keep the lines the operator is reading in place
	}
	for len(t.entries)-t.kept > t.max {
		t.drop(false)
	}
	for t.kept > t.max*keepFactor {
		t.drop(true)
	}
	t.clamp()
}

// repeats returns the index of the line n folds into, or -1: the node's
// newest line with n's text and level, not older than n, above the node's
// newest line to keep.
func (t *timeline) repeats(node string, rank int, n note) int {
	if n.keep {
		return -1
	}
	for i, e := range t.entries {
		switch {
		case e.node != node || e.rank != rank:
		case e.keep:
			return -1 // what came before it stays before it
		case e.text == n.text && e.level == n.level && !n.at.Before(e.at):
			return i
		}
	}
	return -1
}

// drop removes the oldest entry that is marked keep, or that is not.
func (t *timeline) drop(keep bool) {
	for i := len(t.entries) - 1; i >= 0; i-- {
		if t.entries[i].keep != keep {
			continue
		}
		t.entries = slices.Delete(t.entries, i, i+1)
		if keep {
			t.kept--
		}
		if i < t.offset {
			t.offset--
		}
		return
	}
}

// newer reports whether a is shown above b.
func newer(a, b entry) bool {
	if !a.at.Equal(b.at) {
		return a.at.After(b.at)
	}
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	return a.seq > b.seq
}

func (t *timeline) SetSize(width, height int) {
	t.width, t.height = width, height
	t.clamp()
}

// rows is how many entries fit under the title.
func (t *timeline) rows() int { return max(t.height-1, 0) }

func (t *timeline) clamp() {
	t.offset = min(t.offset, max(len(t.entries)-t.rows(), 0))
	t.offset = max(t.offset, 0)
}

func (t *timeline) ShortHelp() []key.Binding {
	k := t.c.keys
	return []key.Binding{k.Up, k.Down, k.Top}
}

func (t *timeline) FullHelp() [][]key.Binding {
	k := t.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top}}
}

func (t *timeline) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := t.c.keys
	switch {
	case key.Matches(km, k.Up):
		t.offset--
	case key.Matches(km, k.Down):
		t.offset++
	case key.Matches(km, k.PageUp):
		t.offset -= max(t.rows()-1, 1)
	case key.Matches(km, k.PageDown):
		t.offset += max(t.rows()-1, 1)
	case key.Matches(km, k.Top):
		t.offset = 0
	}
	t.clamp()
	return nil
}

func (t *timeline) View() string {
	if t.height <= 0 {
		return ""
	}
	s := t.c.styles
	title := s.SectionTitle
	if t.focused {
		title = s.FocusedSectionTitle
	}
	head := title.Render("Events")
	if n := len(t.entries); n > 0 {
		info := fmt.Sprintf(" %d", n)
		if t.offset > 0 {
			info = fmt.Sprintf(" %d-%d of %d", t.offset+1, min(t.offset+t.rows(), n), n)
		}
		head += s.Muted.Render(info)
	}
	lines := []string{ansi.Truncate(head, t.width, "…")}
	end := min(t.offset+t.rows(), len(t.entries))
	for _, e := range t.entries[t.offset:end] {
		lines = append(lines, ansi.Truncate(t.line(e), t.width, "…"))
	}
	if len(t.entries) == 0 && t.rows() > 0 {
		lines = append(lines, s.Muted.Render("nothing yet"))
	}
	return strings.Join(lines, "\n")
}

func (t *timeline) line(e entry) string {
	s := t.c.styles
	node := e.node
	if node == "" {
		node = "VIP"
	}
	head := s.Time.Render(t.c.stamp(e.at)) + " " + s.NodeName.Render(fmt.Sprintf("%-*s", t.nameW, node)) + " "
	// A folded line's count and last time are what changes: the text
	// gives way to them, after the last time's milliseconds.
	var tail string
	if e.count > 1 {
		tail = fmt.Sprintf(" ×%d, last %s", e.count, t.c.stamp(e.last))
		if ansi.StringWidth(head)+ansi.StringWidth(e.text)+ansi.StringWidth(tail) > t.width {
			tail = fmt.Sprintf(" ×%d, last %s", e.count, t.c.clock(e.last))
		}
		tail = s.Muted.Render(tail)
	}
	room := max(t.width-ansi.StringWidth(head)-ansi.StringWidth(tail), 1)
	text := e.text
	if ansi.StringWidth(text) > room {
		text = ansi.Truncate(text, room, "…")
	}
	lv := s.levelStyle(e.level)
	styled := lv.Render(text)
	if e.role != "" {
		// Colour the state entered: "VI_1 BACKUP -> MASTER: reason".
		arrow := "-> " + string(e.role)
		if before, after, ok := strings.Cut(text, arrow); ok {
			styled = lv.Render(before+"-> ") + s.Role(e.role).Render(string(e.role)) + lv.Render(after)
		}
	}
	return head + styled + tail
}
