//go:build linux

package vrrp

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsg is one control message as the kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// TestParseControl: the TTL, destination and interface of a packet, and the
// socket's drop count from SO_RXQ_OVFL, which the kernel puts first and
// only once there are drops.
func TestParseControl(t *testing.T) {
	var pi4 unix.Inet4Pktinfo
	pi4.Ifindex, pi4.Addr = 7, [4]byte{224, 0, 0, 18}
	pi4b := unsafe.Slice((*byte)(unsafe.Pointer(&pi4)), unix.SizeofInet4Pktinfo)
	var pi6 unix.Inet6Pktinfo
	pi6.Ifindex, pi6.Addr = 9, netip.MustParseAddr("ff02::12").As16()
	pi6b := unsafe.Slice((*byte)(unsafe.Pointer(&pi6)), unix.SizeofInet6Pktinfo)
	ovfl := cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(168958))
	ttl := cmsg(unix.IPPROTO_IP, unix.IP_TTL, u32(255))
	hop := cmsg(unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, u32(255))
	pkt4 := cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, pi4b)
	pkt6 := cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, pi6b)
	join := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	tests := []struct {
		name  string
		fam   Family
		oob   []byte
		info  PacketInfo
		drops uint64
	}{
		{"no drops yet", IPv4, join(ttl, pkt4), PacketInfo{TTL: 255, Dst: Group, IfIndex: 7}, 0},
		{"drops first", IPv4, join(ovfl, ttl, pkt4), PacketInfo{TTL: 255, Dst: Group, IfIndex: 7}, 168958},
		{"IPv6", IPv6, join(ovfl, hop, pkt6), PacketInfo{TTL: 255, Dst: Group6, IfIndex: 9}, 168958},
		{"nothing", IPv4, nil, PacketInfo{TTL: -1}, 0},
		{"drops alone", IPv4, ovfl, PacketInfo{TTL: -1}, 168958},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, drops, err := parseControl(tt.fam, tt.oob)
			if err != nil || info != tt.info || drops != tt.drops {
				t.Errorf("parseControl = %+v, %d, %v; want %+v, %d", info, drops, err, tt.info, tt.drops)
			}
		})
	}
	if _, _, err := parseControl(IPv4, ovfl[:unix.CmsgLen(2)]); err == nil {
		t.Error("a cut control message parsed")
	}
}

func TestStripIPv4Header(t *testing.T) {
	b := make([]byte, 64)
	b[0] = 0x46 // version 4, 24-byte header (with options)
	copy(b[24:], "vrrp")
	if n, err := stripIPv4Header(b, 28); err != nil || string(b[:n]) != "vrrp" {
		t.Errorf("stripIPv4Header = %q, %v", b[:n], err)
	}
	for _, tt := range []struct {
		b0 byte
		n  int
	}{{0x45, 19}, {0x44, 40}, {0x4f, 40}} {
		b[0] = tt.b0
		if _, err := stripIPv4Header(b, tt.n); err == nil {
			t.Errorf("header byte %#x of a %d-byte packet: no error", tt.b0, tt.n)
		}
	}
}
