package vrrp

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var (
	wireSrc6  = netip.MustParseAddr("fe80::200:ff:fe00:1")
	wirePeer6 = netip.MustParseAddr("fe80::200:ff:fe00:2")
	wireVIP6  = netip.MustParseAddr("2001:db8::100")
	wireVIP62 = netip.MustParseAddr("2001:db8::101")
)

// wireV6 is a v3 advert for IPv6 from wireSrc6 to ff02::12: VRID 61,
// priority 150, advert_int 0.1, two addresses. The checksum is the one
// computed by hand below (TestPacketChecksum6).
var wireV6 = func() []byte {
	a := Advertisement{Version: Version3, Family: IPv6, VRID: 61, Priority: 150, Interval: 100 * time.Millisecond,
		Addresses: []netip.Addr{wireVIP6, wireVIP62}}
	b, err := a.Append(nil, wireSrc6, Group6)
	if err != nil {
		panic(err)
	}
	return b
}()

// The IPv6 pseudo-header checksum, added up by hand: source, destination,
// 32-bit length, next header 112 (RFC 8200 section 8.1), then the message.
func TestPacketChecksum6(t *testing.T) {
	if len(wireV6) != 8+2*16 {
		t.Fatalf("message is %d bytes, want 40", len(wireV6))
	}
	var s uint64
	for _, ip := range []netip.Addr{wireSrc6, Group6} {
		b := ip.As16()
		for i := 0; i < 16; i += 2 {
			s += uint64(b[i])<<8 | uint64(b[i+1])
		}
	}
	s += 40 + 112
	for i := 0; i < len(wireV6); i += 2 {
		if i != 6 {
			s += uint64(wireV6[i])<<8 | uint64(wireV6[i+1])
		}
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	want := ^uint16(s)
	if got := uint16(wireV6[6])<<8 | uint16(wireV6[7]); got != want {
		t.Fatalf("encoded checksum %#04x, want %#04x", got, want)
	}
	if got := Checksum(wireV6, Version3, wireSrc6, Group6); got != want {
		t.Fatalf("Checksum = %#04x, want %#04x", got, want)
	}
	// A zone on the addresses (as a socket reports a link-local one) changes nothing.
	if got := Checksum(wireV6, Version3, wireSrc6.WithZone("eth0"), Group6); got != want {
		t.Fatalf("Checksum with a zone = %#04x, want %#04x", got, want)
	}
}

func TestPacketRoundTrip6(t *testing.T) {
	var a Advertisement
	if err := a.Unmarshal(wireV6, wireSrc6.WithZone("eth0"), Group6); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	want := Advertisement{Version: Version3, Family: IPv6, VRID: 61, Priority: 150, Interval: 100 * time.Millisecond,
		Addresses: []netip.Addr{wireVIP6, wireVIP62}, Checksum: a.Checksum}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("decoded\n got %+v\nwant %+v", a, want)
	}
	// MarshalBinary and UnmarshalBinary, with the family set beforehand.
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[8:], wireV6[8:]) || !bytes.Equal(b[:6], wireV6[:6]) {
		t.Fatalf("MarshalBinary\n got % x\nwant % x (checksum aside)", b, wireV6)
	}
	a2 := Advertisement{Family: IPv6}
	if err := a2.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	a2.Checksum = a.Checksum
	if !reflect.DeepEqual(a2, a) {
		t.Fatalf("UnmarshalBinary\n got %+v\nwant %+v", a2, a)
	}
	// 255 addresses fit.
	many := Advertisement{Version: Version3, Family: IPv6, VRID: 1, Priority: 1, Interval: time.Second}
	for i := range MaxAddresses {
		ip := wireVIP6.As16()
		ip[15] = byte(i)
		many.Addresses = append(many.Addresses, netip.AddrFrom16(ip))
	}
	b, err = many.Append(nil, wireSrc6, Group6)
	if err != nil {
		t.Fatal(err)
	}
	var got Advertisement
	if err := got.Unmarshal(b, wireSrc6, Group6); err != nil || len(got.Addresses) != MaxAddresses {
		t.Fatalf("255 addresses: %v, %d decoded", err, len(got.Addresses))
	}
}

