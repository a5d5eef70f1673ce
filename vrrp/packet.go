package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
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

// Group is the IPv4 multicast group of VRRP (224.0.0.18); Group6 the IPv6
// one (ff02::12, link-local scope, RFC 5798 section 5.1.2.2).
var (
	Group  = netip.AddrFrom4([4]byte{224, 0, 0, 18})
	Group6 = netip.MustParseAddr("ff02::12")
)

// Family is the address family an advertisement travels in and carries:
// a VRRP message does not say which, the IP header that carries it does.
// The zero value is IPv4.
type Family uint8

const (
	IPv4 Family = iota
	IPv6        // VRRPv3 only (RFC 5798)
)

// String returns "IPv4" or "IPv6".
func (f Family) String() string {
	if f == IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

// FamilyOf returns the family of ip: IPv6 for an IPv6 address that is not
// IPv4-mapped, IPv4 otherwise.
func FamilyOf(ip netip.Addr) Family {
	if ip.Is6() && !ip.Is4In6() {
		return IPv6
	}
	return IPv4
}

// GroupOf returns the multicast group of VRRP in family f.
func GroupOf(f Family) netip.Addr {
	if f == IPv6 {
		return Group6
	}
	return Group
}

func (f Family) addrLen() int {
	if f == IPv6 {
		return 16
	}
	return 4
}

// An Advertisement is a VRRP advertisement: version 2 or 3 for IPv4,
// version 3 for IPv6.
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
//
// The addresses are 4 octets each for IPv4 and 16 for IPv6.
//
// A version 2 message always carries the 8 octets of Authentication Data,
// zeros with AuthNone: keepalived sends them and drops a message without
// them (captured in testdata/keepalived-v2-noauth.hex). The v2 checksum
// covers the message alone; the v3 checksum also covers the IPv4 or IPv6
// pseudo-header (RFC 5798 section 5.2.8), so only Append and Unmarshal,
// which are given the IP addresses, handle it.
type Advertisement struct {
	Version Version
	// Family says how Addresses go on the wire. Unmarshal sets it from the
	// packet's addresses; UnmarshalBinary, which is not given them, reads
	// it: set it to IPv6 before decoding an IPv6 message.
	Family   Family
	VRID     uint8
	Priority uint8
	// Interval is the advertisement interval: whole seconds in version 2,
	// centiseconds (12 bits, at most 40.95 s) in version 3.
	Interval time.Duration
	// Addresses are the virtual addresses, all of Family. Decoding reuses
	// the slice's backing array, so a receive loop does not allocate.
	Addresses []netip.Addr
	AuthType  AuthType // version 2 only
	AuthData  [8]byte  // version 2 only, zero-padded
	// Checksum is the checksum as decoded. Encoding ignores it and computes
	// the right one.
	Checksum uint16
}

const (
	headerLen   = 8 // the fixed part, up to and including Checksum
	authLen     = 8 // v2 Authentication Data
	typeAdvert  = 1 // the only VRRP message type
	v3MaxCentis = 1<<12 - 1
)

// errInvalid marks the encoding errors: an Advertisement that cannot be put on
// the wire. Decoding errors are DropErrors instead.
var errInvalid = errors.New("invalid advertisement")

// MarshalBinary encodes a as a VRRP message.
//
// A version 3 message gets checksum 0: its checksum covers the IP
// pseudo-header, which MarshalBinary does not know. Use Append to send one.
func (a *Advertisement) MarshalBinary() ([]byte, error) {
	n, iv, err := a.check()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, n)
	return a.encode(b, iv, a.Version == Version2, netip.Addr{}, netip.Addr{}), nil
}

