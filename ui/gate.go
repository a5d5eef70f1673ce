package ui

import (
	"errors"

	tea "charm.land/bubbletea/v2"
)

// ActionKind names a guarded action.
type ActionKind string

// Guarded actions. Their keys (KeyMap.Fault, KeyMap.Resume) are disabled
// until a Gate that runs them exists.
const (
	ActionFault  ActionKind = "fault"  // drill: put an instance in FAULT (vipd ctl fault)
	ActionResume ActionKind = "resume" // end the drill (vipd ctl resume)
)

// An Action is a guarded operation on one node.
type Action struct {
	Kind     ActionKind
	Pair     string
	Node     string
	Instance string // "" for every instance
	Reason   string
}

// ActionMsg asks the console to run an Action. The console will hold it in
// a confirm state before passing it to the Gate; it never blocks on it.
type ActionMsg struct{ Action Action }

// ActionResultMsg is what the Gate reports when an Action is done or
// refused.
type ActionResultMsg struct {
	Action Action
	Err    error
}

// A Gate is the one place every guarded action passes: it may refuse one
// (a drill on a pair already in trouble, an operator without the right)
// and runs the others, always as a Cmd that ends in an ActionResultMsg.
type Gate interface {
	Run(Action) tea.Cmd
}

// ErrActionsDisabled is the refusal of the default Gate.
var ErrActionsDisabled = errors.New("guarded actions are not available in this version")

// refuseGate refuses everything.
type refuseGate struct{}

func (refuseGate) Run(a Action) tea.Cmd {
	return func() tea.Msg { return ActionResultMsg{Action: a, Err: ErrActionsDisabled} }
}
