//go:build !linux

package control

import "net"

// peerOf returns nil: SO_PEERCRED is Linux's.
func peerOf(net.Conn) *Peer { return nil }
