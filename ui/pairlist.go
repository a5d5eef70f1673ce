package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// pairList lists every pair of the cluster file with its health, for
// switching between them.
type pairList struct {
	c      *common
	pairs  []*pairView
	cursor int
	width  int
	height int
}

var _ Component = (*pairList)(nil)

func (l *pairList) SetSize(width, height int) { l.width, l.height = width, height }

func (l *pairList) ShortHelp() []key.Binding {
	k := l.c.keys
	return []key.Binding{k.Up, k.Down, withHelp(k.Select, "show"), k.Back}
}

func (l *pairList) FullHelp() [][]key.Binding { return [][]key.Binding{l.ShortHelp()} }

func (l *pairList) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := l.c.keys
	switch {
	case key.Matches(km, k.Up):
		l.cursor = max(l.cursor-1, 0)
	case key.Matches(km, k.Down):
		l.cursor = min(l.cursor+1, len(l.pairs)-1)
	case key.Matches(km, k.Select):
		i := l.cursor
		return func() tea.Msg { return selectPairMsg(i) }
	}
	return nil
}

func (l *pairList) View() string {
	s := l.c.styles
	nameW, vipW := len("pair"), len("VIP")
	for _, p := range l.pairs {
		nameW = max(nameW, ansi.StringWidth(p.name))
		vipW = max(vipW, ansi.StringWidth(p.vip))
	}
	lines := []string{s.SectionTitle.Render("Pairs"),
		s.Muted.Render(fmt.Sprintf("  %-*s  %-*s  %-18s %s", nameW, "pair", vipW, "VIP", "held by", "health"))}
	// Keep the cursor in view when the list is longer than the screen.
	rows := max(l.height-len(lines), 1)
	first := max(l.cursor-rows+1, 0)
	for i := first; i < len(l.pairs) && i < first+rows; i++ {
		p := l.pairs[i]
		lvl, why := pairHealth(p.nodes, p.probe, p.vip)
		h := p.lane.holding()
		held := strings.Join(h.holders, ",")
		if held == "" {
			held = strings.Join(h.claims, ",")
		}
		if held == "" {
			held = "-"
		}
		mark, name := "  ", fmt.Sprintf("%-*s", nameW, p.name)
		if i == l.cursor {
			mark, name = s.Selected.Render("> "), s.Selected.Render(name)
		}
		row := fmt.Sprintf("%s%s  %-*s  %-18s %s", mark, name, vipW, p.vip, held, s.levelStyle(lvl).Render(why))
		lines = append(lines, ansi.Truncate(row, l.width, "…"))
	}
	return strings.Join(lines, "\n")
}
