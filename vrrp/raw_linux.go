//go:build linux

package vrrp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// ListenConfig says how Listen sets up the socket.
type ListenConfig struct {
	// Family is the socket's: IPv4 (the zero value) or IPv6.
	Family Family

	// Source is the router's primary address on the interface, the source
	// of adverts sent with WriteTo: for IPv6 its link-local address (RFC
	// 5798 section 5.1.2.1). When it is the zero Addr the kernel picks one.
	// A socket shared by several instances sends with WriteFrom instead.
	Source netip.Addr

	// Peers, when not empty, puts the Conn in unicast mode (keepalived's
	// unicast_peer): it does not join the VRRP group. Checking that
	// adverts come from a peer is the engine's Filter's job.
	Peers []netip.Addr

	// VRIDs, when not nil, attaches a kernel (BPF) filter that passes only
	// adverts for these VRIDs: a node does not wake for the adverts of the
	// segment's other virtual routers. SetVRIDs changes it.
	VRIDs []uint8

	// ReceiveBuffer, when not 0, is the socket's SO_RCVBUF in bytes (the
	// kernel doubles it and enforces a minimum); 0 keeps the default.
	ReceiveBuffer int
}

// IPConn is a Conn over a raw protocol-112 socket, IPv4 or IPv6, bound to
// one interface. It must be created in the network namespace of that
// interface; it can be used from any goroutine afterwards.
type IPConn struct {
	fam     Family
	raw     net.PacketConn
	p4      *ipv4.PacketConn // IPv4
	p6      *ipv6.PacketConn // IPv6
	ifname  string
	ifindex int
	src     netip.Addr // zero: the kernel chooses

	drops atomic.Uint64 // the kernel's drop count, from SO_RXQ_OVFL
}

var (
	_ Conn          = (*IPConn)(nil)
	_ KernelDropper = (*IPConn)(nil)
)

// Listen opens a raw VRRP socket of cfg.Family on the interface ifname. In
// multicast mode (no cfg.Peers) it joins 224.0.0.18 or ff02::12 there.
// Only adverts that arrive on ifname are read; adverts are sent with TTL
// (hop limit) 255.
func Listen(ifname string, cfg ListenConfig) (*IPConn, error) {
	if cfg.Family != IPv4 && cfg.Family != IPv6 {
		return nil, fmt.Errorf("failed to open VRRP socket on %q: family %d", ifname, cfg.Family)
	}
	if cfg.Source.IsValid() && FamilyOf(cfg.Source) != cfg.Family {
		return nil, fmt.Errorf("source %s is not an %v address", cfg.Source, cfg.Family)
	}
	for _, p := range cfg.Peers {
		if FamilyOf(p) != cfg.Family {
			return nil, fmt.Errorf("unicast peer %s is not an %v address", p, cfg.Family)
		}
	}

	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("failed to look up interface %q: %w", ifname, err)
	}

	// Bind to the device, and filter, before bind(2) so no advert of
	// another interface or VRID is ever queued. Binding to the unicast
	// address instead would make the raw socket drop the multicast adverts.
	var prog []bpf.RawInstruction
	if cfg.VRIDs != nil {
		if prog, err = vridFilter(cfg.Family, cfg.VRIDs); err != nil {
			return nil, err
		}
	}
	lc := net.ListenConfig{
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname)
				if serr == nil {
					// Each packet read then says how many the kernel
					// dropped from a full receive buffer: a flood is counted.
					serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
				}
				if serr == nil && cfg.ReceiveBuffer > 0 {
					serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, cfg.ReceiveBuffer)
				}
				if serr == nil && prog != nil {
					serr = attachFilter(int(fd), prog)
				}
			})
			return errors.Join(err, serr)
		},
	}
	network, laddr := fmt.Sprintf("ip4:%d", IPProtocol), "0.0.0.0"
	if cfg.Family == IPv6 {
		network, laddr = fmt.Sprintf("ip6:%d", IPProtocol), "::"
	}
	pc, err := lc.ListenPacket(context.Background(), network, laddr)
	if err != nil {
		return nil, fmt.Errorf("failed to open %v VRRP socket on %q: %w", cfg.Family, ifname, err)
	}

	c := &IPConn{fam: cfg.Family, raw: pc, ifname: ifname, ifindex: ifi.Index, src: cfg.Source.WithZone("")}
	multicast := len(cfg.Peers) == 0
	if cfg.Family == IPv6 {
		c.p6 = ipv6.NewPacketConn(pc)
		err = c.setup6(ifi, multicast)
	} else {
		c.p4 = ipv4.NewPacketConn(pc)
		err = c.setup4(ifi, multicast)
	}
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	return c, nil
}

