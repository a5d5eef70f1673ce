package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// mismatchBanners are the lines of nodes that recently heard a peer
// advertise other VIPs than their own (vipd's status: mismatch_peer,
// mismatch_addresses, mismatch_at), one per node and instance: two
// configurations apart, or a rolling VIP change not finished yet.
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
			theirs := make([]string, len(in.MismatchAddresses))
			for i, a := range in.MismatchAddresses {
				theirs[i] = a.String()
			}
			text := fmt.Sprintf("VIP LIST MISMATCH %s: peer %s advertises %s, %s has %s",
				in.Name, in.MismatchPeer, strings.Join(theirs, " "), n.name, strings.Join(stripMasks(in.VIPs), " "))
			out = append(out, c.styles.ConfigMismatch.Width(width).Render(ansi.Truncate(text, max(width-2, 1), "…")))
		}
	}
	return out
}
