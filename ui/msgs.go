package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// updateMsg is an Update read from the feed of node node of pair pair.
type updateMsg struct {
	pair, node int
	u          Update
}

// feedClosedMsg says a node's feed was closed.
type feedClosedMsg struct{ pair, node int }

// probeMsg is a sample read from a pair's ProbeFeed.
type probeMsg struct {
	pair int
	s    ProbeSample
}

// probeClosedMsg says a pair's ProbeFeed was closed.
type probeClosedMsg struct{ pair int }

// tickMsg redraws ages.
type tickMsg time.Time

// selectPairMsg switches to a pair.
type selectPairMsg int

// waitUpdate reads the next Update of one feed. The model issues it again
// after each message, so exactly one read per feed is pending at a time.
func waitUpdate(pair, node int, ch <-chan Update) tea.Cmd {
	return func() tea.Msg {
		u, ok := <-ch
		if !ok {
			return feedClosedMsg{pair: pair, node: node}
		}
		return updateMsg{pair: pair, node: node, u: u}
	}
}

// waitProbe reads the next sample of a pair's probe, re-armed like
// waitUpdate.
func waitProbe(pair int, ch <-chan ProbeSample) tea.Cmd {
	return func() tea.Msg {
		s, ok := <-ch
		if !ok {
			return probeClosedMsg{pair: pair}
		}
		return probeMsg{pair: pair, s: s}
	}
}

func tick(d time.Duration) tea.Cmd {
	if d <= 0 {
		return nil
	}
	return tea.Tick(d, func(t time.Time) tea.Msg { return tickMsg(t) })
}