func TestPacketEncodeErrors6(t *testing.T) {
	base := func() Advertisement {
		return Advertisement{Version: Version3, Family: IPv6, VRID: 1, Priority: 100, Interval: time.Second,
			Addresses: []netip.Addr{wireVIP6}}
	}
	tests := []struct {
		name     string
		edit     func(*Advertisement)
		src, dst netip.Addr
	}{
		{name: "v2 over IPv6", edit: func(a *Advertisement) { a.Version = Version2 }, src: wireSrc6, dst: Group6},
		{name: "mixed list", edit: func(a *Advertisement) { a.Addresses = append(a.Addresses, wireVIP) }, src: wireSrc6, dst: Group6},
		{name: "IPv4-mapped address", edit: func(a *Advertisement) {
			a.Addresses = []netip.Addr{netip.AddrFrom16(wireVIP.As16())}
		}, src: wireSrc6, dst: Group6},
		{name: "zoned address", edit: func(a *Advertisement) { a.Addresses = []netip.Addr{wireVIP6.WithZone("eth0")} }, src: wireSrc6, dst: Group6},
		{name: "IPv6 list, family IPv4", edit: func(a *Advertisement) { a.Family = IPv4 }, src: wireSrc, dst: Group},
		{name: "IPv4 source", edit: func(*Advertisement) {}, src: wireSrc, dst: Group6},
		{name: "IPv4 destination", edit: func(*Advertisement) {}, src: wireSrc6, dst: Group},
		{name: "family 7", edit: func(a *Advertisement) { a.Family = 7 }, src: wireSrc6, dst: Group6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := base()
			tt.edit(&a)
			b, err := a.Append([]byte{1}, tt.src, tt.dst)
			if !errors.Is(err, errInvalid) {
				t.Fatalf("Append: %v, want an invalid advertisement", err)
			}
			if !bytes.Equal(b, []byte{1}) {
				t.Fatalf("Append changed b on error: % x", b)
			}
		})
	}
}

// The IPv6 drops of the "bad input": a short list and mixed
// families here, the hop limit and the source in TestFilterAccept6.
func TestPacketUnmarshalErrors6(t *testing.T) {
	resum := func(b []byte) []byte {
		b = bytes.Clone(b)
		s := Checksum(b, Version3, wireSrc6, Group6)
		b[6], b[7] = byte(s>>8), byte(s)
		return b
	}
	patch := func(b []byte, off int, with ...byte) []byte {
		b = bytes.Clone(b)
		copy(b[off:], with)
		return resum(b)
	}
	v4list := resum(append(bytes.Clone(wireV6[:8]), wireV3[8:]...)) // count 2, two IPv4 addresses
	mapped := wireVIP.As16()                                        // ::ffff:198.51.100.100
	tests := []struct {
		name     string
		b        []byte
		src, dst netip.Addr
		want     *DropError
	}{
		{name: "one address of two", b: resum(wireV6[:8+16]), want: ErrShort},
		{name: "one and a half addresses", b: resum(wireV6[:8+24]), want: ErrShort},
		{name: "count 3, two addresses", b: patch(wireV6, 3, 3), want: ErrShort},
		{name: "count 1, two addresses", b: patch(wireV6, 3, 1), want: ErrLength},
		{name: "trailing byte", b: resum(append(bytes.Clone(wireV6), 0)), want: ErrLength},
		{name: "IPv4 list over IPv6", b: v4list, want: ErrFamily},
		{name: "IPv4-mapped address in the list", b: patch(wireV6, 8+16, mapped[:]...), want: ErrFamily},
		{name: "IPv6 source, IPv4 destination", b: wireV6, dst: Group, want: ErrFamily},
		{name: "v2 over IPv6", b: patch(wireV6, 0, 0x21), want: ErrVersion},
		{name: "checksum wrong", b: append(bytes.Clone(wireV6[:6]), append([]byte{0, 0}, wireV6[8:]...)...), want: ErrChecksum},
		{name: "checksum of another source", b: wireV6, src: wirePeer6, want: ErrChecksum},
		{name: "count 0", b: patch(wireV6, 3, 0), want: ErrAddrCount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := tt.src, tt.dst
			if !src.IsValid() {
				src = wireSrc6
			}
			if !dst.IsValid() {
				dst = Group6
			}
			before := Advertisement{VRID: 99}
			a := before
			if err := a.Unmarshal(tt.b, src, dst); err != tt.want {
				t.Fatalf("Unmarshal: %v, want %v", err, tt.want)
			}
			if !reflect.DeepEqual(a, before) {
				t.Fatalf("Unmarshal changed a on error: %+v", a)
			}
		})
	}
	// The IPv4 list decodes as what it is, over IPv4.
	var a Advertisement
	if err := a.UnmarshalBinary(v4list); err != nil || a.Family != IPv4 || len(a.Addresses) != 2 {
		t.Fatalf("the IPv4 list as IPv4: %v %+v", err, a)
	}
	// And an IPv6 message taken for IPv4 is of the other family too.
	if err := a.Unmarshal(wireV6, wireSrc, Group); err != ErrFamily {
		t.Fatalf("an IPv6 message over IPv4: %v, want %v", err, ErrFamily)
	}
}

