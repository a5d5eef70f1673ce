package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

// The receive and send paths run per advert (10 a second per instance at v3
// advert_int 0.1), so they must not allocate.

func BenchmarkUnmarshal(b *testing.B) {
	for _, bb := range []struct {
		name string
		msg  []byte
	}{
		{"v2", wireSeed},
		{"v3", wireV3},
	} {
		b.Run(bb.name, func(b *testing.B) {
			a := Advertisement{Addresses: make([]netip.Addr, 0, 4)}
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.msg)))
			for b.Loop() {
				if err := a.Unmarshal(bb.msg, wireSrc, Group); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, v := range []Version{Version2, Version3} {
		b.Run("v"+string('0'+byte(v)), func(b *testing.B) {
			a := Advertisement{Version: v, VRID: 60, Priority: 100, Interval: time.Second,
				Addresses: []netip.Addr{wireVIP, wireVIP2}, AuthType: AuthSimple, AuthData: wireSeedAuth}
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = a.Append(buf[:0], wireSrc, Group); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFilterAccept(b *testing.B) {
	f := Filter{Version: Version2, VRID: 60, AuthType: AuthSimple, AuthData: wireSeedAuth, Interval: time.Second,
		Self: []netip.Addr{wirePeer}}
	for _, bb := range []struct {
		name string
		msg  []byte
		info PacketInfo
		want error
	}{
		{"accept", wireSeed, PacketInfo{Src: wireSrc, Dst: Group, TTL: TTL}, nil},
		{"own", wireSeed, PacketInfo{Src: wirePeer, Dst: Group, TTL: TTL}, ErrOwn},
		{"checksum", wirePatch(wireSeed, 0, 7, 0), PacketInfo{Src: wireSrc, Dst: Group, TTL: TTL}, ErrChecksum},
		{"auth", wirePatch(wireSeed, Version2, 19, '4'), PacketInfo{Src: wireSrc, Dst: Group, TTL: TTL}, ErrAuth},
	} {
		b.Run(bb.name, func(b *testing.B) {
			a := Advertisement{Addresses: make([]netip.Addr, 0, 4)}
			b.ReportAllocs()
			for b.Loop() {
				if err := f.Accept(bb.msg, bb.info, &a); err != bb.want {
					b.Fatalf("Accept: %v, want %v", err, bb.want)
				}
			}
		})
	}
}
