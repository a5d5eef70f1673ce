package vrrp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// FuzzAdvertisement decodes arbitrary bytes and, when they decode, encodes
// them again (Append with fixed pseudo-header addresses) and decodes that:
// both decodes must agree, and the bytes may differ only where the RFCs say
// "ignored on reception". Decoding must never panic and must reject with
// DropErrors only. A copy with its checksum fixed up is decoded too, so the
// fuzzer gets past the v2 checksum.
func FuzzAdvertisement(f *testing.F) {
	for _, g := range wireGoldens {
		_, msg := splitIPv4(f, readWireHex(f, g.file))
		f.Add(msg) // what keepalived sends, both versions, PASS and none
	}
	for _, g := range wireGoldens6 {
		_, msg := splitIPv6(f, readWireHex(f, g.file))
		f.Add(msg) // what keepalived sends over IPv6
	}
	f.Add([]byte{})                                               // empty: ErrShort before any indexing
	f.Add(wireSeed[:7])                                           // one byte short of the header
	f.Add(wireSeed[:8])                                           // header only, count 1: ErrShort, not a slice panic
	f.Add(wirePatch(wireSeed, 0, 3, 0))                           // count 0
	f.Add(wirePatch(wireSeed, 0, 3, 0xff))                        // count 255 with one address: length from the count must not overflow a byte
	f.Add(wirePatch(wireSeed, Version2, 3, 2))                    // count 2: the auth data could pass for the second address
	f.Add(append(bytes.Clone(wireSeed), 0))                       // one trailing byte (odd length for the checksum)
	f.Add(append(bytes.Clone(wireV3), make([]byte, 8)...))        // v3 with v2-style auth data
	f.Add(wirePatch(wireV3, Version3, 4, 0xf0, 0x00))             // v3 reserved bits set, interval 0: decodes, cannot be encoded
	f.Add(wirePatch(wireV3, Version3, 4, 0xff, 0xff))             // v3 reserved bits set, longest interval
	f.Add(wirePatch(wireSeed, Version2, 5, 0))                    // v2 interval 0
	f.Add(wirePatch(wireSeed, Version2, 4, 0, 1))                 // v2 AuthNone with a password left in: ignored on receipt
	f.Add(wirePatch(wireSeed, Version2, 0, 0x22))                 // type 2
	f.Add(wirePatch(wireSeed, Version2, 0, 0x41))                 // version 4
	f.Add([]byte{0x45, 0xc0, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00}) // an IPv4 header where the message should be
	f.Add(wireZeroSum())                                          // checksum 0x0000, which 0xffff also matches
	f.Add(wireV6)                                                 // IPv6, two addresses
	f.Add(wireV6[:8+16])                                          // IPv6 list one address short
	f.Add(append(bytes.Clone(wireV6[:8]), wireV3[8:]...))         // count 2 with IPv4 addresses: the other family's length
	f.Add(wirePatch(wireV6, 0, 0, 0x21))                          // v2 header on an IPv6 list

	filter := Filter{Version: Version2, VRID: 60, AuthType: AuthSimple, AuthData: wireSeedAuth, Interval: time.Second}
	info := PacketInfo{Src: wireSrc, Dst: Group, TTL: TTL}
	filter6 := Filter{Version: Version3, Family: IPv6, VRID: 61}
	info6 := PacketInfo{Src: wireSrc6, Dst: Group6, TTL: TTL}

	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		var a Advertisement
		err := a.UnmarshalBinary(b)
		if !bytes.Equal(b, in) {
			t.Fatal("UnmarshalBinary modified its input")
		}
		fuzzCheck(t, b, &a, err, wireSrc, Group)

		// As IPv6: UnmarshalBinary with the family set, Unmarshal and
		// Filter.Accept given IPv6 addresses.
		a6 := Advertisement{Family: IPv6}
		err = a6.UnmarshalBinary(b)
		if err == nil && a6.Family != IPv6 {
			t.Fatalf("UnmarshalBinary as IPv6 decoded %v", a6.Family)
		}
		fuzzCheck(t, b, &a6, err, wireSrc6, Group6)
		var fa6 Advertisement
		if err := filter6.Accept(b, info6, &fa6); err != nil {
			var de *DropError
			if !errors.As(err, &de) {
				t.Fatalf("Filter.Accept over IPv6: %v is not a DropError", err)
			}
		}

		var fa Advertisement
		if err := filter.Accept(b, info, &fa); err != nil {
			var de *DropError
			if !errors.As(err, &de) {
				t.Fatalf("Filter.Accept: %v is not a DropError", err)
			}
		}

		// The same bytes with a correct checksum for their version.
		if len(b) >= headerLen {
			v := Version(b[0] >> 4)
			binary.BigEndian.PutUint16(in[6:], Checksum(in, v, wireSrc, Group))
			err := a.Unmarshal(in, wireSrc, Group)
			if errors.Is(err, ErrChecksum) {
				t.Fatalf("fixed-up checksum rejected: % x", in)
			}
			fuzzCheck(t, in, &a, err, wireSrc, Group)
			if v == Version3 {
				in6 := bytes.Clone(b)
				binary.BigEndian.PutUint16(in6[6:], Checksum(in6, v, wireSrc6, Group6))
				err := a.Unmarshal(in6, wireSrc6, Group6)
				if errors.Is(err, ErrChecksum) {
					t.Fatalf("fixed-up IPv6 checksum rejected: % x", in6)
				}
				fuzzCheck(t, in6, &a, err, wireSrc6, Group6)
			}
		}
	})
}