func (c *IPConn) setup4(ifi *net.Interface, multicast bool) error {
	// RFC 5798 §5.1.1.3: TTL 255, so receivers can tell the advert was not routed.
	if err := c.p4.SetTTL(TTL); err != nil {
		return fmt.Errorf("failed to set TTL on %q: %w", ifi.Name, err)
	}
	if err := c.p4.SetMulticastTTL(TTL); err != nil {
		return fmt.Errorf("failed to set multicast TTL on %q: %w", ifi.Name, err)
	}
	// Like keepalived: adverts are network control traffic.
	if err := c.p4.SetTOS(0xc0); err != nil {
		return fmt.Errorf("failed to set TOS on %q: %w", ifi.Name, err)
	}
	if err := c.p4.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
		return fmt.Errorf("failed to enable control messages on %q: %w", ifi.Name, err)
	}
	if !multicast {
		return nil
	}
	if err := c.p4.SetMulticastInterface(ifi); err != nil {
		return fmt.Errorf("failed to set multicast interface %q: %w", ifi.Name, err)
	}
	// Our own adverts would otherwise come back to us (and to every other
	// VRRP socket of this namespace).
	if err := c.p4.SetMulticastLoopback(false); err != nil {
		return fmt.Errorf("failed to disable multicast loopback on %q: %w", ifi.Name, err)
	}
	if err := c.p4.JoinGroup(ifi, &net.IPAddr{IP: Group.AsSlice()}); err != nil {
		return fmt.Errorf("failed to join %s on %q: %w", Group, ifi.Name, err)
	}
	return nil
}

func (c *IPConn) setup6(ifi *net.Interface, multicast bool) error {
	// RFC 5798 §5.1.2.3: hop limit 255, checked on receipt.
	if err := c.p6.SetHopLimit(TTL); err != nil {
		return fmt.Errorf("failed to set hop limit on %q: %w", ifi.Name, err)
	}
	if err := c.p6.SetMulticastHopLimit(TTL); err != nil {
		return fmt.Errorf("failed to set multicast hop limit on %q: %w", ifi.Name, err)
	}
	if err := c.p6.SetTrafficClass(0xc0); err != nil {
		return fmt.Errorf("failed to set traffic class on %q: %w", ifi.Name, err)
	}
	// The checksum is ours to check (and count), so IPV6_CHECKSUM stays
	// off: the kernel would drop bad ones unseen.
	if err := c.p6.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true); err != nil {
		return fmt.Errorf("failed to enable control messages on %q: %w", ifi.Name, err)
	}
	if !multicast {
		return nil
	}
	if err := c.p6.SetMulticastInterface(ifi); err != nil {
		return fmt.Errorf("failed to set multicast interface %q: %w", ifi.Name, err)
	}
	if err := c.p6.SetMulticastLoopback(false); err != nil {
		return fmt.Errorf("failed to disable multicast loopback on %q: %w", ifi.Name, err)
	}
	if err := c.p6.JoinGroup(ifi, &net.IPAddr{IP: Group6.AsSlice()}); err != nil {
		return fmt.Errorf("failed to join %s on %q: %w", Group6, ifi.Name, err)
	}
	return nil
}

