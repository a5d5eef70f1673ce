package vrrp

import (
	"net/netip"
	"slices"
	"time"
)

// An address mismatch is an accepted advert whose virtual addresses differ,
// as a set, from those this instance advertises: two nodes configured apart,
// or a rolling VIP change half done (each node counts it until the other
// matches). The advert is still obeyed, as keepalived does by default: the
// list says what a master holds, not who may be master. It is counted
// (Stats.AddressMismatch), kept for Status and logged, rate-limited.

// setOf sorts a and drops repeats, in place, so that two lists compare as
// sets with slices.Equal.
func setOf(a []netip.Addr) []netip.Addr {
	slices.SortFunc(a, netip.Addr.Compare)
	return slices.Compact(a)
}

// without returns the addresses of the set a that are not in the set b.
func without(a, b []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, x := range a {
		if _, found := slices.BinarySearchFunc(b, x, netip.Addr.Compare); !found {
			out = append(out, x)
		}
	}
	return out
}

// mismatched records an accepted advert whose address set differs from ours.
func (i *Instance) mismatched(now time.Time, r received) {
	i.st.AddressMismatch++
	i.mismatchPeer, i.mismatchAddrs, i.mismatchAt = r.src, r.addrs, now
	if i.limited(now, limitMismatch) {
		i.log.Warn("VRRP advert with other virtual addresses than ours", "src", r.src,
			"only_peer", without(r.addrs, i.own), "only_here", without(i.own, r.addrs))
	}
}