func TestFilterAccept6(t *testing.T) {
	global := netip.MustParseAddr("2001:db8::11")
	f := Filter{Version: Version3, Family: IPv6, VRID: 61, Self: []netip.Addr{wirePeer6}}
	info := PacketInfo{Src: wireSrc6.WithZone("eth0"), Dst: Group6, TTL: 255}
	var a Advertisement
	if err := f.Accept(wireV6, info, &a); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	tests := []struct {
		name string
		f    Filter
		info PacketInfo
		b    []byte
		want *DropError
	}{
		{name: "hop limit 254", f: f, info: PacketInfo{Src: wireSrc6, Dst: Group6, TTL: 254}, b: wireV6, want: ErrTTL},
		{name: "hop limit 1", f: f, info: PacketInfo{Src: wireSrc6, Dst: Group6, TTL: 1}, b: wireV6, want: ErrTTL},
		{name: "global source", f: f, info: PacketInfo{Src: global, Dst: Group6, TTL: 255}, b: wireV6, want: ErrSource},
		{name: "our own", f: Filter{Version: Version3, Family: IPv6, VRID: 61, Self: []netip.Addr{wireSrc6}}, info: info, b: wireV6, want: ErrOwn},
		{name: "short list", f: f, info: info, b: wireV6[:30], want: ErrShort},
		{name: "other VRID", f: Filter{Version: Version3, Family: IPv6, VRID: 62}, info: info, b: wireV6, want: ErrVRID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f.Accept(tt.b, tt.info, &a); err != tt.want {
				t.Fatalf("Accept: %v, want %v", err, tt.want)
			}
		})
	}
	// Unicast peers over IPv6 may send from a global address.
	b, err := (&Advertisement{Version: Version3, Family: IPv6, VRID: 61, Priority: 100, Interval: time.Second,
		Addresses: []netip.Addr{wireVIP6}}).Append(nil, global, netip.MustParseAddr("2001:db8::12"))
	if err != nil {
		t.Fatal(err)
	}
	uf := Filter{Version: Version3, Family: IPv6, VRID: 61, Peers: []netip.Addr{global}}
	if err := uf.Accept(b, PacketInfo{Src: global, Dst: netip.MustParseAddr("2001:db8::12"), TTL: 255}, &a); err != nil {
		t.Fatalf("unicast from a global peer: %v", err)
	}
}

// Accept allocates nothing on IPv6 either, accepted or dropped.
func TestFilterAccept6NoAlloc(t *testing.T) {
	f := Filter{Version: Version3, Family: IPv6, VRID: 61}
	info := PacketInfo{Src: wireSrc6, Dst: Group6, TTL: 255}
	a := Advertisement{Addresses: make([]netip.Addr, 0, MaxAddresses)}
	bad := PacketInfo{Src: wireSrc6, Dst: Group6, TTL: 1}
	if n := testing.AllocsPerRun(100, func() {
		_ = f.Accept(wireV6, info, &a)
		_ = f.Accept(wireV6, bad, &a)
	}); n != 0 {
		t.Fatalf("Accept allocates %v times per call", n)
	}
}

// splitIPv6 splits a captured IPv6 packet (no extension headers) into what
// the raw socket reports and the VRRP message.
func splitIPv6(tb testing.TB, pkt []byte) (PacketInfo, []byte) {
	tb.Helper()
	if len(pkt) < 40 || pkt[0]>>4 != 6 {
		tb.Fatalf("not an IPv6 packet: % x", pkt)
	}
	if plen := int(pkt[4])<<8 | int(pkt[5]); plen != len(pkt)-40 {
		tb.Fatalf("IPv6 payload length %d, captured %d", plen, len(pkt)-40)
	}
	if pkt[6] != IPProtocol {
		tb.Fatalf("next header %d, want %d", pkt[6], IPProtocol)
	}
	return PacketInfo{
		Src: netip.AddrFrom16([16]byte(pkt[8:24])),
		Dst: netip.AddrFrom16([16]byte(pkt[24:40])),
		TTL: int(pkt[7]),
	}, pkt[40:]
}

