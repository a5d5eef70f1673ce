package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	cfgcheck "github.com/vipkit/vip/ui/check"
)

// DefaultCheckEvery is how often a pair's configurations are compared
// again: they change rarely, and each check costs a few SSH commands.
const DefaultCheckEvery = time.Minute

// checkRetry is the wait before checking again after a node could not be
// read (at start, the links are still coming up); it doubles with each
// failure in a row, up to Options.CheckEvery.
const checkRetry = 5 * time.Second

// checkTimeout bounds one configuration check.
const checkTimeout = 30 * time.Second

// maxCheckDetails bounds the lines of the check's details in the full
// help; the rest is `vipctl check`'s to print.
const maxCheckDetails = 12

// configCheckMsg is a pair's configuration check, done.
type configCheckMsg struct {
	pair int
	r    cfgcheck.Report
}

// configCheckDueMsg says a pair's configurations are to be checked again.
type configCheckDueMsg struct{ pair int }

// runCheck compares pair i's configurations in a Cmd.
func (m *Model) runCheck(i int) tea.Cmd {
	fn := m.pairs[i].checkFn
	if fn == nil {
		return nil
	}
	parent := m.c.opts.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, checkTimeout)
		defer cancel()
		return configCheckMsg{pair: i, r: fn(ctx)}
	}
}

// onCheck keeps a pair's check, notes a change of verdict on the timeline,
// and schedules the next.
func (m *Model) onCheck(msg configCheckMsg, now time.Time) tea.Cmd {
	p := m.pairs[msg.pair]
	prev := p.check
	r := msg.r
	p.check = &r
	// A first check that could not read a node (links still coming up)
	// is no news: the details have it, and the retry comes soon.
	if prev == nil && r.ExitCode() == cfgcheck.ExitMismatch || prev != nil && prev.Summary() != r.Summary() {
		lvl := levelGood
		switch r.ExitCode() {
		case cfgcheck.ExitMismatch:
			lvl = levelBad
		case cfgcheck.ExitUnreadable:
			lvl = levelWarn
		}
		p.timeline.add("", -1, note{at: now, text: r.Summary(), level: lvl, keep: lvl == levelBad})
	}
	every := m.c.opts.CheckEvery
	if every <= 0 {
		return nil
	}
	if r.ExitCode() == cfgcheck.ExitUnreadable {
		// Soon at first, then less and less often: a node that stays
		// unreadable (no sudo, no daemon) costs little.
		every = min(every, checkRetry<<min(p.checkFails, 8))
		p.checkFails++
	} else {
		p.checkFails = 0
	}
	p.checkWait = every
	i := msg.pair
	return tea.Tick(every, func(time.Time) tea.Msg { return configCheckDueMsg{pair: i} })
}

// checkBanner is the one line a pair whose configurations mismatch shows.
func checkBanner(c *common, p *pairView, width int) (string, bool) {
	if p.check == nil {
		return "", false
	}
	ms := p.check.Mismatches()
	if len(ms) == 0 {
		return "", false
	}
	first := ms[0].Msg
	if ms[0].Instance != "" {
		first = ms[0].Instance + ": " + first
	}
	text := fmt.Sprintf("CONFIG MISMATCH %s (%d): %s", p.name, len(ms), first)
	const more = " [? details]"
	text = ansi.Truncate(text, max(width-2-len(more), 1), "…") + more
	return c.styles.ConfigMismatch.Width(width).Render(text), true
}

// checkDetails are the pair's check as vipctl check prints it, for the
// full help.
func (m *Model) checkDetails() string {
	p := m.pair()
	if p == nil || p.check == nil || len(p.check.Findings) == 0 && p.check.ExitCode() == cfgcheck.ExitConsistent {
		return ""
	}
	s := m.c.styles
	lines := p.check.Lines()
	if len(lines) > maxCheckDetails {
		lines = append(lines[:maxCheckDetails-1], fmt.Sprintf("… %d more lines: run vipctl check", len(lines)-maxCheckDetails+1))
	}
	title := s.SectionTitle.Render("config check of " + p.name)
	for i, l := range lines {
		st := s.Muted
		switch {
		case strings.HasPrefix(l, cfgcheck.Mismatch.String()):
			st = s.Bad
		case strings.HasPrefix(l, cfgcheck.Warning.String()):
			st = s.Warn
		}
		lines[i] = st.Render(ansi.Truncate(l, max(m.width, 1), "…"))
	}
	return title + "\n" + strings.Join(lines, "\n")
}
