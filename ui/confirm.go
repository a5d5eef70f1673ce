package ui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// This file draws the gate: the confirmation of an action, the action as
// it runs, and its verdict.

// wrapIndent wraps text to w cells in style, continuation lines indented
// by indent plus two.
func wrapIndent(style lipgloss.Style, text string, w int, indent string) []string {
	var out []string
	first := indent
	rest := indent + "  "
	width := max(w-len(rest), 10)
	for i, l := range wordWrap(text, width) {
		pre := rest
		if i == 0 {
			pre = first
		}
		out = append(out, style.Render(ansi.Truncate(pre+strings.TrimRight(l, " "), w, "…")))
	}
	return out
}

// wordWrap breaks plain text at spaces only: node names ("nginx-01")
// stay whole, which ansi.Wrap's hyphen breaks would not keep.
func wordWrap(text string, w int) []string {
	var lines []string
	var cur string
	for _, word := range strings.Fields(text) {
		for ansi.StringWidth(word) > w { // longer than a line: cut
			if cur != "" {
				lines, cur = append(lines, cur), ""
			}
			head := ansi.Truncate(word, w, "")
			lines, word = append(lines, head), word[len(head):]
		}
		switch {
		case cur == "":
			cur = word
		case ansi.StringWidth(cur)+1+ansi.StringWidth(word) <= w:
			cur += " " + word
		default:
			lines, cur = append(lines, cur), word
		}
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// effect says what an action does, in one paragraph.
func effect(k ActionKind, target, peer string) string {
	if peer == "" {
		peer = "no node"
	}
	switch k {
	case ActionFailNginx:
		return fmt.Sprintf("nginx on %s is stopped and held down, so vipd cannot restart it: %s gives the VIP up and %s takes it over. Clients see a short outage; %s stays out until repaired.", target, target, peer, target)
	case ActionStopVipd:
		return fmt.Sprintf("vipd on %s stops gracefully, as the seed kills keepalived: it gives the VIP up with priority 0 and %s takes it over. %s stays out until re-enabled.", target, peer, target)
	case ActionFault:
		return fmt.Sprintf("vipd on %s gives the VIP up (operator FAULT, reason \"drill\") and %s takes it over. %s stays in FAULT until re-enabled.", target, peer, target)
	case ActionRestartNginx:
		return fmt.Sprintf("nginx on %s is stopped. vipd's guard must start it again and the VIP must stay on %s; if the restart fails, the VIP moves to %s.", target, target, peer)
	case ActionRepair:
		if peer == "no node" {
			return fmt.Sprintf("nginx on %s is started (unmasked first) and must turn healthy. No node holds the VIP: %s may take it once healthy.", target, target)
		}
		return fmt.Sprintf("nginx on %s is started (unmasked first) and must turn healthy. The VIP stays on %s.", target, peer)
	case ActionResume:
		return fmt.Sprintf("%s rejoins as BACKUP without preemption (vipd ctl resume, or vipd is started if it is stopped). The VIP must stay on %s and the probe must see no error.", target, peer)
	case ActionBaseline:
		return fmt.Sprintf("Nothing runs: the pair is watched; %s must hold the VIP, %s be a healthy BACKUP and the probe see no error.", target, peer)
	}
	return string(k)
}

// confirmLines draws the confirmation as a box of width w.
func (m *Model) confirmLines(w int) []string {
	s := m.c.styles
	cf := m.gate.confirm
	p := m.pairs[cf.pair]
	in := max(w-4, 10) // border and padding
	var lines []string
	title := s.Title.Render(fmt.Sprintf("Confirm %s on %s", cf.a.Kind.Title(), cf.a.Node))
	lines = append(lines, ansi.Truncate(spread(title, s.Muted.Render("pair "+p.name), in), in, "…"))
	if cf.notice != "" {
		lines = append(lines, wrapIndent(s.Warn, cf.notice, in, "")...)
	}
	lines = append(lines, wrapIndent(lipgloss.NewStyle(), "Effect: "+effect(cf.a.Kind, cf.a.Node, cf.peer), in, "")...)
	if len(cf.plan) > 0 {
		lines = append(lines, wrapIndent(s.Muted, fmt.Sprintf("Runs on %s: %s", cf.a.Node, strings.Join(cf.plan, "; ")), in, "")...)
	}
	lines = append(lines, wrapIndent(s.Good, "Checked: "+strings.Join(cf.passed, " · "), in, "")...)
	if cf.warn != "" {
		lines = append(lines, wrapIndent(s.Warn, "Warning: "+cf.warn, in, "")...)
	}
	var looked []string
	for _, n := range p.nodes {
		looked = append(looked, n.name+" "+cf.looked[n.name])
	}
	lines = append(lines, wrapIndent(s.Muted, fmt.Sprintf("State as of %s: %s", m.c.clock(cf.at), strings.Join(looked, " · ")), in, "")...)
	if cf.typed {
		lines = append(lines, s.Warn.Render(ansi.Truncate(fmt.Sprintf("Type %s and press enter to confirm, esc to cancel:", cf.a.Node), in, "…")))
		lines = append(lines, ansi.Truncate("> "+cf.input+"_", in, "…"))
	} else {
		lines = append(lines, s.Warn.Render(ansi.Truncate("Press y or enter to confirm, n or esc to cancel.", in, "…")))
	}
	box := s.Dialog.Width(w).Render(strings.Join(lines, "\n"))
	return strings.Split(box, "\n")
}

// runLines draws the running action: its expectations as they stand.
func (m *Model) runLines(w int) []string {
	s := m.c.styles
	r := m.gate.run
	now := m.c.now()
	head := fmt.Sprintf("▶ %s on %s", r.a.Kind.Title(), r.target)
	if r.a.Kind.Failover() && r.peer != "" {
		head += " → " + r.peer
	}
	phase := "running the commands"
	if r.phase == phaseVerify {
		phase = "checking until " + m.c.clock(r.deadline)
	}
	lines := []string{ansi.Truncate(spread(s.Warn.Render(head), s.Muted.Render(fmtDur(now.Sub(r.start))+" · "+phase), w), w, "…")}
	lines = append(lines, m.expectLines(r.exps, w, true)...)
	if p := m.pairs[r.pair]; p.probe != nil {
		st := r.probeStats(true)
		lines = append(lines, s.Muted.Render(ansi.Truncate(fmt.Sprintf("  probe: %d requests, %d failed, outage %s so far", st.Samples, st.Failures, fmtDur(st.Outage)), w, "…")))
	}
	return lines
}

func (m *Model) expectLines(exps []Expectation, w int, live bool) []string {
	s := m.c.styles
	var lines []string
	for _, e := range exps {
		mark, style := "✓", s.Good
		if !e.OK {
			mark, style = "✗", s.Bad
			if live {
				mark, style = "…", s.Muted
			}
		}
		text := fmt.Sprintf("  %s %s", mark, e.Name)
		if e.Detail != "" {
			text += " — " + e.Detail
		}
		lines = append(lines, style.Render(ansi.Truncate(text, w, "…")))
	}
	return lines
}

// outcomeLines draws a verdict.
func (m *Model) outcomeLines(o *Outcome, w int) []string {
	s := m.c.styles
	what := o.Action.Kind.Title()
	if o.Target != "" {
		what += " on " + o.Target
	}
	var lines []string
	switch o.Result {
	case ResultPass:
		lines = append(lines, wrapIndent(s.Good, "PASS "+what+" in "+fmtDur(o.End.Sub(o.Start))+": "+o.summary(), w, "")...)
		lines = append(lines, m.expectLines(o.Expectations, w, false)...)
	case ResultFail:
		lines = append(lines, wrapIndent(s.Bad, "FAIL "+what+": "+o.Why, w, "")...)
		lines = append(lines, m.expectLines(o.Expectations, w, false)...)
		if o.Remedy != "" {
			lines = append(lines, wrapIndent(s.Remedy, "-> to return to a safe state: "+o.Remedy, w, "")...)
		}
	default:
		lines = append(lines, wrapIndent(s.Warn, strings.ToUpper(string(o.Result))+" "+what+": "+o.Why, w, "")...)
	}
	return lines
}
