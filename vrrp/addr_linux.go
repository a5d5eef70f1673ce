//go:build linux

package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/jsimonetti/rtnetlink/v2"
	"golang.org/x/sys/unix"
)

// LinkAddresser is an Addresser that adds and removes IPv4 and IPv6
// addresses on one interface over rtnetlink, as `ip addr add/del` does.
// IPv6 VIPs are added with nodad, as keepalived adds them: usable at once,
// not "tentative" for the second of duplicate address detection (the peer
// that held the VIP a moment ago would fail it).
//
// Its netlink socket belongs to the network namespace where NewAddresser was
// called, whatever goroutine uses it later. The interface is remembered by
// index: if it is deleted and created again, make a new LinkAddresser.
type LinkAddresser struct {
	// Labels optionally gives an address label per VIP (keepalived's
	// `label`, e.g. "eth0:vip"), so `ifconfig` and `ip addr show label`
	// find it. At most 15 bytes. Set it before the first AddAddress.
	Labels map[netip.Prefix]string

	c       *rtnetlink.Conn
	ifname  string
	ifindex uint32
}

var _ Addresser = (*LinkAddresser)(nil)

// NewAddresser opens a route netlink socket for the interface ifname.
func NewAddresser(ifname string) (*LinkAddresser, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("failed to look up interface %q: %w", ifname, err)
	}
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return nil, fmt.Errorf("failed to open route netlink socket for %q: %w", ifname, err)
	}
	return &LinkAddresser{c: c, ifname: ifname, ifindex: uint32(ifi.Index)}, nil
}

// AddAddress adds p to the interface. A present address is not an error.
// A VIP inside the subnet of the primary address becomes a secondary
// address, so removing it later never touches the primary.
func (a *LinkAddresser) AddAddress(p netip.Prefix) error {
	m, err := a.message(p)
	if err != nil {
		return err
	}
	if l := a.Labels[p]; l != "" {
		if len(l) >= unix.IFNAMSIZ {
			return fmt.Errorf("failed to add %s on %q: label %q longer than %d bytes", p, a.ifname, l, unix.IFNAMSIZ-1)
		}
		m.Attributes.Label = l
	}
	err = a.c.Address.New(m)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("failed to add %s on %q: %w", p, a.ifname, err)
	}
	return nil
}

// RemoveAddress removes p from the interface. An absent address is not an
// error.
func (a *LinkAddresser) RemoveAddress(p netip.Prefix) error {
	m, err := a.message(p)
	if err != nil {
		return err
	}
	err = a.c.Address.Delete(m)
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("failed to remove %s from %q: %w", p, a.ifname, err)
	}
	return nil
}

// HasAddress reports whether p (address and prefix length) is on the interface.
func (a *LinkAddresser) HasAddress(p netip.Prefix) (bool, error) {
	if !p.IsValid() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return false, fmt.Errorf("failed to look for %s on %q: not a plain IPv4 or IPv6 prefix", p, a.ifname)
	}
	ps, err := a.ListAddresses()
	if err != nil {
		return false, err
	}
	return slices.Contains(ps, p), nil
}

// ListAddresses returns the addresses on the interface, of both families,
// from one netlink dump.
func (a *LinkAddresser) ListAddresses() ([]netip.Prefix, error) {
	// The kernel ignores dump filters unless strict checking is on, so
	// filter here.
	msgs, err := a.c.Address.List()
	if err != nil {
		return nil, fmt.Errorf("failed to list addresses of %q: %w", a.ifname, err)
	}
	var ps []netip.Prefix
	for _, m := range msgs {
		if m.Index != a.ifindex || m.Family != unix.AF_INET && m.Family != unix.AF_INET6 || m.Attributes == nil {
			continue
		}
		ip := m.Attributes.Local
		if ip == nil {
			ip = m.Attributes.Address
		}
		if addr := addrFromIP(ip); addr.IsValid() {
			ps = append(ps, netip.PrefixFrom(addr, int(m.PrefixLength)))
		}
	}
	return ps, nil
}

// Close closes the netlink socket. Addresses stay where they are.
func (a *LinkAddresser) Close() error { return a.c.Close() }

func (a *LinkAddresser) message(p netip.Prefix) (*rtnetlink.AddressMessage, error) {
	if !p.IsValid() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return nil, fmt.Errorf("invalid IPv4 or IPv6 prefix %s for %q", p, a.ifname)
	}
	ip := net.IP(p.Addr().AsSlice())
	if p.Addr().Is6() {
		// IFA_ADDRESS alone: with IFA_LOCAL too the kernel reads a
		// point-to-point peer.
		return &rtnetlink.AddressMessage{
			Family:       unix.AF_INET6,
			PrefixLength: uint8(p.Bits()),
			Flags:        unix.IFA_F_NODAD,
			Scope:        unix.RT_SCOPE_UNIVERSE,
			Index:        a.ifindex,
			Attributes: &rtnetlink.AddressAttributes{
				Address: ip,
				Flags:   unix.IFA_F_NODAD,
			},
		}, nil
	}
	return &rtnetlink.AddressMessage{
		Family:       unix.AF_INET,
		PrefixLength: uint8(p.Bits()),
		Scope:        unix.RT_SCOPE_UNIVERSE,
		Index:        a.ifindex,
		Attributes: &rtnetlink.AddressAttributes{
			Address: ip,
			Local:   ip,
		},
	}, nil
}
