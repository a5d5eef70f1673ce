package ui

import "charm.land/bubbles/v2/key"

// KeyMap is every key binding of the console, with its help (soft-serve's
// keymap.KeyMap).
type KeyMap struct {
	Quit      key.Binding
	Help      key.Binding
	NextFocus key.Binding
	PrevFocus key.Binding
	Pairs     key.Binding // open the list of pairs
	NextPair  key.Binding
	PrevPair  key.Binding
	Up        key.Binding
	Down      key.Binding
	PageUp    key.Binding
	PageDown  key.Binding
	Top       key.Binding
	Select    key.Binding // the pair under the cursor; a node's details; confirm; run the drill's step
	Back      key.Binding // close; cancel a confirmation; dismiss a verdict
	Reconnect key.Binding // the focused node: dial now, backoff reset; may ask to trust its host key

	// Guarded actions: each key only asks; the gate checks, confirms, runs
	// and judges. Drills run on the pair's MASTER; repair and resume on
	// the focused node, or the one a drill failed.
	FailNginx    key.Binding // drill: nginx fails and cannot be restarted
	StopVipd     key.Binding // drill: vipd stops gracefully
	Fault        key.Binding // drill: forced give-up (vipd ctl fault)
	RestartNginx key.Binding // stop nginx: vipd must restart it, the VIP stays
	Repair       key.Binding // start nginx on a failed node
	Resume       key.Binding // re-enable a node without preemption

	// Actions is the short help's reminder of the action keys; no key
	// press matches it.
	Actions key.Binding
}

// DefaultKeyMap returns the default bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:         key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:         key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		NextFocus:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "focus")),
		PrevFocus:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "focus back")),
		Pairs:        key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pairs")),
		NextPair:     key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next pair")),
		PrevPair:     key.NewBinding(key.WithKeys("["), key.WithHelp("[", "prev pair")),
		Up:           key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:         key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:       key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:     key.NewBinding(key.WithKeys("pgdown", "space"), key.WithHelp("pgdn", "page down")),
		Top:          key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "newest")),
		Select:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "select")),
		Back:         key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Reconnect:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "reconnect node")),
		FailNginx:    key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "drill: nginx fails")),
		StopVipd:     key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "drill: vipd stops")),
		Fault:        key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "drill: forced give-up")),
		RestartNginx: key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "kill nginx, see it back")),
		Repair:       key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "repair nginx")),
		Resume:       key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "re-enable")),
		Actions:      key.NewBinding(key.WithKeys("(actions)"), key.WithHelp("N S F K H R", "actions")),
	}
}

// ActionBindings are the guarded actions' bindings, in the help's order.
func (k KeyMap) ActionBindings() []key.Binding {
	return []key.Binding{k.FailNginx, k.StopVipd, k.Fault, k.RestartNginx, k.Repair, k.Resume}
}

// ShortHelp is the help bar's default: what works everywhere.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Quit, k.Help, k.NextFocus, k.Pairs, k.PrevPair, k.NextPair}
}

// FullHelp is shown by "?".
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.NextFocus, k.PrevFocus, k.Select, k.Back, k.Reconnect},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top},
		{k.Pairs, k.PrevPair, k.NextPair},
		k.ActionBindings(),
		{k.Help, k.Quit},
	}
}
