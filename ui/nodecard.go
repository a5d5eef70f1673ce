package ui

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vipkit/vip/node/control"
)

// nodeCard is one node's panel: its link, its VRRP instances and its
// guards, or what is wrong with it and what to do.
type nodeCard struct {
	c       *common
	n       *nodeState
	pair    []*nodeState // every node of its pair, n included
	width   int
	height  int // 0: natural
	focused bool
	details bool // enter: counters, drops, master address
	redial  bool // its feed can reconnect (the Reconnect key)

	// drawn holds the lines Height drew until View uses them: the layout
	// measures each card, and the screen drawn next shows the same state.
	drawn []string
}

var _ Component = (*nodeCard)(nil)

func newNodeCard(c *common, n *nodeState, redial bool) *nodeCard {
	return &nodeCard{c: c, n: n, redial: redial}
}

func (nc *nodeCard) SetSize(width, height int) { nc.width, nc.height = width, height }

func (nc *nodeCard) ShortHelp() []key.Binding {
	k := nc.c.keys
	b := []key.Binding{withHelp(k.Select, "details")}
	if nc.redial && (!nc.n.connected() || nc.n.err != nil) {
		b = append(b, withHelp(k.Reconnect, "reconnect")) // it works on any panel; the bar has room when it helps
	}
	return b
}

// reconnectKey names the Reconnect key in remedies; "" if the node's feed
// cannot reconnect.
func (nc *nodeCard) reconnectKey() string {
	if !nc.redial {
		return ""
	}
	return nc.c.keys.Reconnect.Help().Key
}

func (nc *nodeCard) FullHelp() [][]key.Binding { return [][]key.Binding{nc.ShortHelp()} }

func (nc *nodeCard) Update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(tea.KeyPressMsg); ok && key.Matches(msg, nc.c.keys.Select) {
		nc.details = !nc.details
	}
	return nil
}

// inner is the width of the text inside the border and padding.
func (nc *nodeCard) inner() int { return max(nc.width-4, 8) }

// Height is the card's natural height, border included.
func (nc *nodeCard) Height() int {
	nc.drawn = nc.lines()
	return len(nc.drawn) + 2
}

func (nc *nodeCard) View() string {
	lines := nc.drawn
	nc.drawn = nil
	if lines == nil {
		lines = nc.lines()
	}
	if nc.height > 2 {
		room := nc.height - 2
		switch {
		case len(lines) > room:
			lines = append(lines[:room-1], nc.c.styles.Muted.Render("…"))
		case len(lines) < room:
			lines = append(lines, make([]string, room-len(lines))...)
		}
	}
	w := nc.inner()
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "…")
	}
	style := nc.c.styles.Card
	if nc.focused {
		style = nc.c.styles.FocusedCard
	}
	return style.Width(nc.width).Render(strings.Join(lines, "\n"))
}

// block collects a card's lines at its inner width.
type block struct {
	w     int
	lines []string
}

func (b *block) add(l ...string) { b.lines = append(b.lines, l...) }

// wrap adds text wrapped to the width, at most maxLines lines, continuation
// lines indented under the text after its leading spaces.
func (b *block) wrap(style lipgloss.Style, text string, maxLines int) {
	lead := len(text) - len(strings.TrimLeft(text, " "))
	indent := strings.Repeat(" ", lead+2)
	var ls []string
	for w := b.w; text != ""; w = b.w - len(indent) {
		line, _, _ := strings.Cut(ansi.Wrap(text, max(w, 8), " "), "\n")
		if !strings.HasPrefix(text, line) || strings.TrimSpace(line) == "" {
			line = ansi.Truncate(text, max(w, 8), "") // not seen with plain text
		}
		text = strings.TrimLeft(strings.TrimPrefix(text, line), " ")
		if len(ls) > 0 {
			line = indent + line
		}
		ls = append(ls, line)
	}
	if maxLines > 0 && len(ls) > maxLines {
		ls = ls[:maxLines]
		ls[maxLines-1] = ansi.Truncate(ls[maxLines-1]+" …", b.w, "…")
	}
	for _, l := range ls {
		b.add(style.Render(l))
	}
}

