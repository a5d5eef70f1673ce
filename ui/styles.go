package ui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"

	"github.com/vipkit/vip/node/control"
)

// Styles holds every style of the console under the name of what it means,
// not what it looks like (soft-serve's styles.Styles).
type Styles struct {
	// Roles of a VRRP instance.
	Master, Backup, Fault, Init, UnknownState lipgloss.Style

	// Banners across the screen.
	SplitBrain, NoMaster lipgloss.Style
	ConfigMismatch       lipgloss.Style // the pair's configurations break it (package ui/check)
	Stranger             lipgloss.Style // a host that is not a peer sends adverts for a VRID of the pair

	// A node's panel and its parts.
	Card, FocusedCard lipgloss.Style
	NodeName          lipgloss.Style
	Connected         lipgloss.Style
	Disconnected      lipgloss.Style
	Problem           lipgloss.Style // the title of what is wrong with a node
	Remedy            lipgloss.Style // what to do about it
	Healthy, Failed   lipgloss.Style // guard verdicts
	Stale             lipgloss.Style // data that is no longer live

	// Levels used across components.
	Good, Warn, Bad, Muted lipgloss.Style

	// The header, the pairs' tabs and list, the timeline.
	Header, Title       lipgloss.Style
	Tab, ActiveTab      lipgloss.Style
	Selected            lipgloss.Style
	SectionTitle        lipgloss.Style
	FocusedSectionTitle lipgloss.Style
	Time                lipgloss.Style

	// The gate: a confirmation's box, and the header's mark of a
	// read-only console.
	Dialog   lipgloss.Style
	ReadOnly lipgloss.Style

	Help help.Styles
}

// DefaultStyles uses the terminal's 16 colours, so it reads on dark and
// light backgrounds alike; Bubble Tea drops what the terminal cannot show.
func DefaultStyles() Styles {
	var (
		red    = lipgloss.Color("1")
		green  = lipgloss.Color("2")
		yellow = lipgloss.Color("3")
		blue   = lipgloss.Color("4")
		cyan   = lipgloss.Color("6")
		gray   = lipgloss.Color("8")
		white  = lipgloss.Color("15")
	)
	plain := lipgloss.NewStyle()
	card := plain.Border(lipgloss.RoundedBorder()).BorderForeground(gray).Padding(0, 1)
	return Styles{
		Master:       plain.Bold(true).Foreground(green),
		Backup:       plain.Foreground(blue),
		Fault:        plain.Bold(true).Foreground(red),
		Init:         plain.Foreground(yellow),
		UnknownState: plain.Foreground(yellow),

		SplitBrain: plain.Bold(true).Foreground(white).Background(red).Padding(0, 1),
		NoMaster:   plain.Bold(true).Foreground(white).Background(red).Padding(0, 1),
		// Not red: nothing is down yet, the next failover is.
		ConfigMismatch: plain.Bold(true).Foreground(lipgloss.Color("0")).Background(yellow).Padding(0, 1),
		// Not red either: vipd holds the VIP against it (keepalived may not).
		Stranger: plain.Bold(true).Foreground(lipgloss.Color("0")).Background(yellow).Padding(0, 1),

		Card:         card,
		FocusedCard:  card.BorderForeground(cyan),
		NodeName:     plain.Bold(true),
		Connected:    plain.Foreground(green),
		Disconnected: plain.Bold(true).Foreground(red),
		Problem:      plain.Bold(true).Foreground(red),
		Remedy:       plain.Foreground(yellow),
		Healthy:      plain.Foreground(green),
		Failed:       plain.Bold(true).Foreground(red),
		Stale:        plain.Foreground(gray),

		Good:  plain.Foreground(green),
		Warn:  plain.Foreground(yellow),
		Bad:   plain.Bold(true).Foreground(red),
		Muted: plain.Foreground(gray),

		Header:              plain,
		Title:               plain.Bold(true),
		Tab:                 plain.Foreground(gray),
		ActiveTab:           plain.Bold(true).Underline(true),
		Selected:            plain.Bold(true).Foreground(cyan),
		SectionTitle:        plain.Bold(true),
		FocusedSectionTitle: plain.Bold(true).Foreground(cyan),
		Time:                plain.Foreground(gray),

		Dialog:   plain.Border(lipgloss.RoundedBorder()).BorderForeground(yellow).Padding(0, 1),
		ReadOnly: plain.Bold(true).Foreground(yellow),

		Help: help.DefaultDarkStyles(),
	}
}

// Role returns the style of a VRRP state; a state this console does not
// know is shown as it is, in UnknownState.
func (s *Styles) Role(st control.State) lipgloss.Style {
	switch st {
	case control.StateMaster:
		return s.Master
	case control.StateBackup:
		return s.Backup
	case control.StateFault:
		return s.Fault
	case control.StateInit:
		return s.Init
	}
	return s.UnknownState
}

// levelStyle returns the style of a level.
func (s *Styles) levelStyle(l level) lipgloss.Style {
	switch l {
	case levelGood:
		return s.Good
	case levelWarn:
		return s.Warn
	case levelBad:
		return s.Bad
	case levelMuted:
		return s.Muted
	}
	return lipgloss.NewStyle()
}

// level grades timeline entries, probe results and pair health.
type level int

const (
	levelInfo level = iota
	levelMuted
	levelGood
	levelWarn
	levelBad
)
