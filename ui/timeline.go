package ui

import (
	"fmt"
	"strings"

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
}

// timeline is a pair's events, newest first, at most max of them.
type timeline struct {
	c       *common
	entries []entry // newest first
	max     int
	seq     uint64
	nameW   int // width of the node column

	offset  int // first entry shown
	width   int
	height  int
	focused bool
}

var _ Component = (*timeline)(nil)

func newTimeline(c *common, size int, names []string) *timeline {
	t := &timeline{c: c, max: size, nameW: len("VIP")}
	for _, n := range names {
		t.nameW = max(t.nameW, ansi.StringWidth(n))
	}
	return t
}

// add places an entry by its time. Nodes' clocks and arrival order differ,
// so the time decides; among equal times the panel order, then arrival.
func (t *timeline) add(node string, rank int, n note) {
	t.seq++
	e := entry{note: n, node: node, rank: rank, seq: t.seq}
	i := 0
	for i < len(t.entries) && !newer(e, t.entries[i]) {
		i++
	}
	t.entries = append(t.entries, entry{})
	copy(t.entries[i+1:], t.entries[i:])
	t.entries[i] = e
	if len(t.entries) > t.max {
		t.entries = t.entries[:t.max]
	}
	if t.offset > 0 && i < t.offset {
		t.offset++ // keep the lines the operator is reading in place
	}
	t.clamp()
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
	text := s.levelStyle(e.level).Render(e.text)
	if e.role != "" {
		// Colour the state entered: "VI_1 BACKUP -> MASTER: reason".
		arrow := "-> " + string(e.role)
		if before, after, ok := strings.Cut(e.text, arrow); ok {
			lv := s.levelStyle(e.level)
			text = lv.Render(before+"-> ") + s.Role(e.role).Render(string(e.role)) + lv.Render(after)
		}
	}
	return s.Time.Render(t.c.stamp(e.at)) + " " + s.NodeName.Render(fmt.Sprintf("%-*s", t.nameW, node)) + " " + text
}
