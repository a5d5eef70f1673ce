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
	Select    key.Binding // the pair under the cursor; a node's details
	Back      key.Binding

	// Guarded actions arrive in a later version through the Gate; their
	// bindings exist, disabled, so that help and routing have their place.
	Fault  key.Binding // drill: put the focused node's instances in FAULT
	Resume key.Binding // end the drill
}

// DefaultKeyMap returns the default bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		NextFocus: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "focus")),
		PrevFocus: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "focus back")),
		Pairs:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pairs")),
		NextPair:  key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "next pair")),
		PrevPair:  key.NewBinding(key.WithKeys("["), key.WithHelp("[", "prev pair")),
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:    key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "space"), key.WithHelp("pgdn", "page down")),
		Top:       key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "newest")),
		Select:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "select")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Fault:     key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "fault drill"), key.WithDisabled()),
		Resume:    key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "resume"), key.WithDisabled()),
	}
}

// ShortHelp is the help bar's default: what works everywhere.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Quit, k.Help, k.NextFocus, k.Pairs, k.PrevPair, k.NextPair}
}

// FullHelp is shown by "?".
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.NextFocus, k.PrevFocus, k.Select, k.Back},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top},
		{k.Pairs, k.PrevPair, k.NextPair},
		{k.Fault, k.Resume},
		{k.Help, k.Quit},
	}
}
