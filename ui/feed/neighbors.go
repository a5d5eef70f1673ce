package feed

import (
	"errors"
	"net"
	"net/netip"
)

// Neighbors is the console host's neighbour table (ARP for IPv4, NDP for
// IPv6): where the probe's packets to an on-link VIP went.
type Neighbors interface {
	// Lookup returns the link-layer address of each of addrs that has a
	// usable entry (reachable, stale, delay, probe or permanent); the
	// others are absent. An off-link address never has one.
	Lookup(addrs []netip.Addr) (map[netip.Addr]net.HardwareAddr, error)
}

// ErrNoNeighbors is NeighborTable's error where the table cannot be read.
var ErrNoNeighbors = errors.New("reading the neighbour table is implemented on Linux only")

// NeighborTable reads a neighbour table over rtnetlink (Linux; elsewhere
// Lookup fails with ErrNoNeighbors).
type NeighborTable struct {
	// NetNS is a network namespace's file descriptor (the lab's client);
	// 0 is the console's own.
	NetNS int
}

var _ Neighbors = NeighborTable{}

// SystemNeighbors is the console host's own table, or nil where it cannot
// be read: then no answer is put down to a node by its MAC.
func SystemNeighbors() Neighbors {
	if !neighborsSupported {
		return nil
	}
	return NeighborTable{}
}
