//go:build linux

package vrrp

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
)

const (
	etherTypeARP  = 0x0806
	etherTypeIPv4 = 0x0800
	arpRequest    = 1
	arpReply      = 2
	// Frames are padded to the Ethernet minimum (without FCS) ourselves:
	// veth and some drivers send short frames as they are.
	minFrameLen = 60
)

var ethBroadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// ARPAnnouncer is an Announcer that sends gratuitous ARP on one Ethernet
// interface through an AF_PACKET socket. Like the other OS types, its socket
// belongs to the network namespace where it was created.
type ARPAnnouncer struct {
	c      *packet.Conn
	ifname string
	mac    net.HardwareAddr
}

var _ Announcer = (*ARPAnnouncer)(nil)

// NewAnnouncer opens a packet socket on the interface ifname.
func NewAnnouncer(ifname string) (*ARPAnnouncer, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("failed to look up interface %q: %w", ifname, err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("failed to announce on %q: not an Ethernet interface", ifname)
	}
	// The socket only sends: a drop-all filter, attached before bind, keeps
	// the segment's ARP traffic from piling up in its receive queue.
	drop, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		return nil, fmt.Errorf("failed to assemble BPF filter: %w", err)
	}
	c, err := packet.Listen(ifi, packet.Raw, etherTypeARP, &packet.Config{Filter: drop})
	if err != nil {
		return nil, fmt.Errorf("failed to open ARP socket on %q: %w", ifname, err)
	}
	return &ARPAnnouncer{c: c, ifname: ifname, mac: ifi.HardwareAddr}, nil
}

// Announce broadcasts a gratuitous ARP request and a gratuitous ARP reply
// saying that addr is at this interface's MAC address.
func (a *ARPAnnouncer) Announce(addr netip.Addr) error {
	if !addr.Is4() {
		return fmt.Errorf("failed to announce %s on %q: not an IPv4 address", addr, a.ifname)
	}
	dst := &packet.Addr{HardwareAddr: ethBroadcast}
	// RFC 5227 style request (target MAC zero) and a reply whose target MAC
	// is ours: Linux takes a reply as gratuitous only then, and only a
	// gratuitous one overrides the 1 s locktime (neigh locktime) of an entry
	// that was just updated. Measured on Linux 6.18: a reply with a zero
	// target MAC sent within 1 s of the client learning the old MAC is ignored.
	for _, f := range [][]byte{
		garpFrame(arpRequest, a.mac, addr, make(net.HardwareAddr, 6)),
		garpFrame(arpReply, a.mac, addr, a.mac),
	} {
		if _, err := a.c.WriteTo(f, dst); err != nil {
			return fmt.Errorf("failed to announce %s on %q: %w", addr, a.ifname, err)
		}
	}
	return nil
}

// Close closes the packet socket.
func (a *ARPAnnouncer) Close() error { return a.c.Close() }

// garpFrame builds a broadcast Ethernet frame carrying an ARP packet whose
// sender and target protocol addresses are both addr:
//
//	Ethernet: dst ff:ff:ff:ff:ff:ff | src mac | type 0x0806
//	ARP:      htype 1 | ptype 0x0800 | hlen 6 | plen 4 | op
//	          sha mac | spa addr | tha | tpa addr
func garpFrame(op uint16, mac net.HardwareAddr, addr netip.Addr, tha net.HardwareAddr) []byte {
	b := make([]byte, minFrameLen)
	copy(b[0:6], ethBroadcast)
	copy(b[6:12], mac)
	binary.BigEndian.PutUint16(b[12:14], etherTypeARP)

	arp := b[14:42]
	binary.BigEndian.PutUint16(arp[0:2], 1) // Ethernet
	binary.BigEndian.PutUint16(arp[2:4], etherTypeIPv4)
	arp[4], arp[5] = 6, 4
	binary.BigEndian.PutUint16(arp[6:8], op)
	ip := addr.As4()
	copy(arp[8:14], mac)
	copy(arp[14:18], ip[:])
	copy(arp[18:24], tha)
	copy(arp[24:28], ip[:])
	return b
}
