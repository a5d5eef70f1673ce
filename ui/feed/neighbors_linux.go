package feed

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

const neighborsSupported = true

// usable are the entry states whose link-layer address is where packets
// go now or would go without a new resolution.
const usable = unix.NUD_REACHABLE | unix.NUD_STALE | unix.NUD_DELAY | unix.NUD_PROBE | unix.NUD_PERMANENT

// Lookup implements Neighbors with one dump of the table.
func (t NeighborTable) Lookup(addrs []netip.Addr) (map[netip.Addr]net.HardwareAddr, error) {
	c, err := rtnetlink.Dial(&netlink.Config{NetNS: t.NetNS})
	if err != nil {
		return nil, fmt.Errorf("failed to open rtnetlink to read the neighbour table: %w", err)
	}
	defer c.Close()
	msgs, err := c.Neigh.List()
	if err != nil {
		return nil, fmt.Errorf("failed to read the neighbour table: %w", err)
	}
	out := map[netip.Addr]net.HardwareAddr{}
	for _, m := range msgs {
		if m.State&usable == 0 || m.Attributes == nil || len(m.Attributes.LLAddress) == 0 {
			continue
		}
		a, ok := netip.AddrFromSlice(m.Attributes.Address)
		if !ok {
			continue
		}
		if a = a.Unmap(); slices.Contains(addrs, a) {
			out[a] = slices.Clone(m.Attributes.LLAddress)
		}
	}
	return out, nil
}
