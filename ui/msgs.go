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

// probeMsg is a sample read from a pair's ProbeFeed, and those that came
// right after it: a dense probe sends 200 a second, more than the screen
// needs to be laid out and drawn.
type probeMsg struct {
	pair int
	s    ProbeSample
	more []ProbeSample
}

// maxProbeBatch bounds the samples of one probeMsg, and probeCoalesce how
// long a dense probe's samples are gathered into one.
const (
	maxProbeBatch = 256
	probeCoalesce = 25 * time.Millisecond
)

// ProbeSamples returns the samples msg delivers to pair's probe, if it is
// such a message: a headless console records what the model applied,
// once its Update returned.
func ProbeSamples(msg tea.Msg) (pair int, samples []ProbeSample) {
	pm, ok := msg.(probeMsg)
	if !ok {
		return -1, nil
	}
	return pm.pair, append([]ProbeSample{pm.s}, pm.more...)
}

// probeClosedMsg says a pair's ProbeFeed was closed.
type probeClosedMsg struct{ pair int }

// freshMsg says node node of pair pair may have gone silent: its
// freshness timer (armFresh) ran out.
type freshMsg struct{ pair, node int }

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
		msg := probeMsg{pair: pair, s: s}
		if s.Pace <= 0 || s.Pace >= probeCoalesce {
			return msg
		}
		// A dense probe: what comes within probeCoalesce goes in one
		// message, so that the screen is laid out and drawn 40 times a
		// second, not 200.
		t := time.NewTimer(probeCoalesce)
		defer t.Stop()
		for len(msg.more) < maxProbeBatch {
			select {
			case s, ok := <-ch:
				if !ok {
					return msg // the next read says it closed
				}
				msg.more = append(msg.more, s)
			case <-t.C:
				return msg
			}
		}
		return msg
	}
}

func tick(d time.Duration) tea.Cmd {
	if d <= 0 {
		return nil
	}
	return tea.Tick(d, func(t time.Time) tea.Msg { return tickMsg(t) })
}