// vridFilter is a classic BPF program that accepts a VRRP packet whose
// VRID is one of vrids and drops the rest. An IPv4 raw socket's filter sees
// the IP header (the VRID is the second octet after it); an IPv6 one sees
// the VRRP message alone. A packet too short to hold a VRID is dropped.
func vridFilter(f Family, vrids []uint8) ([]bpf.RawInstruction, error) {
	seen := map[uint8]bool{}
	var uniq []uint8
	for _, v := range vrids {
		if !seen[v] {
			seen[v] = true
			uniq = append(uniq, v)
		}
	}
	var prog []bpf.Instruction
	if f == IPv6 {
		prog = append(prog, bpf.LoadAbsolute{Off: 1, Size: 1})
	} else {
		prog = append(prog, bpf.LoadMemShift{Off: 0}, bpf.LoadIndirect{Off: 1, Size: 1})
	}
	// One comparison per VRID (at most 256, so every jump fits in 8 bits),
	// each jumping to the accept at the end.
	n := len(uniq)
	for i, v := range uniq {
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(v), SkipTrue: uint8(n - i)})
	}
	prog = append(prog, bpf.RetConstant{Val: 0}, bpf.RetConstant{Val: 1 << 16})
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("failed to assemble the VRID filter: %w", err)
	}
	return raw, nil
}

func attachFilter(fd int, prog []bpf.RawInstruction) error {
	fs := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		fs[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fp := unix.SockFprog{Len: uint16(len(fs))}
	if len(fs) > 0 {
		fp.Filter = &fs[0]
	}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
		return fmt.Errorf("failed to attach the VRID filter: %w", err)
	}
	return nil
}

// SetVRIDs replaces the kernel filter: only adverts for vrids are read
// from now on (nil: every advert).
func (c *IPConn) SetVRIDs(vrids []uint8) error {
	rc, err := c.raw.(syscall.Conn).SyscallConn()
	if err != nil {
		return fmt.Errorf("failed to reach the VRRP socket on %q: %w", c.ifname, err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if vrids == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DETACH_FILTER, 0)
			if errors.Is(serr, unix.ENOENT) {
				serr = nil // there was none
			}
			return
		}
		var prog []bpf.RawInstruction
		if prog, serr = vridFilter(c.fam, vrids); serr == nil {
			serr = attachFilter(int(fd), prog)
		}
	})
	if err := errors.Join(err, serr); err != nil {
		return fmt.Errorf("failed to set the VRID filter on %q: %w", c.ifname, err)
	}
	return nil
}

// Family returns the socket's address family.
func (c *IPConn) Family() Family { return c.fam }

// oobLen holds every control message a read carries: SO_RXQ_OVFL, the
// TTL (hop limit) and the packet info, each padded.
var oobLen = unix.CmsgSpace(4) + unix.CmsgSpace(4) + max(unix.CmsgSpace(unix.SizeofInet4Pktinfo), unix.CmsgSpace(unix.SizeofInet6Pktinfo))

// ReadFrom reads one VRRP message (the IP payload) into b. Addresses come
// without a zone.
func (c *IPConn) ReadFrom(b []byte) (int, PacketInfo, error) {
	// Read here rather than through x/net's ReadFrom: its control buffer
	// is sized for the IP-level messages only, and SO_RXQ_OVFL's comes
	// first, so they would be cut off.
	oob := make([]byte, oobLen)
	n, oobn, _, src, err := c.raw.(*net.IPConn).ReadMsgIP(b, oob)
	if err != nil {
		return 0, PacketInfo{}, err
	}
	if c.fam == IPv4 {
		// An IPv4 raw socket reads the IP header too (ReadFrom strips it,
		// ReadMsgIP does not).
		if n, err = stripIPv4Header(b, n); err != nil {
			return 0, PacketInfo{}, fmt.Errorf("failed to read a VRRP packet on %q: %w", c.ifname, err)
		}
	}
	info, drops, err := parseControl(c.fam, oob[:oobn])
	if err != nil {
		return 0, PacketInfo{}, fmt.Errorf("failed to read the control messages of a VRRP packet on %q: %w", c.ifname, err)
	}
	for {
		old := c.drops.Load()
		if drops <= old || c.drops.CompareAndSwap(old, drops) {
			break
		}
	}
	if src != nil {
		info.Src = addrFromIP(src.IP)
	}
	return n, info, nil
}