// Append appends the encoded message to b with the right checksum for either
// version; src and dst are the source and destination of the packet that
// will carry it, of a.Family (version 3 only, ignored for version 2). It
// does not allocate when cap(b) has room for the message. On error b is
// returned unchanged.
func (a *Advertisement) Append(b []byte, src, dst netip.Addr) ([]byte, error) {
	_, iv, err := a.check()
	if err != nil {
		return b, err
	}
	if a.Version == Version3 {
		src, dst = src.Unmap().WithZone(""), dst.Unmap().WithZone("")
		if !src.IsValid() || !dst.IsValid() || FamilyOf(src) != a.Family || FamilyOf(dst) != a.Family {
			return b, fmt.Errorf("failed to encode VRRPv3 advertisement from %v to %v: the checksum needs %v addresses: %w", src, dst, a.Family, errInvalid)
		}
	}
	return a.encode(b, iv, true, src, dst), nil
}

// check validates a for encoding and returns the message length and the
// interval as it goes on the wire.
func (a *Advertisement) check() (n int, interval uint16, err error) {
	if a.Version != Version2 && a.Version != Version3 {
		return 0, 0, fmt.Errorf("failed to encode VRRP advertisement: version %d, want 2 or 3: %w", a.Version, errInvalid)
	}
	if len(a.Addresses) == 0 || len(a.Addresses) > MaxAddresses {
		return 0, 0, fmt.Errorf("failed to encode VRRP advertisement: %d addresses, want 1 to %d: %w", len(a.Addresses), MaxAddresses, errInvalid)
	}
	if a.Family != IPv4 && a.Family != IPv6 {
		return 0, 0, fmt.Errorf("failed to encode VRRP advertisement: family %d: %w", a.Family, errInvalid)
	}
	if a.Family == IPv6 && a.Version != Version3 {
		return 0, 0, fmt.Errorf("failed to encode VRRPv%d advertisement: IPv6 needs version 3: %w", a.Version, errInvalid)
	}
	for _, ip := range a.Addresses {
		// A zone or an IPv4-mapped address in an IPv6 list would not
		// survive the wire: one family, plain addresses.
		if !ip.IsValid() || ip.Zone() != "" || ip.Is4In6() || FamilyOf(ip) != a.Family {
			return 0, 0, fmt.Errorf("failed to encode VRRP advertisement: address %v is not a plain %v address: %w", ip, a.Family, errInvalid)
		}
	}
	n = msgLen(a.Version, a.Family, len(a.Addresses))
	switch a.Version {
	case Version2:
		if a.Interval%time.Second != 0 || a.Interval < time.Second || a.Interval > 255*time.Second {
			return 0, 0, fmt.Errorf("failed to encode VRRPv2 advertisement: interval %v, want whole seconds from 1s to 255s: %w", a.Interval, errInvalid)
		}
		return n, uint16(a.Interval / time.Second), nil
	default:
		const cs = 10 * time.Millisecond
		if a.Interval%cs != 0 || a.Interval < cs || a.Interval > v3MaxCentis*cs {
			return 0, 0, fmt.Errorf("failed to encode VRRPv3 advertisement: interval %v, want whole centiseconds from 10ms to 40.95s: %w", a.Interval, errInvalid)
		}
		return n, uint16(a.Interval / cs), nil
	}
}

// msgLen is the length of a message with n addresses of family f.
func msgLen(v Version, f Family, n int) int {
	if v == Version2 {
		return headerLen + f.addrLen()*n + authLen
	}
	return headerLen + f.addrLen()*n
}

// encode appends the checked a to b, with the checksum if sum is set.
func (a *Advertisement) encode(b []byte, interval uint16, sum bool, src, dst netip.Addr) []byte {
	start := len(b)
	b = slices.Grow(b, msgLen(a.Version, a.Family, len(a.Addresses)))
	b = append(b, byte(a.Version)<<4|typeAdvert, a.VRID, a.Priority, byte(len(a.Addresses)))
	if a.Version == Version2 {
		b = append(b, byte(a.AuthType), byte(interval))
	} else {
		b = binary.BigEndian.AppendUint16(b, interval)
	}
	b = append(b, 0, 0) // checksum, filled in below
	for _, ip := range a.Addresses {
		if a.Family == IPv6 {
			v6 := ip.As16()
			b = append(b, v6[:]...)
		} else {
			v4 := ip.As4()
			b = append(b, v4[:]...)
		}
	}
	if a.Version == Version2 {
		if a.AuthType == AuthNone {
			b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
		} else {
			b = append(b, a.AuthData[:]...)
		}
	}
	if sum {
		msg := b[start:]
		binary.BigEndian.PutUint16(msg[6:], Checksum(msg, a.Version, src, dst))
	}
	return b
}

