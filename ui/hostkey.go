package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vipkit/vip/ssh"
)

// This file is the reconnect key and what a reconnect may ask: whether to
// trust a host key known_hosts does not hold. The question is a state of
// the model, answered by typing "yes" like ssh(1) asks, while the dial
// that met the key waits for the answer in its own goroutine.

// hostKeyQ is a host key met by a reconnect, waiting for the operator.
type hostKeyQ struct {
	ctx    context.Context // the dial's: done when it gave up
	node   string          // who the operator reconnected
	p      ssh.HostKeyPrompt
	answer chan bool // buffered: the answer never blocks the model
}

// hostKeyMsg brings a question to the model.
type hostKeyMsg struct{ q *hostKeyQ }

// hostKeys is the model's side of the questions.
type hostKeys struct {
	ch      chan *hostKeyQ // from the dials' goroutines
	reading bool           // a Cmd reads ch
	queue   []*hostKeyQ    // the first is shown
	input   string
	notice  string

	// confirm asks the model, once per address and key however many
	// reconnects meet it (two pairs on the same hosts).
	confirm func(context.Context, ssh.HostKeyPrompt) bool
}

// askerNode carries the reconnected node's name in the dial's context to
// the question, through ssh.ConfirmOnce.
type askerNode struct{}

func newHostKeys() hostKeys {
	h := hostKeys{ch: make(chan *hostKeyQ)}
	h.confirm = ssh.ConfirmOnce(func(ctx context.Context, p ssh.HostKeyPrompt) bool {
		node, _ := ctx.Value(askerNode{}).(string)
		q := &hostKeyQ{ctx: ctx, node: node, p: p, answer: make(chan bool, 1)}
		select {
		case h.ch <- q:
		case <-ctx.Done():
			return false
		}
		select {
		case yes := <-q.answer:
			return yes
		case <-ctx.Done():
			return false
		}
	})
	return h
}

// waitHostKey reads the next question; the model re-arms it.
func waitHostKey(ch <-chan *hostKeyQ) tea.Cmd {
	return func() tea.Msg { return hostKeyMsg{<-ch} }
}

// shown is the question on screen, dropping those whose dial gave up.
func (h *hostKeys) shown() *hostKeyQ {
	for len(h.queue) > 0 && h.queue[0].ctx.Err() != nil {
		h.queue, h.input, h.notice = h.queue[1:], "", ""
	}
	if len(h.queue) == 0 {
		return nil
	}
	return h.queue[0]
}

// reconnect redials node ni of pair pi, as the Reconnect key on its panel
// asks. A link that is up while an action runs is left alone: the action's
// commands run over it.
func (m *Model) reconnect(pi, ni int) tea.Cmd {
	p := m.pairs[pi]
	n := p.nodes[ni]
	now := m.c.now()
	r, ok := p.feeds[ni].(Reconnecter)
	switch {
	case !ok:
		p.timeline.add(n.name, ni, note{at: now, text: "this feed cannot reconnect", level: levelMuted})
		return nil
	case m.gate.run != nil && n.connected():
		p.timeline.add(n.name, ni, note{at: now, text: "not reconnecting while " + m.gate.busy() + " runs", level: levelWarn})
		return nil
	}
	p.timeline.add(n.name, ni, note{at: now, text: "reconnecting, as " + m.gate.who + " asked", level: levelWarn, keep: true})
	confirm := m.hostKeys.confirm
	name := n.name
	cmds := []tea.Cmd{func() tea.Msg {
		r.Reconnect(func(ctx context.Context, hp ssh.HostKeyPrompt) bool {
			return confirm(context.WithValue(ctx, askerNode{}, name), hp)
		})
		return nil
	}}
	if !m.hostKeys.reading {
		m.hostKeys.reading = true
		cmds = append(cmds, waitHostKey(m.hostKeys.ch))
	}
	return tea.Batch(cmds...)
}

// onHostKey queues a question and reads the next.
func (m *Model) onHostKey(q *hostKeyQ) tea.Cmd {
	m.hostKeys.queue = append(m.hostKeys.queue, q)
	return waitHostKey(m.hostKeys.ch)
}