// stripIPv4Header moves the payload of the IPv4 packet b[:n] to the front
// of b and returns its length.
func stripIPv4Header(b []byte, n int) (int, error) {
	if n < ipv4.HeaderLen {
		return 0, fmt.Errorf("%d bytes: shorter than an IPv4 header", n)
	}
	hl := int(b[0]&0x0f) << 2
	if hl < ipv4.HeaderLen || hl > n {
		return 0, fmt.Errorf("IPv4 header length %d of a %d-byte packet", hl, n)
	}
	return copy(b, b[hl:n]), nil
}

// parseControl reads a received packet's control messages: its TTL (hop
// limit), destination and interface into info (TTL -1 when absent), and
// the socket's drop count as SO_RXQ_OVFL gives it (the kernel sends it only
// once there are drops, so 0 when absent).
func parseControl(f Family, oob []byte) (info PacketInfo, drops uint64, err error) {
	info.TTL = -1
	if f == IPv6 {
		var cm ipv6.ControlMessage
		if err := cm.Parse(oob); err != nil {
			return info, 0, err
		}
		if cm.HopLimit != 0 || cm.Dst != nil {
			info.TTL, info.Dst, info.IfIndex = cm.HopLimit, addrFromIP(cm.Dst), cm.IfIndex
		}
	} else {
		var cm ipv4.ControlMessage
		if err := cm.Parse(oob); err != nil {
			return info, 0, err
		}
		if cm.TTL != 0 || cm.Dst != nil {
			info.TTL, info.Dst, info.IfIndex = cm.TTL, addrFromIP(cm.Dst), cm.IfIndex
		}
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return info, 0, err
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_RXQ_OVFL && len(m.Data) >= 4 {
			drops = uint64(binary.NativeEndian.Uint32(m.Data))
		}
	}
	return info, drops, nil
}

// KernelDrops returns how many packets the kernel dropped from the
// socket's full receive buffer, as the last packet read said: drops after
// it show with the next packet.
func (c *IPConn) KernelDrops() uint64 { return c.drops.Load() }

// WriteTo sends b to dst out of the bound interface, from the configured source.
func (c *IPConn) WriteTo(b []byte, dst netip.Addr) error { return c.WriteFrom(b, c.src, dst) }

// WriteFrom sends b to dst out of the bound interface from src (zero: the
// kernel chooses), so that instances of different sources share a socket.
func (c *IPConn) WriteFrom(b []byte, src, dst netip.Addr) error {
	dst = dst.Unmap().WithZone("")
	if FamilyOf(dst) != c.fam || src.IsValid() && FamilyOf(src) != c.fam {
		return fmt.Errorf("failed to send VRRP from %s to %s: not %v addresses", src, dst, c.fam)
	}
	to := &net.IPAddr{IP: dst.AsSlice()}
	var err error
	if c.p6 != nil {
		if dst.IsLinkLocalUnicast() {
			// By index: a name would be looked up in the namespace of
			// whichever thread sends, not the socket's.
			to.Zone = strconv.Itoa(c.ifindex)
		}
		cm := &ipv6.ControlMessage{IfIndex: c.ifindex, HopLimit: TTL}
		if src.IsValid() {
			cm.Src = src.WithZone("").AsSlice()
		}
		_, err = c.p6.WriteTo(b, cm, to)
	} else {
		cm := &ipv4.ControlMessage{IfIndex: c.ifindex}
		if src.IsValid() {
			cm.Src = src.AsSlice()
		}
		_, err = c.p4.WriteTo(b, cm, to)
	}
	if err != nil {
		return fmt.Errorf("failed to send VRRP to %s: %w", dst, err)
	}
	return nil
}

// SetReadDeadline bounds a pending or future ReadFrom.
func (c *IPConn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// Close closes the socket; the kernel leaves the group with it.
func (c *IPConn) Close() error { return c.raw.Close() }

func addrFromIP(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}
