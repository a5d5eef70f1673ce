//go:build !linux

package node

import "net/netip"

// DropSockets implements SocketDropper: nothing to do here.
func (OS) DropSockets(netip.Addr) (int, error) { return 0, nil }