// fuzzCheck runs the encode and second decode for a message b that decoded
// into a with err.
func fuzzCheck(t *testing.T, b []byte, a *Advertisement, err error, src, dst netip.Addr) {
	t.Helper()
	if err != nil {
		var de *DropError
		if !errors.As(err, &de) || de.Reason == DropNone {
			t.Fatalf("decode: %v is not a DropError with a reason", err)
		}
		return
	}
	out, err := a.Append(nil, src, dst)
	if err != nil {
		if a.Interval == 0 {
			return // decodable, deliberately not encodable
		}
		t.Fatalf("Append of %+v from % x: %v", a, b, err)
	}
	var a2 Advertisement
	if err := a2.Unmarshal(out, src, dst); err != nil {
		t.Fatalf("decode of the re-encoded % x: %v", out, err)
	}
	a1 := *a
	a1.Checksum, a2.Checksum = 0, 0 // the input's may be for other addresses, or 0xffff for 0
	if a1.Version != a2.Version || a1.Family != a2.Family || a1.VRID != a2.VRID || a1.Priority != a2.Priority || a1.Interval != a2.Interval ||
		a1.AuthType != a2.AuthType || a1.AuthData != a2.AuthData || !slices.Equal(a1.Addresses, a2.Addresses) {
		t.Fatalf("decode, encode, decode disagree:\n first %+v\nsecond %+v", a1, a2)
	}

	// The bytes agree but for the checksum and what is ignored on receipt.
	want := bytes.Clone(b)
	want[6], want[7] = out[6], out[7]
	if a.Version == Version3 {
		want[4] &= 0x0f
	}
	if a.Version == Version2 && a.AuthType == AuthNone {
		clear(want[len(want)-authLen:])
	}
	if !bytes.Equal(out, want) {
		t.Fatalf("re-encoded bytes differ:\n got % x\nwant % x", out, want)
	}
}

// wireZeroSum returns a valid v2 message whose checksum is 0x0000.
func wireZeroSum() []byte {
	b := bytes.Clone(wireSeed)
	clear(b[18:20])
	binary.BigEndian.PutUint16(b[18:], Checksum(b, Version2, netip.Addr{}, netip.Addr{}))
	clear(b[6:8])
	return b
}