// Checksum returns the VRRP checksum of msg, a whole message: the Internet
// checksum (RFC 1071) of the message, preceded for version 3 by the
// pseudo-header of src and dst (RFC 5798 section 5.2.8): for IPv4 src, dst,
// zero, protocol 112 and the message length; for IPv6 (when src or dst is
// an IPv6 address) src, dst, the 32-bit length, three zeros and next header
// 112 (RFC 8200 section 8.1). Version 2 covers the message alone (RFC 3768)
// and ignores src and dst. The checksum field of msg (octets 6 and 7) is
// skipped, so it may hold anything: the result is what belongs there.
// Invalid addresses count as zeros.
func Checksum(msg []byte, v Version, src, dst netip.Addr) uint16 {
	return ^fold(sum(msg, v, src, dst, false))
}

// sum adds up msg in 16-bit words, with the pseudo-header for version 3 and
// with or without the checksum field. A 64-bit sum cannot overflow on any
// slice that fits in memory.
func sum(msg []byte, v Version, src, dst netip.Addr, withField bool) uint64 {
	var s uint64
	if v == Version3 {
		src, dst = src.Unmap(), dst.Unmap()
		if FamilyOf(src) == IPv6 || FamilyOf(dst) == IPv6 {
			s6, d6 := as16(src), as16(dst)
			s += words(s6[:]) + words(d6[:])
			s += uint64(uint32(len(msg))>>16) + uint64(uint16(len(msg))) + IPProtocol
		} else {
			s4, d4 := as4(src), as4(dst)
			s += words(s4[:]) + words(d4[:])
			s += IPProtocol + uint64(uint16(len(msg)))
		}
	}
	for i := 0; i+1 < len(msg); i += 2 {
		if i != 6 || withField {
			s += uint64(binary.BigEndian.Uint16(msg[i:]))
		}
	}
	if len(msg)%2 == 1 {
		s += uint64(msg[len(msg)-1]) << 8
	}
	return s
}

// words adds up b, of even length, in 16-bit words.
func words(b []byte) uint64 {
	var s uint64
	for i := 0; i+1 < len(b); i += 2 {
		s += uint64(binary.BigEndian.Uint16(b[i:]))
	}
	return s
}

