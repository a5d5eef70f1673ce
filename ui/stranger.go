package ui

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// strangerRecent is how long after its last packet a stranger keeps its
// banner: long enough to be read after a burst, short enough that the
// banner means "now".
const strangerRecent = 5 * time.Minute

// recent says whether an event that a node's status taken at now dates at
// keeps its banner (strangerRecent, for every banner of an event).
func recent(now, at time.Time) bool { return !at.IsZero() && now.Sub(at) <= strangerRecent }

// strangerBanners are the lines of hosts that are not peers but send
// adverts for one of the pair's VRIDs (vipd's status: stranger,
// stranger_at), one per instance and stranger, naming the nodes that heard
// it: VRRPv2's password cannot keep such a host out, and with keepalived it
// takes the VIP away.
func strangerBanners(c *common, p *pairView, width int) []string {
	type key struct {
		inst string
		vrid uint8
		addr netip.Addr
	}
	seen := map[key][]string{}
	last := map[key]time.Time{}
	var keys []key
	for _, n := range p.nodes {
		if n.status == nil {
			continue
		}
		for _, in := range n.status.Instances {
			if !in.Stranger.IsValid() || !recent(n.status.Time, in.StrangerAt) {
				continue
			}
			k := key{in.Name, in.VRID, in.Stranger}
			if seen[k] == nil {
				keys = append(keys, k)
			}
			seen[k] = append(seen[k], n.name)
			if in.StrangerAt.After(last[k]) {
				last[k] = in.StrangerAt
			}
		}
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		// The nodes that heard it, and when it was last heard: one line
		// of 80 columns for an IPv4 stranger, wrapped for a long one.
		text := fmt.Sprintf("STRANGER %s: %s is not a peer (%s, %s)",
			k.inst, k.addr, strings.Join(slices.Compact(seen[k]), ", "), last[k].Format(time.TimeOnly))
		out = append(out, bannerLines(c.styles.Stranger, text, width)...)
	}
	return out
}
