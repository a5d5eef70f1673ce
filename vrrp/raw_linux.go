//go:build linux

package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// ListenConfig says how Listen sets up the socket.
type ListenConfig struct {
	// Source is the router's primary IPv4 address on the interface, the
	// source of every advert it sends. When it is the zero Addr the kernel
	// picks the interface's primary address.
	Source netip.Addr

	// Peers, when not empty, puts the Conn in unicast mode (keepalived's
	// unicast_peer): it does not join 224.0.0.18. Checking that adverts
	// come from a peer is the engine's Filter's job.
	Peers []netip.Addr
}

// IPConn is a Conn over a raw IPv4 protocol-112 socket bound to one
// interface. It must be created in the network namespace of that interface;
// it can be used from any goroutine afterwards.
type IPConn struct {
	p       *ipv4.PacketConn
	ifindex int
	src     net.IP // nil: the kernel chooses
}

var _ Conn = (*IPConn)(nil)

// Listen opens a raw VRRP socket on the interface ifname. In multicast mode
// (no cfg.Peers) it joins 224.0.0.18 there. Only adverts that arrive on
// ifname are read; adverts are sent with TTL 255 from cfg.Source.
func Listen(ifname string, cfg ListenConfig) (*IPConn, error) {
	if cfg.Source.IsValid() && !cfg.Source.Is4() {
		return nil, fmt.Errorf("source %s is not an IPv4 address", cfg.Source)
	}
	for _, p := range cfg.Peers {
		if !p.Is4() {
			return nil, fmt.Errorf("unicast peer %s is not an IPv4 address", p)
		}
	}

	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("failed to look up interface %q: %w", ifname, err)
	}

	// Bind to the device before bind(2) so no advert of another interface
	// is ever queued. Binding to the unicast address instead would make the
	// raw socket drop the multicast adverts.
	lc := net.ListenConfig{
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname)
			})
			return errors.Join(err, serr)
		},
	}
	pc, err := lc.ListenPacket(context.Background(), fmt.Sprintf("ip4:%d", IPProtocol), "0.0.0.0")
	if err != nil {
		return nil, fmt.Errorf("failed to open VRRP socket on %q: %w", ifname, err)
	}

	c := &IPConn{p: ipv4.NewPacketConn(pc), ifindex: ifi.Index}
	if cfg.Source.IsValid() {
		c.src = cfg.Source.AsSlice()
	}
	if err := c.setup(ifi, len(cfg.Peers) == 0); err != nil {
		_ = c.p.Close()
		return nil, err
	}
	return c, nil
}

func (c *IPConn) setup(ifi *net.Interface, multicast bool) error {
	// RFC 5798 §5.1.1.3: TTL 255, so receivers can tell the advert was not routed.
	if err := c.p.SetTTL(TTL); err != nil {
		return fmt.Errorf("failed to set TTL on %q: %w", ifi.Name, err)
	}
	if err := c.p.SetMulticastTTL(TTL); err != nil {
		return fmt.Errorf("failed to set multicast TTL on %q: %w", ifi.Name, err)
	}
	// Like keepalived: adverts are network control traffic.
	if err := c.p.SetTOS(0xc0); err != nil {
		return fmt.Errorf("failed to set TOS on %q: %w", ifi.Name, err)
	}
	if err := c.p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
		return fmt.Errorf("failed to enable control messages on %q: %w", ifi.Name, err)
	}
	if !multicast {
		return nil
	}
	if err := c.p.SetMulticastInterface(ifi); err != nil {
		return fmt.Errorf("failed to set multicast interface %q: %w", ifi.Name, err)
	}
	// Our own adverts would otherwise come back to us (and to every other
	// VRRP socket of this namespace).
	if err := c.p.SetMulticastLoopback(false); err != nil {
		return fmt.Errorf("failed to disable multicast loopback on %q: %w", ifi.Name, err)
	}
	if err := c.p.JoinGroup(ifi, &net.IPAddr{IP: Group.AsSlice()}); err != nil {
		return fmt.Errorf("failed to join %s on %q: %w", Group, ifi.Name, err)
	}
	return nil
}

// ReadFrom reads one VRRP message (the IP payload) into b.
func (c *IPConn) ReadFrom(b []byte) (int, PacketInfo, error) {
	n, cm, src, err := c.p.ReadFrom(b)
	if err != nil {
		return 0, PacketInfo{}, err
	}
	info := PacketInfo{TTL: -1}
	if a, ok := src.(*net.IPAddr); ok {
		info.Src = addrFromIP(a.IP)
	}
	if cm != nil {
		info.TTL = cm.TTL
		info.Dst = addrFromIP(cm.Dst)
		info.IfIndex = cm.IfIndex
	}
	return n, info, nil
}

// WriteTo sends b to dst out of the bound interface, from the configured source.
func (c *IPConn) WriteTo(b []byte, dst netip.Addr) error {
	if !dst.Is4() {
		return fmt.Errorf("failed to send VRRP to %s: not an IPv4 address", dst)
	}
	cm := &ipv4.ControlMessage{Src: c.src, IfIndex: c.ifindex}
	if _, err := c.p.WriteTo(b, cm, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return fmt.Errorf("failed to send VRRP to %s: %w", dst, err)
	}
	return nil
}

// SetReadDeadline bounds a pending or future ReadFrom.
func (c *IPConn) SetReadDeadline(t time.Time) error { return c.p.SetReadDeadline(t) }

// Close closes the socket; the kernel leaves the group with it.
func (c *IPConn) Close() error { return c.p.Close() }

func addrFromIP(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}