// fold adds the carries back in: the one's complement sum.
func fold(s uint64) uint16 {
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

func as4(ip netip.Addr) [4]byte {
	if ip = ip.Unmap(); ip.Is4() {
		return ip.As4()
	}
	return [4]byte{}
}

func as16(ip netip.Addr) [16]byte {
	if !ip.IsValid() {
		return [16]byte{}
	}
	return ip.As16()
}

// UnmarshalBinary decodes a VRRP message of either version and checks its
// structure: version, type, a nonzero address count, a length that matches
// the count exactly, and the version 2 checksum. The version 3 checksum needs
// the IP addresses: Unmarshal checks it. The message does not say its
// address family: UnmarshalBinary decodes addresses of a.Family (IPv4
// unless set), and a message of the other family's length is ErrFamily.
//
// Trailing octets are an error (ErrLength), as in keepalived 2.2.7, which
// drops any message whose length is not exactly the one its count implies.
// (Ethernet padding never reaches a raw socket: the kernel trims the packet
// to the IP total length.) Reserved bits are ignored, and so is the
// Authentication Data of a version 2 message with AuthNone (decoded as
// zeros), as the RFCs require. An interval of zero decodes; the engine must
// not trust it.
//
// Errors are DropErrors; a is left unchanged on error. Decoding reuses
// a.Addresses' backing array, so decoding into a reused Advertisement does
// not allocate.
func (a *Advertisement) UnmarshalBinary(b []byte) error {
	return a.decode(b, a.Family, false, netip.Addr{}, netip.Addr{})
}

// Unmarshal is UnmarshalBinary plus the version 3 checksum, which covers the
// source and destination of the packet that carried b. The family is theirs
// (a.Family is set from it): a src and dst of different families are
// ErrFamily, and so is a version 2 message over IPv6 (ErrVersion).
func (a *Advertisement) Unmarshal(b []byte, src, dst netip.Addr) error {
	src, dst = src.Unmap().WithZone(""), dst.Unmap().WithZone("")
	f := FamilyOf(src)
	if src.IsValid() && dst.IsValid() && FamilyOf(dst) != f {
		return ErrFamily
	}
	if !src.IsValid() {
		f = FamilyOf(dst)
	}
	return a.decode(b, f, true, src, dst)
}

func (a *Advertisement) decode(b []byte, f Family, pseudo bool, src, dst netip.Addr) error {
	if len(b) < headerLen {
		return ErrShort
	}
	v := Version(b[0] >> 4)
	if v != Version2 && v != Version3 {
		return ErrVersion
	}
	if b[0]&0x0f != typeAdvert {
		return ErrType
	}
	if f != IPv4 && f != IPv6 {
		return ErrFamily
	}
	if f == IPv6 && v == Version2 {
		return ErrVersion // RFC 3768 is IPv4 only
	}
	count := int(b[3])
	if count == 0 {
		return ErrAddrCount
	}
	// A list of the other family's length: IPv4 addresses in an IPv6
	// packet, or IPv6 ones in an IPv4 packet.
	other := IPv6
	if f == IPv6 {
		other = IPv4
	}
	if v == Version3 && len(b) == msgLen(v, other, count) {
		return ErrFamily
	}
	if len(b) < headerLen+f.addrLen()*count {
		return ErrShort
	}
	if len(b) != msgLen(v, f, count) {
		return ErrLength
	}
	switch {
	case v == Version2:
		if fold(sum(b, v, src, dst, true)) != 0xffff {
			return ErrChecksum
		}
	case pseudo:
		if !src.IsValid() || !dst.IsValid() {
			return ErrChecksum
		}
		if fold(sum(b, v, src, dst, true)) != 0xffff {
			return ErrChecksum
		}
	}
	if f == IPv6 {
		// An IPv4-mapped address is an IPv4 address in an IPv6 list.
		for i := range count {
			if netip.AddrFrom16([16]byte(b[headerLen+16*i:])).Is4In6() {
				return ErrFamily
			}
		}
	}

	a.Version = v
	a.Family = f
	a.VRID = b[1]
	a.Priority = b[2]
	a.Checksum = binary.BigEndian.Uint16(b[6:8])
	a.AuthType = AuthNone
	a.AuthData = [8]byte{}
	if v == Version2 {
		a.Interval = time.Duration(b[5]) * time.Second
		a.AuthType = AuthType(b[4])
		if a.AuthType != AuthNone {
			a.AuthData = [8]byte(b[len(b)-authLen:])
		}
	} else {
		centis := binary.BigEndian.Uint16(b[4:6]) & v3MaxCentis
		a.Interval = time.Duration(centis) * 10 * time.Millisecond
	}
	a.Addresses = a.Addresses[:0]
	for i := range count {
		if f == IPv6 {
			off := headerLen + 16*i
			a.Addresses = append(a.Addresses, netip.AddrFrom16([16]byte(b[off:off+16])))
		} else {
			off := headerLen + 4*i
			a.Addresses = append(a.Addresses, netip.AddrFrom4([4]byte(b[off:off+4])))
		}
	}
	return nil
}
