package vrrp

import (
	"crypto/subtle"
	"net/netip"
	"time"
)

// A Filter decides whether a received message is an advertisement this
// router obeys. It holds the receive-side checks of RFC 3768 7.1 and RFC 5798
// 7.1 that do not depend on the state machine.
type Filter struct {
	Version Version
	// Family is the instance's: adverts from the other family (from a
	// socket shared across families, which Listen never makes) are
	// ErrFamily.
	Family   Family
	VRID     uint8
	AuthType AuthType // v2
	AuthData [8]byte  // v2, zero padded (auth_pass truncated to 8 like keepalived); see AuthData
	// Interval is ours: v2 adverts with another interval are dropped (RFC
	// 3768 7.1), as keepalived does, so that two masters with different
	// timers cannot share a VRID. Version 3 adverts carry the master's
	// interval for the backups to adopt, so it is not compared.
	Interval time.Duration
	Peers    []netip.Addr // unicast mode: only these sources are accepted (ErrPeer)
	Self     []netip.Addr // our own addresses: ErrOwn (a looped-back advert)
}

// Accept decodes b, received with info, into a and returns nil if this
// router must obey it, or the DropError that says why not. The checks run in
// this order: IPv4 TTL or IPv6 hop limit 255 (skipped when info.TTL is -1),
// for IPv6 in multicast mode a link-local source (RFC 5798 section 5.1.2.1),
// source not one of Self, source one of Peers (when there are any),
// structure, family and checksum (Unmarshal), version, VRID, and for
// version 2 the authentication type and data and the interval. A wrong
// password is always a drop.
//
// In unicast mode an IPv6 source need not be link-local: keepalived sends
// from unicast_src_ip, which may be global, and only Peers are accepted.
//
// Unlike keepalived, which skips the TTL check in unicast mode, Accept
// requires TTL 255 from IPv4 unicast peers too: keepalived sends its IPv4
// unicast adverts with TTL 255, and the check keeps off-link senders out.
// Its IPv6 unicast adverts go with the default hop limit (64, captured in
// testdata/keepalived-v6-unicast.hex), so from IPv6 unicast peers, which
// must be in Peers, any hop limit is accepted.
//
// Accept does not allocate, whether it accepts or drops, once a.Addresses
// has room for the addresses (reuse a across calls).
func (f *Filter) Accept(b []byte, info PacketInfo, a *Advertisement) error {
	src := info.Src.Unmap().WithZone("")
	six := FamilyOf(src) == IPv6
	if src.IsValid() && FamilyOf(src) != f.Family {
		return ErrFamily
	}
	if info.TTL != -1 && info.TTL != TTL && !(six && len(f.Peers) > 0) {
		return ErrTTL
	}
	if six && len(f.Peers) == 0 && !src.IsLinkLocalUnicast() {
		return ErrSource
	}
	if contains(f.Self, src) {
		return ErrOwn
	}
	if len(f.Peers) > 0 && !contains(f.Peers, src) {
		return ErrPeer
	}
	if err := a.Unmarshal(b, src, info.Dst); err != nil {
		return err
	}
	if a.Version != f.Version {
		return ErrVersion
	}
	if a.VRID != f.VRID {
		return ErrVRID
	}
	if a.Version == Version2 {
		if a.AuthType != f.AuthType {
			return ErrAuth
		}
		// Constant time, as keepalived compares: the password is all the
		// protection v2 PASS has, so don't leak it byte by byte.
		if a.AuthType != AuthNone && subtle.ConstantTimeCompare(a.AuthData[:], f.AuthData[:]) != 1 {
			return ErrAuth
		}
		if a.Interval != f.Interval {
			return ErrInterval
		}
	}
	return nil
}

func contains(addrs []netip.Addr, ip netip.Addr) bool {
	for _, a := range addrs {
		if a.Unmap().WithZone("") == ip {
			return true
		}
	}
	return false
}

// AuthData returns the v2 Authentication Data for a simple-text password:
// the first 8 bytes of pass, zero padded. keepalived truncates auth_pass the
// same way, so "qwert123!" and "qwert123" are the same password on the wire.
func AuthData(pass string) [8]byte {
	var d [8]byte
	copy(d[:], pass)
	return d
}