func (nc *nodeCard) lines() []string {
	s, n := nc.c.styles, nc.n
	b := &block{w: nc.inner()}

	// Title: the name and the link.
	var link string
	switch {
	case n.closed:
		link = s.Disconnected.Render("feed ended")
	case !n.connected():
		link = s.Disconnected.Render("DISCONNECTED")
	case errors.Is(n.err, ErrKeepalivedStopped):
		link = s.Stale.Render("keepalived stopped")
	case errors.Is(n.err, ErrVipdStopped):
		link = s.Stale.Render("vipd stopped")
	case errors.Is(n.err, ErrWatchEnded):
		link = s.Stale.Render("watch ended")
	case n.err != nil:
		link = s.Problem.Render("NO DATA")
	case n.status == nil:
		link = s.Muted.Render("waiting")
	case !n.live():
		link = s.Problem.Render("UNKNOWN")
	default:
		link = s.Connected.Render("connected")
	}
	b.add(spread(s.NodeName.Render(n.name), link, b.w))

	// What is wrong, and what to do.
	var linkTrouble diagnosis // the link's, shown
	if !n.connected() {
		st := n.conn
		text := "disconnected since " + nc.c.clock(st.Since)
		if st.Attempt > 0 {
			attempt := fmt.Sprintf("(attempt %d)", st.Attempt)
			if ansi.StringWidth(text+attempt) < b.w {
				text += " " + attempt
			} else {
				text += "\n  " + attempt // never split "attempt 3"
			}
		}
		for _, l := range strings.Split(text, "\n") {
			b.add(s.Disconnected.Render(l))
		}
		if st.LastErr != nil {
			d := diagnose(st.LastErr)
			if d.title == "stream failed" {
				d.title, d.remedy, d.reconnect = "", "reconnecting; check the node is up and sshd answers", " now"
			}
			nc.trouble(b, d)
			linkTrouble = d
		}
	}
	// vipd's word, unless the link's block says the same (a host key
	// error reaches the node's error too, where a feed passes it on).
	if n.err != nil {
		if d := diagnose(n.err); n.connected() || d.title == "" || d.title != linkTrouble.title {
			nc.trouble(b, d)
		}
	}
	if n.status == nil {
		if n.connected() && n.err == nil && !n.closed {
			b.add(s.Muted.Render("waiting for vipd's first status…"))
		}
		return b.lines
	}

	st := n.status
	live := n.live()
	now := nc.c.now()
	age := now.Sub(n.statusAt)
	if n.reporting() && !live {
		nc.unknownLines(b, now)
	}
	if d, ok := n.fresh.skew(); ok {
		dir := "ahead of"
		if d < 0 {
			dir = "behind"
		}
		// Its event times are moved onto the console's clock (local).
		b.wrap(s.Warn, fmt.Sprintf("! clock %s %s this console", fmtDur(absDur(d)), dir), 2)
	}
	switch {
	case !live:
		// Old news is as of when it was taken, not when it came.
		b.add(s.Stale.Render("last known at " + nc.c.stamp(n.statusAt.Add(-n.fresh.late)) + ":"))
	case !n.fresh.paced() && age > nc.c.opts.StaleAfter:
		b.add(s.Warn.Render(fmt.Sprintf("status as of %s (%s old)", nc.c.clock(n.statusAt), fmtDur(age))))
	}
	if nc.details {
		b.add(s.Muted.Render(daemonLine(st)))
	}
	if len(st.Instances) == 0 {
		b.add(s.Muted.Render("no vrrp_instance configured"))
	}
	for i := range st.Instances {
		nc.instanceLines(b, &st.Instances[i], live, len(st.Instances) > 1)
	}
	if st.Nginx != nil {
		nc.guardLines(b, st.Nginx, live)
	}
	for i := range st.Scripts {
		nc.guardLines(b, &st.Scripts[i], live)
	}
	return b.lines
}

// daemonLine says which daemon runs on the node: vipd, or keepalived read
// without an agent (its version line is keepalived's own).
func daemonLine(st *control.Status) string {
	if strings.HasPrefix(st.VipdVersion, "Keepalived") {
		return fmt.Sprintf("%s pid %d (no agent)", st.VipdVersion, st.PID)
	}
	return fmt.Sprintf("vipd %s pid %d up %s", st.VipdVersion, st.PID, fmtDur(st.Uptime.Duration()))
}

