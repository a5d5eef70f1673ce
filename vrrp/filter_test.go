package vrrp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

func TestFilterAccept(t *testing.T) {
	// The seed's instance, and a v3 one like testdata/keepalived-v3.hex.
	seedFilter := Filter{Version: Version2, VRID: 60, AuthType: AuthSimple, AuthData: AuthData("qwert123!"), Interval: time.Second}
	v3Filter := Filter{Version: Version3, VRID: 61}
	mcast := PacketInfo{Src: wireSrc, Dst: Group, TTL: 255}

	// mutate re-encodes the seed advert with one field changed, so that only
	// that field is wrong.
	mutate := func(edit func(a *Advertisement)) []byte {
		a := Advertisement{Version: Version2, VRID: 60, Priority: 100, Interval: time.Second,
			Addresses: []netip.Addr{wireVIP}, AuthType: AuthSimple, AuthData: AuthData("qwert123")}
		edit(&a)
		b, err := a.Append(nil, wireSrc, Group)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	tests := []struct {
		name   string
		filter Filter
		b      []byte
		info   PacketInfo
		want   *DropError // nil: accepted
	}{
		{name: "seed advert", filter: seedFilter, b: wireSeed, info: mcast},
		{name: "priority 0 advert", filter: seedFilter, b: wirePatch(wireSeed, Version2, 2, 0), info: mcast},
		{name: "TTL unknown", filter: seedFilter, b: wireSeed, info: PacketInfo{Src: wireSrc, Dst: Group, TTL: -1}},
		{name: "v3", filter: v3Filter, b: wireV3, info: mcast},
		{name: "v3 any interval", filter: v3Filter, b: wirePatch(wireV3, Version3, 4, 0x0f, 0xff), info: mcast},
		{name: "unicast from a wirePeer", filter: withPeers(v3Filter, wireVIP2, wireSrc), b: wireV3, info: mcast},
		{name: "mapped source", filter: withPeers(v3Filter, wireSrc), b: wireV3, info: PacketInfo{Src: netip.AddrFrom16(wireSrc.As16()), Dst: Group, TTL: 255}},
		{name: "no auth", filter: Filter{Version: Version2, VRID: 60, Interval: time.Second},
			b: mutate(func(a *Advertisement) { a.AuthType, a.AuthData = AuthNone, [8]byte{} }), info: mcast},

		{name: "TTL 64", filter: seedFilter, b: wireSeed, info: PacketInfo{Src: wireSrc, Dst: Group, TTL: 64}, want: ErrTTL},
		{name: "TTL 254, routed once", filter: seedFilter, b: wireSeed, info: PacketInfo{Src: wireSrc, Dst: Group, TTL: 254}, want: ErrTTL},
		{name: "TTL 0", filter: seedFilter, b: wireSeed, info: PacketInfo{Src: wireSrc, Dst: Group}, want: ErrTTL},
		{name: "TTL before own", filter: withSelf(seedFilter, wireSrc), b: wireSeed, info: PacketInfo{Src: wireSrc, Dst: Group, TTL: 1}, want: ErrTTL},
		{name: "own advert looped back", filter: withSelf(seedFilter, wirePeer, wireSrc), b: wireSeed, info: mcast, want: ErrOwn},
		{name: "own before wirePeer", filter: withPeers(withSelf(seedFilter, wireSrc), wirePeer), b: wireSeed, info: mcast, want: ErrOwn},
		{name: "unicast from a stranger", filter: withPeers(seedFilter, wirePeer), b: wireSeed, info: mcast, want: ErrPeer},
		{name: "wirePeer before decode", filter: withPeers(seedFilter, wirePeer), b: nil, info: mcast, want: ErrPeer},
		{name: "short", filter: seedFilter, b: wireSeed[:7], info: mcast, want: ErrShort},
		{name: "too long", filter: seedFilter, b: wireResum(append(bytes.Clone(wireSeed), 0, 0, 0, 0), Version2), info: mcast, want: ErrLength},
		{name: "version 1", filter: seedFilter, b: wirePatch(wireSeed, 0, 0, 0x11), info: mcast, want: ErrVersion},
		{name: "type 2", filter: seedFilter, b: wirePatch(wireSeed, Version2, 0, 0x22), info: mcast, want: ErrType},
		{name: "count 0", filter: seedFilter, b: wirePatch(wireSeed, Version2, 3, 0), info: mcast, want: ErrAddrCount},
		{name: "v2 checksum", filter: seedFilter, b: wirePatch(wireSeed, 0, 7, 0), info: mcast, want: ErrChecksum},
		{name: "v3 checksum", filter: v3Filter, b: wirePatch(wireV3, 0, 7, 0), info: mcast, want: ErrChecksum},
		{name: "v3 checksum for another destination", filter: v3Filter, b: wireV3, info: PacketInfo{Src: wireSrc, Dst: wirePeer, TTL: 255}, want: ErrChecksum},
		{name: "v3 advert, v2 router", filter: withVersion(v3Filter, Version2), b: wireV3, info: mcast, want: ErrVersion},
		{name: "v2 advert, v3 router", filter: withVersion(seedFilter, Version3), b: wireSeed, info: mcast, want: ErrVersion},
		{name: "other VRID", filter: seedFilter, b: mutate(func(a *Advertisement) { a.VRID = 61 }), info: mcast, want: ErrVRID},
		{name: "v3 other VRID", filter: Filter{Version: Version3, VRID: 60}, b: wireV3, info: mcast, want: ErrVRID},
		{name: "VRID before auth", filter: seedFilter, b: mutate(func(a *Advertisement) { a.VRID, a.AuthData = 61, AuthData("wrong") }), info: mcast, want: ErrVRID},
		{name: "wrong password", filter: seedFilter, b: mutate(func(a *Advertisement) { a.AuthData = AuthData("qwert124") }), info: mcast, want: ErrAuth},
		{name: "password prefix", filter: seedFilter, b: mutate(func(a *Advertisement) { a.AuthData = AuthData("qwert12") }), info: mcast, want: ErrAuth},
		{name: "empty password", filter: seedFilter, b: mutate(func(a *Advertisement) { a.AuthData = [8]byte{} }), info: mcast, want: ErrAuth},
		{name: "no auth, router wants PASS", filter: seedFilter, b: mutate(func(a *Advertisement) { a.AuthType = AuthNone }), info: mcast, want: ErrAuth},
		{name: "PASS, router wants none", filter: Filter{Version: Version2, VRID: 60, Interval: time.Second}, b: wireSeed, info: mcast, want: ErrAuth},
		{name: "IP AH (RFC 2338 type 2)", filter: seedFilter, b: mutate(func(a *Advertisement) { a.AuthType = 2 }), info: mcast, want: ErrAuth},
		{name: "auth before interval", filter: seedFilter, b: mutate(func(a *Advertisement) { a.AuthData, a.Interval = [8]byte{}, 2*time.Second }), info: mcast, want: ErrAuth},
		{name: "other interval", filter: seedFilter, b: mutate(func(a *Advertisement) { a.Interval = 2 * time.Second }), info: mcast, want: ErrInterval},
		{name: "interval 0", filter: seedFilter, b: wirePatch(wireSeed, Version2, 5, 0), info: mcast, want: ErrInterval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Advertisement{Addresses: make([]netip.Addr, 0, 4)}
			var err error
			allocs := testing.AllocsPerRun(20, func() { err = tt.filter.Accept(tt.b, tt.info, &a) })
			if tt.want == nil && err != nil || tt.want != nil && err != tt.want {
				t.Fatalf("Accept: %v, want %v", err, tt.want)
			}
			if allocs != 0 {
				t.Fatalf("Accept: %v allocs, want 0", allocs)
			}
		})
	}
}

func withPeers(f Filter, peers ...netip.Addr) Filter { f.Peers = peers; return f }
func withSelf(f Filter, self ...netip.Addr) Filter   { f.Self = self; return f }
func withVersion(f Filter, v Version) Filter         { f.Version = v; return f }

func TestFilterAuthData(t *testing.T) {
	tests := []struct {
		pass string
		want [8]byte
	}{
		{"", [8]byte{}},
		{"abc", [8]byte{'a', 'b', 'c'}},
		{"qwert123", [8]byte{'q', 'w', 'e', 'r', 't', '1', '2', '3'}},
		{"qwert123!", [8]byte{'q', 'w', 'e', 'r', 't', '1', '2', '3'}}, // keepalived truncates to 8
		{"ünï", [8]byte{0xc3, 0xbc, 'n', 0xc3, 0xaf}},                  // bytes, not runes
	}
	for _, tt := range tests {
		if got := AuthData(tt.pass); got != tt.want {
			t.Errorf("AuthData(%q) = %q, want %q", tt.pass, got, tt.want)
		}
	}
}
