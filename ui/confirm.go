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

// section is a run of a box's lines that may be cut as one.
type section struct{ lines []string }

// fitSections joins the sections in order, cutting those of cut, in that
// order, until the lines fit room: a section cut short ends in "…", and
// one cut to nothing is left out. Sections not in cut (a title, a prompt
// and its input line) are never cut. w is the lines' width.
func fitSections(room, w int, order, cut []*section) []string {
	total := 0
	for _, s := range order {
		total += len(s.lines)
	}
	for _, s := range cut {
		if total <= room {
			break
		}
		keep := max(len(s.lines)-(total-room), 0)
		total -= len(s.lines) - keep
		if keep < len(s.lines) && keep > 0 {
			s.lines = append(s.lines[:keep-1:keep-1], ansi.Truncate(s.lines[keep-1], max(w-1, 1), "")+"…")
		} else {
			s.lines = s.lines[:keep]
		}
	}
	var out []string
	for _, s := range order {
		out = append(out, s.lines...)
	}
	return out
}

// effect says what an action does, in one paragraph.
func effect(a Action, peer string) string {
	if peer == "" {
		peer = "no node"
	}
	if f := a.Kind.def().effectFor(a.Keepalived); f != nil {
		return f(a.Node, peer)
	}
	return string(a.Kind)
}

// confirmLines draws the confirmation as a box of width w, in at most
// maxH lines: its title, the prompt and its input line always show; the
// rest is cut to fit, what the operator needs least first.
func (m *Model) confirmLines(w, maxH int) []string {
	s := m.c.styles
	cf := m.gate.confirm
	p := m.pairs[cf.pair]
	in := max(w-4, 10) // border and padding
	title := section{[]string{ansi.Truncate(spread(s.Title.Render(fmt.Sprintf("Confirm %s on %s", cf.a.Kind.Title(), cf.a.Node)), s.Muted.Render("pair "+p.name), in), in, "…")}}
	var notice, plan, warn section
	if cf.notice != "" {
		notice.lines = wrapIndent(s.Warn, cf.notice, in, "")
	}
	eff := section{wrapIndent(lipgloss.NewStyle(), "Effect: "+effect(cf.a, cf.peer), in, "")}
	if len(cf.plan) > 0 {
		var cmds []string
		for _, c := range cf.plan {
			cmds = append(cmds, c.Line)
		}
		plan.lines = wrapIndent(s.Muted, fmt.Sprintf("Runs on %s: %s", cf.a.Node, strings.Join(cmds, "; ")), in, "")
	}
	checked := section{wrapIndent(s.Good, "Checked: "+strings.Join(cf.passed, " · "), in, "")}
	if cf.warn != "" {
		warn.lines = wrapIndent(s.Warn, "Warning: "+cf.warn, in, "")
	}
	var looked []string
	for _, n := range p.nodes {
		looked = append(looked, n.name+" "+cf.looked[n.name])
	}
	state := section{wrapIndent(s.Muted, fmt.Sprintf("State as of %s: %s", m.c.clock(cf.at), strings.Join(looked, " · ")), in, "")}
	var prompt section
	if cf.typed {
		prompt.lines = []string{
			s.Warn.Render(ansi.Truncate(fmt.Sprintf("Type %s and press enter to confirm, esc to cancel:", cf.a.Node), in, "…")),
			ansi.Truncate("> "+cf.input+"_", in, "…"),
		}
	} else {
		prompt.lines = []string{s.Warn.Render(ansi.Truncate("Press y or enter to confirm, n or esc to cancel.", in, "…"))}
	}
	lines := fitSections(maxH-2, in,
		[]*section{&title, &notice, &eff, &plan, &checked, &warn, &state, &prompt},
		[]*section{&plan, &state, &checked, &eff, &warn, &notice})
	box := s.Dialog.Width(w).Render(strings.Join(lines, "\n"))
	return strings.Split(box, "\n")
}

// confirmMinHeight is the fewest lines a confirmation box takes: its
// border, title, a line of its effect, the prompt and the input line.
const confirmMinHeight = 6

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
