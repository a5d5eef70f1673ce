package ui

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vipkit/vip/node/control"
)

// vipLane is the VIP line: who holds the VIP according to the nodes, and
// who answers on it according to the probe. When the two differ, clients
// are not reaching the node that thinks it serves them.
type vipLane struct {
	c     *common
	vip   string
	nodes []*nodeState
	probe *probeState // nil: not probed
	width int
}

var _ Component = (*vipLane)(nil)

// vipLaneHeight is the lane's height: one line for the nodes' view, one for
// the probe's.
const vipLaneHeight = 2

func (l *vipLane) SetSize(width, _ int)         { l.width = width }
func (l *vipLane) Update(tea.Msg) tea.Cmd       { return nil }
func (l *vipLane) ShortHelp() []key.Binding     { return nil }
func (l *vipLane) FullHelp() [][]key.Binding    { return nil }
func (l *vipLane) View() string                 { return l.nodesLine() + "\n" + l.probeLine() }
func (l *vipLane) truncate(s string) string     { return ansi.Truncate(s, l.width, "…") }
func (l *vipLane) label(s string) string        { return l.c.styles.Title.Render(fmt.Sprintf("%-5s", s)) }
func (l *vipLane) joinNames(ns []string) string { return strings.Join(ns, " and ") }

// holding is who holds the lane's VIP according to the nodes.
type holding struct {
	instance string
	holders  []string // vip_present, confirmed by a status
	claims   []string // MASTER whose VIP is not confirmed since the transition
	unknown  []string // not live
}

func (l *vipLane) holding() holding {
	var h holding
	for _, n := range l.nodes {
		if !n.live() {
			h.unknown = append(h.unknown, n.name)
			continue
		}
		for _, in := range n.status.Instances {
			if l.vip != "" && !vipMatches(in.VIPs, l.vip) {
				continue
			}
			if h.instance == "" {
				h.instance = in.Name
			}
			if in.Name != h.instance {
				continue
			}
			switch {
			case n.vipUnknown[in.Name] && in.State == control.StateMaster:
				h.claims = append(h.claims, n.name)
			case !n.vipUnknown[in.Name] && in.VIPPresent:
				h.holders = append(h.holders, n.name)
			}
		}
	}
	return h
}

func (l *vipLane) nodesLine() string {
	s := l.c.styles
	h := l.holding()
	vip := l.vip
	if vip == "" {
		vip = "(not set)"
	}
	head := l.label("VIP") + " " + s.NodeName.Render(vip)
	if h.instance != "" {
		head += s.Muted.Render(" " + h.instance)
	}
	var what string
	switch {
	case len(h.holders) > 1:
		what = s.Bad.Render("held by " + l.joinNames(h.holders))
	case len(h.holders) == 1 && len(h.claims) > 0:
		what = s.Bad.Render(fmt.Sprintf("held by %s, %s MASTER too", h.holders[0], l.joinNames(h.claims)))
	case len(h.holders) == 1:
		what = s.Good.Render("held by " + h.holders[0])
	case len(h.claims) > 0:
		what = s.Warn.Render(l.joinNames(h.claims) + " MASTER, VIP not yet confirmed")
	case len(h.unknown) == len(l.nodes):
		what = s.Muted.Render("no node reachable")
	case len(h.unknown) > 0:
		// The unknown node may hold it: claim nothing about it.
		what = s.Warn.Render("held by no node known")
	default:
		what = s.Bad.Render("held by no node")
	}
	line := head + "  " + what
	if len(h.unknown) > 0 && len(h.unknown) < len(l.nodes) {
		line += s.Muted.Render("  (" + l.joinNames(h.unknown) + " unknown)")
	}
	return l.truncate(line)
}

