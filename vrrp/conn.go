package vrrp

import (
	"net/netip"
	"time"
)

// PacketInfo is what the IP layer tells about a received advertisement.
// The engine needs it because VRRP validity depends on the IP header:
// TTL must be 255 and the v3 checksum covers the source and destination.
type PacketInfo struct {
	Src     netip.Addr // IPv4 source: the sender's primary address
	Dst     netip.Addr // IPv4 destination: 224.0.0.18 or our unicast address
	TTL     int        // IP TTL as received; -1 when the transport cannot tell
	IfIndex int        // receiving interface, 0 when unknown
}

// A Conn carries VRRP messages (the IP payload, without the IPv4 header).
// A raw protocol-112 socket implements it on Linux; vrrptest has an
// in-memory one for simulations.
type Conn interface {
	// ReadFrom reads one VRRP message into b.
	ReadFrom(b []byte) (n int, info PacketInfo, err error)
	// WriteTo sends one VRRP message to dst (224.0.0.18 or a unicast peer)
	// with TTL 255 and the router's primary address as source.
	WriteTo(b []byte, dst netip.Addr) error
	// SetReadDeadline bounds a pending or future ReadFrom.
	SetReadDeadline(t time.Time) error
	Close() error
}

// An Addresser adds and removes the virtual addresses on the interface.
// Both operations are idempotent: adding a present address or removing an
// absent one is not an error.
type Addresser interface {
	AddAddress(p netip.Prefix) error
	RemoveAddress(p netip.Prefix) error
	HasAddress(p netip.Prefix) (bool, error)
}

// An Announcer tells the segment that addr now lives at this router's MAC
// address: one gratuitous ARP request and one gratuitous ARP reply (devices
// honour one or the other). Repetition and spacing are the engine's job.
type Announcer interface {
	Announce(addr netip.Addr) error
}