var (
	goldenSrc6  = netip.MustParseAddr("fe80::ff:fe00:1")
	goldenVIP6  = netip.MustParseAddr("2001:db8:5100::100")
	goldenVIP62 = netip.MustParseAddr("2001:db8:5100::101")
)

var wireGoldens6 = []struct {
	file    string
	want    Advertisement
	hopLim  int
	unicast bool
}{
	{file: "keepalived-v6.hex", hopLim: 255, want: Advertisement{Version: Version3, Family: IPv6, VRID: 61, Priority: 150,
		Interval: time.Second, Addresses: []netip.Addr{goldenVIP6, goldenVIP62}, Checksum: 0x3bb9}},
	{file: "keepalived-v6-prio0.hex", hopLim: 255, want: Advertisement{Version: Version3, Family: IPv6, VRID: 61, Priority: 0,
		Interval: time.Second, Addresses: []netip.Addr{goldenVIP6, goldenVIP62}, Checksum: 0xd1b9}},
	{file: "keepalived-v6-unicast.hex", hopLim: 64, unicast: true, want: Advertisement{Version: Version3, Family: IPv6, VRID: 63,
		Priority: 100, Interval: 500 * time.Millisecond, Addresses: []netip.Addr{goldenVIP6}, Checksum: 0xecb5}},
}

func TestGoldenKeepalived6(t *testing.T) {
	for _, g := range wireGoldens6 {
		t.Run(g.file, func(t *testing.T) {
			info, msg := splitIPv6(t, readWireHex(t, g.file))
			if info.TTL != g.hopLim {
				t.Fatalf("hop limit %d, want %d", info.TTL, g.hopLim)
			}
			if !g.unicast && (info.Src != goldenSrc6 || info.Dst != Group6) {
				t.Fatalf("%v -> %v, want %v -> %v", info.Src, info.Dst, goldenSrc6, Group6)
			}
			var a Advertisement
			if err := a.Unmarshal(msg, info.Src, info.Dst); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(a, g.want) {
				t.Fatalf("decoded:\n got %+v\nwant %+v", a, g.want)
			}
			if got := Checksum(msg, Version3, info.Src, info.Dst); got != a.Checksum {
				t.Fatalf("Checksum = %#04x, keepalived sent %#04x", got, a.Checksum)
			}
			b, err := a.Append(nil, info.Src, info.Dst)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !bytes.Equal(b, msg) {
				t.Fatalf("re-encoded:\n got % x\nwant % x", b, msg)
			}
			a2 := Advertisement{Family: IPv6}
			if err := a2.UnmarshalBinary(msg); err != nil || !slicesEqual(a2.Addresses, a.Addresses) {
				t.Fatalf("UnmarshalBinary: %v %+v", err, a2)
			}
			// A Filter configured like that keepalived obeys it: in
			// unicast mode whatever the hop limit, as keepalived sends it.
			f := Filter{Version: Version3, Family: IPv6, VRID: a.VRID}
			if g.unicast {
				f.Peers = []netip.Addr{info.Src}
			}
			var got Advertisement
			if err := f.Accept(msg, info, &got); err != nil {
				t.Fatalf("Filter.Accept: %v", err)
			}
		})
	}
}

func slicesEqual(a, b []netip.Addr) bool { return reflect.DeepEqual(a, b) }

// An IPv4 instance never obeys an IPv6 advert, nor the reverse, whatever
// else matches.
func TestFilterFamily(t *testing.T) {
	var a Advertisement
	f4 := Filter{Version: Version3, VRID: 61}
	if err := f4.Accept(wireV6, PacketInfo{Src: wireSrc6, Dst: Group6, TTL: 255}, &a); err != ErrFamily {
		t.Fatalf("IPv4 filter on an IPv6 advert: %v, want %v", err, ErrFamily)
	}
	f6 := Filter{Version: Version3, Family: IPv6, VRID: 61}
	if err := f6.Accept(wireV3, PacketInfo{Src: wireSrc, Dst: Group, TTL: 255}, &a); err != ErrFamily {
		t.Fatalf("IPv6 filter on an IPv4 advert: %v, want %v", err, ErrFamily)
	}
}
