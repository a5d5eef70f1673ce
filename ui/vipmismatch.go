package ui

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// mismatchBanners are the lines of nodes that recently heard a peer
// advertise other VIPs than their own (vipd's status: mismatch_peer,
// mismatch_addresses, mismatch_at), one per node and instance: two
// configurations apart, or a rolling VIP change not finished yet. They say
// what differs, seen from the node that heard it: the VIPs the peer adds
// and those it lacks; both lists whole would not fit 80 columns.
func mismatchBanners(c *common, p *pairView, width int) []string {
	var out []string
	for _, n := range p.nodes {
		if n.status == nil {
			continue
		}
		for _, in := range n.status.Instances {
			if !in.MismatchPeer.IsValid() || !recent(n.status.Time, in.MismatchAt) {
				continue
			}
			adds, lacks := vipDiff(in.MismatchAddresses, stripMasks(in.VIPs))
			var what []string
			if len(adds) > 0 {
				what = append(what, "adds "+strings.Join(adds, " "))
			}
			if len(lacks) > 0 {
				what = append(what, "lacks "+strings.Join(lacks, " "))
			}
			if len(what) == 0 { // the node's own list changed since it heard the peer
				what = append(what, "advertised "+strings.Join(addrStrings(in.MismatchAddresses), " "))
			}
			text := fmt.Sprintf("VIP LIST MISMATCH %s on %s: peer %s %s", in.Name, n.name, in.MismatchPeer, strings.Join(what, ", "))
			out = append(out, bannerLines(c.styles.ConfigMismatch, text, width)...)
		}
	}
	return out
}

// vipDiff compares the peer's advertised addresses with ours (addresses
// without masks, as written): those only the peer has, and those only we
// have, in the order given.
func vipDiff(theirs []netip.Addr, ours []string) (adds, lacks []string) {
	mine := make([]netip.Addr, 0, len(ours))
	for _, s := range ours {
		a, err := netip.ParseAddr(s)
		if err != nil {
			lacks = append(lacks, s) // not an address: it cannot be in theirs
			continue
		}
		mine = append(mine, a)
		if !slices.Contains(theirs, a) {
			lacks = append(lacks, a.String())
		}
	}
	for _, a := range theirs {
		if !slices.Contains(mine, a) {
			adds = append(adds, a.String())
		}
	}
	return adds, lacks
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// maxBannerLines bounds one banner: the screen's body comes first.
const maxBannerLines = 2

// bannerLines renders text across width in style, wrapped at word
// boundaries onto at most maxBannerLines lines (the next ones indented),
// the last cut with "…" if it still does not fit: one string per line, as
// the layout counts them.
func bannerLines(st lipgloss.Style, text string, width int) []string {
	limit := max(width-2-2, 1) // the style's padding and the indent
	lines := strings.Split(ansi.Wrap(text, limit, ""), "\n")
	if len(lines) > maxBannerLines {
		rest := strings.Join(lines[maxBannerLines-1:], " ")
		lines = append(lines[:maxBannerLines-1], ansi.Truncate(rest, limit, "…"))
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if i > 0 {
			l = "  " + l
		}
		out[i] = st.Width(width).Render(l)
	}
	return out
}
