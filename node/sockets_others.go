//go:build !linux

package node

import (
	"errors"
	"net/netip"
)

// DropSockets implements SocketDropper: not here (the daemon logs it and
// moves the VIP all the same).
func (OS) DropSockets(netip.Addr) (int, error) {
	return 0, errors.New("dropping the connections bound to an address (sock_diag) is only supported on Linux")
}

// DropSocketsOf implements BatchDropper: not here either.
func (OS) DropSocketsOf([]netip.Addr) (int, error) { return OS{}.DropSockets(netip.Addr{}) }