// instanceLines draws one instance. With several instances on the node (a
// dual-stack pair's IPv4 and IPv6 ones) each lists its VIPs on a line of
// its own: "VIP held" would not say which.
func (nc *nodeCard) instanceLines(b *block, in *control.Instance, live, named bool) {
	s := nc.c.styles
	dim := func(st lipgloss.Style) lipgloss.Style {
		if live {
			return st
		}
		return s.Stale
	}
	role := dim(s.Role(in.State)).Render(fmt.Sprintf("%-6s", in.State))
	pri := fmt.Sprintf("pri %d", in.BasePriority)
	if in.EffectivePriority != in.BasePriority {
		pri += fmt.Sprintf(" eff %d", in.EffectivePriority)
	}
	preempt := "preempt"
	if in.NoPreempt {
		preempt = "nopreempt"
	}
	b.add(fmt.Sprintf("%s %s %s %s", s.NodeName.Render(in.Name), role, pri, s.Muted.Render(preempt)))

	// The VIP as the kernel reports it, and adverts.
	unknown := nc.n.vipUnknown[in.Name]
	if named && len(in.VIPs) > 0 {
		b.add("  " + s.Muted.Render(strings.Join(stripMasks(in.VIPs), " ")))
	}
	var vip string
	switch {
	case unknown:
		vip = s.Muted.Render("VIP unconfirmed")
	case in.VIPPresent && in.State == control.StateMaster:
		vip = dim(s.Good).Render("VIP held")
	case in.VIPPresent:
		vip = dim(s.Bad).Render("VIP held")
	default:
		vip = s.Muted.Render("no VIP")
	}
	sep := s.Muted.Render(" · ")
	switch {
	case in.State == control.StateMaster:
		b.add("  " + vip + sep + fmt.Sprintf("adverts sent %d", in.Stats.AdvertSent))
	case in.Master.IsValid():
		b.add("  " + vip + sep + "master " + in.Master.String())
	default:
		b.add("  " + vip)
	}
	if in.State != control.StateMaster {
		adverts := fmt.Sprintf("  adverts rcvd %d", in.Stats.AdvertRcvd)
		if !in.LastAdvert.IsZero() {
			adverts += ", last " + fmtDur(in.LastAdvertAge.Duration()) + " ago"
		}
		b.add(adverts)
	}

	// What an operator must not miss.
	switch {
	case in.State == control.StateFault:
		reason := in.FaultReason
		if reason == "" {
			reason = "no reason given"
		}
		b.wrap(dim(s.Fault), "  fault: "+reason, 2)
	case in.State == control.StateBackup && nc.missesAdverts(in):
		// The usual cause of "nopreempt did not work": a backup that hears
		// no master takes over as soon as it starts.
		b.wrap(dim(s.Warn), "  ! BACKUP hears no adverts: check multicast/firewall to the peer", 2)
	case in.State == control.StateBackup && in.VIPPresent && !unknown:
		b.wrap(dim(s.Bad), "  ! BACKUP still holds the VIP", 1)
	case in.State == control.StateMaster && !in.VIPPresent && !unknown:
		b.wrap(dim(s.Bad), fmt.Sprintf("  ! MASTER without the VIP (address errors %d)", in.Stats.AddressErrors), 2)
	}
	if nc.details {
		master := "unknown"
		if in.Master.IsValid() {
			master = in.Master.String()
		}
		m := s.Muted
		b.wrap(m, fmt.Sprintf("  master %s pri %d · vrid %d v%d %s", master, in.MasterPriority, in.VRID, in.Version, in.Interface), 2)
		b.wrap(m, fmt.Sprintf("  transitions %d · became master %d · send errors %d", in.Transitions, in.Stats.BecomeMaster, in.Stats.SendErrors), 2)
		if len(in.Stats.Drops) > 0 {
			var drops []string
			for _, r := range slices.Sorted(maps.Keys(in.Stats.Drops)) {
				drops = append(drops, fmt.Sprintf("%s %d", r, in.Stats.Drops[r]))
			}
			b.wrap(m, "  drops "+strings.Join(drops, ", "), 2)
		}
		if in.Stats.KernelDrops > 0 || in.Stats.Strangers > 0 {
			b.wrap(m, fmt.Sprintf("  kernel drops %d · strangers %d", in.Stats.KernelDrops, in.Stats.Strangers), 2)
		}
		if in.Stats.AddressMismatch > 0 {
			b.wrap(m, fmt.Sprintf("  vip list mismatches %d", in.Stats.AddressMismatch), 2)
		}
	}
}