// hostKeyKey answers the question shown: "yes" and enter trusts the key,
// "no" or esc refuses it, as ssh(1) asks.
func (m *Model) hostKeyKey(msg tea.KeyPressMsg) tea.Cmd {
	h := &m.hostKeys
	q := h.shown()
	k := m.c.keys
	switch s := msg.String(); {
	case key.Matches(msg, k.Back):
		m.answerHostKey(q, false)
	case key.Matches(msg, k.Select):
		switch strings.ToLower(strings.TrimSpace(h.input)) {
		case "yes":
			m.answerHostKey(q, true)
		case "no", "n":
			m.answerHostKey(q, false)
		default:
			h.notice = `Please type "yes" or "no".`
		}
	case s == "backspace":
		if r := []rune(h.input); len(r) > 0 {
			h.input = string(r[:len(r)-1])
		}
	case s == "ctrl+u":
		h.input = ""
	case msg.Text != "" && len(h.input) < 16:
		h.input += msg.Text
	}
	return nil
}

func (m *Model) answerHostKey(q *hostKeyQ, yes bool) {
	h := &m.hostKeys
	h.queue, h.input, h.notice = h.queue[1:], "", ""
	q.answer <- yes // buffered, and answered once
	text := fmt.Sprintf("host key of %s not trusted: not connecting (%s)", q.p.Host, q.p.Fingerprint)
	lvl := levelWarn
	if yes {
		text = fmt.Sprintf("host key of %s trusted by %s, added to %s (%s)", q.p.Host, m.gate.who, q.p.File, q.p.Fingerprint)
		lvl = levelInfo
	}
	nt := note{at: m.c.now(), text: text, level: lvl, keep: true}
	noted := false
	for _, p := range m.pairs {
		for ni, n := range p.nodes {
			if n.name == q.node {
				p.timeline.add(n.name, ni, nt)
				noted = true
			}
		}
	}
	if p := m.pair(); !noted && p != nil {
		p.timeline.add("", -1, nt)
	}
}

// hostKeyFile is where sshd keeps its key of type t, as OpenSSH installs it.
func hostKeyFile(t string) string {
	kind := "rsa"
	switch {
	case strings.Contains(t, "ed25519"):
		kind = "ed25519"
	case strings.HasPrefix(t, "ecdsa"):
		kind = "ecdsa"
	}
	return "/etc/ssh/ssh_host_" + kind + "_key.pub"
}

// hostKeyLines draws the question as a box of width w, in at most maxH
// lines: the fingerprint, the prompt and its input line always show.
func (m *Model) hostKeyLines(w, maxH int) []string {
	s := m.c.styles
	q := m.hostKeys.shown()
	in := max(w-4, 10)
	who := q.p.Host
	if q.node != "" {
		who = q.node + " (" + q.p.Host + ")"
	}
	remote := ""
	if q.p.Remote != nil {
		remote = " at " + q.p.Remote.String()
	}
	title := section{lines: []string{ansi.Truncate(s.Title.Render("Trust the host key of "+who+"?"), in, "…")}}
	what := section{lines: wrapIndent(lipgloss.NewStyle(), fmt.Sprintf("%s%s is not in %s. Check the fingerprint against the host's own (ssh-keygen -lf %s on it) before trusting it.",
		q.p.Host, remote, q.p.File, hostKeyFile(q.p.Key.Type())), in, "")}
	fp := section{lines: wrapIndent(s.Warn, "Key: "+q.p.Key.Type()+" "+q.p.Fingerprint, in, "")}
	var other section
	if len(q.p.KnownTypes) > 0 {
		other.lines = wrapIndent(s.Bad, fmt.Sprintf("WARNING: %s knows this host by a key of another type (%s).", q.p.File, strings.Join(q.p.KnownTypes, ", ")), in, "")
	}
	var notice section
	if n := m.hostKeys.notice; n != "" {
		notice.lines = wrapIndent(s.Warn, n, in, "")
	}
	prompt := section{lines: []string{
		s.Warn.Render(ansi.Truncate("Type yes and press enter to trust it, esc to refuse:", in, "…")),
		ansi.Truncate("> "+m.hostKeys.input+"_", in, "…"),
	}}
	lines := fitSections(maxH-2, in, []*section{&title, &fp, &other, &notice, &what, &prompt}, []*section{&what, &notice, &other})
	return strings.Split(s.Dialog.Width(w).Render(strings.Join(lines, "\n")), "\n")
}
