package vrrp

import (
	"net/netip"
	"time"
)

// Version is the VRRP protocol version on the wire.
type Version uint8

const (
	Version2 Version = 2 // RFC 3768
	Version3 Version = 3 // RFC 5798
)

// AuthType is the VRRPv2 authentication type (RFC 3768 section 5.3.6).
type AuthType uint8

const (
	AuthNone   AuthType = 0
	AuthSimple AuthType = 1 // "simple text password", keepalived's auth_type PASS
)

// Well-known protocol values.
const (
	IPProtocol   = 112 // IANA protocol number of VRRP
	TTL          = 255 // every advert is sent and must arrive with TTL 255
	MaxAddresses = 255 // Count IPvX Addrs is one octet
)

// Group is the IPv4 multicast group of VRRP (224.0.0.18).
var Group = netip.AddrFrom4([4]byte{224, 0, 0, 18})

// An Advertisement is a VRRP advertisement, version 2 or 3, for IPv4.
//
// Version 2 (RFC 3768):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|   Auth Type   |   Adver Int   |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                         IP Address (1..n)                     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                     Authentication Data (1)                   |
//	|                     Authentication Data (2)                   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Version 3 (RFC 5798):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|(rsvd) |     Max Adver Int     |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       IPvX Address(es)                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Advertisement struct {
	Version  Version
	VRID     uint8
	Priority uint8
	// Interval is the advertisement interval: whole seconds in version 2,
	// centiseconds (12 bits, at most 40.95 s) in version 3.
	Interval time.Duration
	// Addresses are the virtual IPv4 addresses. Decoding reuses the slice's
	// backing array, so a receive loop does not allocate.
	Addresses []netip.Addr
	AuthType  AuthType // version 2 only
	AuthData  [8]byte  // version 2 only, zero-padded
	// Checksum is the checksum as decoded. Encoding ignores it and computes
	// the right one.
	Checksum uint16
}