// deafAfter is how many adverts a peer must have sent as MASTER before a
// BACKUP that received none counts as not hearing them: one may be in
// flight when the statuses are read.
const deafAfter = 3

// missesAdverts reports evidence that the BACKUP in does not hear its
// master: a live peer is MASTER of the instance and had sent deafAfter
// adverts by its last status, and in's status, which arrived after that
// one, counts none received. No adverts alone is no evidence: none are
// sent before a master is elected, and a status read before the master's
// first advert (a node's first status, as `vipctl demo --snapshot` shows
// it) counts none either.
func (nc *nodeCard) missesAdverts(in *control.Instance) bool {
	n := nc.n
	if in.Stats.AdvertRcvd != 0 || !n.live() {
		return false
	}
	for _, peer := range nc.pair {
		if peer == n || !peer.live() {
			continue
		}
		m := peer.instance(in.Name)
		if m != nil && m.State == control.StateMaster && m.Stats.AdvertSent >= deafAfter && n.statusAt.After(peer.statusAt) {
			return true
		}
	}
	return false
}

func (nc *nodeCard) guardLines(b *block, g *control.Guard, live bool) {
	s := nc.c.styles
	name := s.NodeName.Render(g.Name) + " "
	switch g.Verdict {
	case control.VerdictFailed:
		style := s.Failed
		if !live {
			style = s.Stale
		}
		text := "FAILED"
		if g.Reason != "" {
			text += ": " + g.Reason
		}
		b.wrap(style, ansi.Strip(name)+text, 2)
	default:
		verdict := s.Muted.Render(string(g.Verdict))
		if g.Verdict == control.VerdictHealthy {
			verdict = s.Healthy.Render("healthy")
		}
		if !live {
			verdict = s.Stale.Render(string(g.Verdict))
		}
		line := name + verdict
		if !g.LastCheck.IsZero() {
			line += " " + s.Muted.Render(fmtDur(g.Latency.Duration()))
		}
		b.add(line)
	}
	if g.LastError != "" {
		b.wrap(s.Muted, "  last err "+nc.c.clock(nc.n.fresh.local(g.LastErrorTime))+" "+g.LastError, 2)
	}
}

// unknownLines say why a node whose link and stream are up is not
// current, and what that means.
func (nc *nodeCard) unknownLines(b *block, now time.Time) {
	s, n := nc.c.styles, nc.n
	f := &n.fresh
	switch {
	case n.superseded != "":
		b.wrap(s.Problem, fmt.Sprintf("%s took the VIP at %s, after %s's last status (%s)",
			n.superseded, nc.c.stamp(n.supersededAt), n.name, nc.c.stamp(f.statusTaken)), 3)
		b.wrap(s.Remedy, "-> unknown until its next status says where the VIP is", 2)
	case f.late > 0:
		b.wrap(s.Problem, fmt.Sprintf("catching up: %s late", fmtDur(f.late)), 1)
		b.wrap(s.Muted, fmt.Sprintf("reports arrive %s after they were taken, nothing current since %s: a stalled link releasing what it held",
			fmtDur(f.late), nc.c.stamp(f.heard)), 3)
		b.wrap(s.Remedy, "-> unknown until a report arrives on time", 2)
	default:
		b.wrap(s.Problem, fmt.Sprintf("no word for %s", fmtDur(now.Sub(f.heard))), 1)
		b.wrap(s.Muted, fmt.Sprintf("last word %s; vipd reports every %s: the link or vipd has stalled", nc.c.stamp(f.heard), fmtDur(f.pace)), 3)
		b.wrap(s.Remedy, "-> unknown until it reports; SSH keepalives drop a dead link", 2)
	}
}

// trouble adds what is wrong and what to do about it.
func (nc *nodeCard) trouble(b *block, d diagnosis) {
	s := nc.c.styles
	if d.title != "" {
		b.wrap(s.Problem, d.title, 1)
	}
	b.wrap(s.Muted, d.detail, 3)
	b.wrap(s.Remedy, "-> "+d.remedyText(nc.reconnectKey()), 6) // a command to copy: whole
}

// spread puts left and right on one line of width w.
func spread(left, right string, w int) string {
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return left + " " + right
	}
	return left + strings.Repeat(" ", gap) + right
}

func withHelp(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}
