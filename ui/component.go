package ui

import (
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// A Component is one region of the screen (soft-serve's common.Component).
// The root model tells it its size and passes it the messages meant for it
// while it has the focus; its help.KeyMap lists the keys it answers then.
type Component interface {
	help.KeyMap
	SetSize(width, height int)
	Update(msg tea.Msg) tea.Cmd
	View() string
}

// common is what every component shares (soft-serve's common.Common).
type common struct {
	styles *Styles
	keys   *KeyMap
	now    func() time.Time
	loc    *time.Location
	opts   Options

	customStyles bool // the caller's: not adapted to the background
}

// clock formats t in the console's location with seconds.
func (c *common) clock(t time.Time) string {
	if t.IsZero() {
		return "--:--:--"
	}
	return t.In(c.loc).Format("15:04:05")
}

// stamp formats t with milliseconds, for the timeline, where transitions
// on two nodes are compared.
func (c *common) stamp(t time.Time) string {
	return t.In(c.loc).Format("15:04:05.000")
}
