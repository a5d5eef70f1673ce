//go:build linux

package vrrp

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
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

// ARPAnnouncer is an Announcer on one Ethernet interface: gratuitous ARP
// through an AF_PACKET socket for IPv4 addresses, and for IPv6 ones an
// unsolicited neighbour advertisement (RFC 4861 section 7.2.6) with
// Override set, from the address to all nodes (ff02::1), as keepalived
// sends them. Like the other OS types, its sockets belong to the network
// namespace where it was created. A host without IPv6 gets an Announcer
// all the same: only its IPv6 announcements fail.
type ARPAnnouncer struct {
	c      *packet.Conn
	ifi    *net.Interface
	ifname string
	mac    net.HardwareAddr

	mu     sync.Mutex
	ndp    *ipv6.PacketConn // nil when it could not be opened
	ndpErr error            // why not
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
	a := &ARPAnnouncer{c: c, ifi: ifi, ifname: ifname, mac: ifi.HardwareAddr}
	// Now, not at the first IPv6 announcement: a socket belongs to the
	// namespace of the thread that opens it.
	a.ndp, a.ndpErr = listenICMPv6(ifname)
	return a, nil
}

// allNodes is ff02::1, where unsolicited neighbour advertisements go.
var allNodes = netip.MustParseAddr("ff02::1")

// announce6 sends one unsolicited neighbour advertisement for addr.
func (a *ARPAnnouncer) announce6(addr netip.Addr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ndp == nil {
		if a.ndpErr == nil {
			return fmt.Errorf("failed to announce %s on %q: announcer closed", addr, a.ifname)
		}
		return a.ndpErr
	}
	na := &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: addr,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: a.mac}},
	}
	b, err := ndp.MarshalMessage(na)
	if err != nil {
		return fmt.Errorf("failed to announce %s on %q: %w", addr, a.ifname, err)
	}
	cm := &ipv6.ControlMessage{HopLimit: ndp.HopLimit, Src: addr.AsSlice(), IfIndex: a.ifi.Index}
	// No zone: the control message's IfIndex picks the interface. A
	// zone (by index, since a name would be looked up in the namespace
	// of the sending thread, not the socket's) costs a dump of every
	// interface per message in x/net's zone cache: 1,000 VIPs taken
	// over, 1,000 dumps.
	dst := &net.IPAddr{IP: allNodes.AsSlice()}
	if _, err := a.ndp.WriteTo(b, cm, dst); err != nil {
		return fmt.Errorf("failed to announce %s on %q: %w", addr, a.ifname, err)
	}
	return nil
}

// listenICMPv6 opens the send-only ICMPv6 socket of neighbour
// advertisements: hop limit 255 (RFC 4861), the checksum filled in by the
// kernel, and every ICMPv6 type blocked on receipt so that the segment's
// traffic does not pile up in its queue.
func listenICMPv6(ifname string) (*ipv6.PacketConn, error) {
	ic, err := icmp.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		return nil, fmt.Errorf("failed to open neighbour discovery socket for %q: %w", ifname, err)
	}
	pc := ic.IPv6PacketConn()
	var f ipv6.ICMPFilter
	f.SetAll(true)
	for _, set := range []func() error{
		func() error { return pc.SetICMPFilter(&f) },
		func() error { return pc.SetHopLimit(ndp.HopLimit) },
		func() error { return pc.SetMulticastHopLimit(ndp.HopLimit) },
		func() error { return pc.SetChecksum(true, 2) },
		func() error { return pc.SetMulticastLoopback(false) },
	} {
		if err := set(); err != nil {
			_ = pc.Close()
			return nil, fmt.Errorf("failed to set up neighbour discovery socket for %q: %w", ifname, err)
		}
	}
	return pc, nil
}

// Announce broadcasts a gratuitous ARP request and a gratuitous ARP reply
// saying that addr is at this interface's MAC address, or for an IPv6 addr
// one unsolicited neighbour advertisement.
func (a *ARPAnnouncer) Announce(addr netip.Addr) error {
	if FamilyOf(addr) == IPv6 {
		return a.announce6(addr.WithZone(""))
	}
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

// Close closes the sockets.
func (a *ARPAnnouncer) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.c.Close()
	if a.ndp != nil {
		if nerr := a.ndp.Close(); err == nil {
			err = nerr
		}
		a.ndp = nil
	}
	return err
}

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
