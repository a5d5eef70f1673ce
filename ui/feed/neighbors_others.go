//go:build !linux

package feed

import (
	"net"
	"net/netip"
)

const neighborsSupported = false

// Lookup implements Neighbors: it fails with ErrNoNeighbors.
func (NeighborTable) Lookup([]netip.Addr) (map[netip.Addr]net.HardwareAddr, error) {
	return nil, ErrNoNeighbors
}