func (l *vipLane) probeLine() string {
	s := l.c.styles
	head := l.label("probe") + " "
	if l.probe == nil {
		return l.truncate(head + s.Muted.Render("not configured"))
	}
	sum, ok := l.probe.summary()
	if !ok {
		msg := "waiting for the first answer"
		if l.probe.closed {
			msg = "ended"
		}
		return l.truncate(head + s.Muted.Render(msg))
	}
	var parts []string
	if sum.last.OK {
		who := sum.last.Backend
		part := s.NodeName.Render(who) + " answers"
		if who == "" {
			part = "answered (node unknown)"
		}
		h := l.holding()
		if len(h.holders) == 1 && who != "" && h.holders[0] != who {
			part += s.Warn.Render(" but " + h.holders[0] + " holds it (stale ARP?)")
		}
		parts = append(parts, part)
	} else {
		parts = append(parts, s.Bad.Render(fmt.Sprintf("FAILING (%d in a row): %s", l.probe.failRun, errText(sum.last.Err))))
	}
	rate := fmt.Sprintf("%d/%d ok", sum.ok, sum.n)
	switch {
	case sum.ok == sum.n:
		rate = s.Good.Render(rate)
	case sum.ok*10 >= sum.n*9:
		rate = s.Warn.Render(rate)
	default:
		rate = s.Bad.Render(rate)
	}
	parts = append(parts, rate)
	if len(sum.backends) > 1 {
		var mix []string
		for _, b := range slices.Sorted(maps.Keys(sum.backends)) {
			mix = append(mix, fmt.Sprintf("%s %d", b, sum.backends[b]))
		}
		parts = append(parts, s.Warn.Render("from "+strings.Join(mix, ", ")))
	}
	parts = append(parts, fmtDur(sum.last.Latency))
	if l.probe.closed {
		parts = append(parts, s.Muted.Render("ended"))
	}
	return l.truncate(head + strings.Join(parts, s.Muted.Render(" · ")))
}

// banners are the lines across the screen: one per instance in split brain
// or without a master, one per stranger, one per VIP list mismatch, and the
// configuration check's.
func banners(c *common, p *pairView, width int) []string {
	var out []string
	for _, h := range analyze(p.nodes, p.probe, p.vip) {
		var text string
		st := c.styles.SplitBrain
		switch {
		case h.splitBrain():
			text = h.splitText()
		case h.noMaster():
			st = c.styles.NoMaster
			text = fmt.Sprintf("NO MASTER %s: no node is MASTER or holds %s", h.name, strings.Join(stripMasks(h.vips), " "))
		default:
			continue
		}
		out = append(out, st.Width(width).Render(ansi.Truncate(text, max(width-2, 1), "…")))
	}
	out = append(out, strangerBanners(c, p, width)...)
	out = append(out, mismatchBanners(c, p, width)...)
	if b, ok := checkBanner(c, p, width); ok {
		out = append(out, b)
	}
	return out
}

// splitText says what the split brain of h is.
func (h instanceHealth) splitText() string {
	both := func(names []string) string {
		if len(names) == 2 {
			return names[0] + " and " + names[1] + " both"
		}
		return strings.Join(names, ", ") + " all"
	}
	vips := strings.Join(stripMasks(h.vips), " ")
	var why []string
	switch {
	case len(h.holders) > 1 && slices.Equal(h.masters, h.holders):
		why = append(why, both(h.masters)+" MASTER and holding "+vips)
	case len(h.holders) > 1:
		why = append(why, both(h.holders)+" hold "+vips)
	}
	if len(why) == 0 && len(h.answering) > 1 {
		why = append(why, "the VIP answers from "+strings.Join(h.answering, " and ")+" in turn")
	}
	return fmt.Sprintf("SPLIT BRAIN %s: %s", h.name, strings.Join(why, "; "))
}

// stripMasks shows configured VIPs ("198.51.100.100/24") as addresses.
func stripMasks(vips []string) []string {
	out := make([]string, len(vips))
	for i, v := range vips {
		out[i], _, _ = strings.Cut(v, "/")
	}
	return out
}
