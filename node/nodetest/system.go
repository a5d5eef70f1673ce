package nodetest

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/guard"
	"github.com/vipkit/vip/vrrp"
	"github.com/vipkit/vip/vrrp/vrrptest"
)

// Network is a set of in-memory VRRP segments, one per interface name,
// that every node's System shares.
type Network struct {
	segs map[string]*vrrptest.Network
}

// NewNetwork returns a network with one segment per interface name; each
// segment's random choices (loss, jitter) are seeded by its position.
func NewNetwork(ifnames ...string) *Network {
	n := &Network{segs: map[string]*vrrptest.Network{}}
	for i, name := range ifnames {
		n.segs[name] = vrrptest.NewNetwork(int64(i + 1))
	}
	return n
}

// Segment returns the segment of interface ifname, or nil.
func (n *Network) Segment(ifname string) *vrrptest.Network { return n.segs[ifname] }

// System returns the System of the node whose primary address is addr.
func (n *Network) System(addr netip.Addr) *System { return &System{net: n, addr: addr} }

// System is one node's operating system on a Network: a node.System, and a
// node.NginxSystem when Nginx is set.
type System struct {
	net  *Network
	addr netip.Addr

	// Nginx is the node's nginx, as its guard sees it; nil: the guard
	// watches a real one. Set it before the daemon starts.
	Nginx *Nginx

	mu   sync.Mutex
	down map[string]bool
}

// Addr is the node's primary address on every segment.
func (s *System) Addr() netip.Addr { return s.addr }

// Host returns the node's attachment to the segment of ifname.
func (s *System) Host(ifname string) (*vrrptest.Host, error) {
	seg := s.net.Segment(ifname)
	if seg == nil {
		return nil, fmt.Errorf("failed to look up interface %q: no such network interface", ifname)
	}
	return seg.Host(s.addr), nil
}

// Holds reports whether the node holds p on ifname.
func (s *System) Holds(ifname string, p netip.Prefix) bool {
	h, err := s.Host(ifname)
	return err == nil && h.Addresser().Has(p)
}

// SetLink takes ifname's carrier up or down, as a cable would.
func (s *System) SetLink(ifname string, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down == nil {
		s.down = map[string]bool{}
	}
	s.down[ifname] = !up
}

// Addr6 is the node's IPv6 link-local address on every segment: fe80::
// and the four octets of Addr. An IPv6 instance is a host of its own there.
func (s *System) Addr6() netip.Addr {
	a := s.addr.As4()
	return netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 12: a[0], 13: a[1], 14: a[2], 15: a[3]})
}

// Listen implements node.System: a fresh Conn each time the daemon opens
// the socket of ifname and cfg.Family.
func (s *System) Listen(ifname string, cfg vrrp.ListenConfig) (vrrp.Conn, error) {
	seg := s.net.Segment(ifname)
	if seg == nil {
		return nil, fmt.Errorf("failed to look up interface %q: no such network interface", ifname)
	}
	addr := s.addr
	if cfg.Family == vrrp.IPv6 {
		addr = s.Addr6()
	}
	return seg.Host(addr).Restart(), nil
}

// Addresser implements node.System.
func (s *System) Addresser(ifname string, _ map[netip.Prefix]string) (vrrp.Addresser, error) {
	h, err := s.Host(ifname)
	if err != nil {
		return nil, err
	}
	return h.Addresser(), nil
}

// Announcer implements node.System.
func (s *System) Announcer(ifname string) (vrrp.Announcer, error) {
	h, err := s.Host(ifname)
	if err != nil {
		return nil, err
	}
	return h.Announcer(), nil
}

// PrimaryAddr implements node.System: Addr, or Addr6 for IPv6.
func (s *System) PrimaryAddr(ifname string, fam vrrp.Family, _ []netip.Addr) (netip.Addr, error) {
	if _, err := s.Host(ifname); err != nil {
		return netip.Addr{}, err
	}
	if fam == vrrp.IPv6 {
		return s.Addr6(), nil
	}
	return s.addr, nil
}

// LinkUp implements node.System.
func (s *System) LinkUp(ifname string) (bool, error) {
	if _, err := s.Host(ifname); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.down[ifname], nil
}

// NginxGuard implements node.NginxSystem: the guard of check watches
// s.Nginx (see Nginx.Guard). Without an Nginx it watches the real one.
func (s *System) NginxGuard(check config.NginxCheck) (guard.ProcessChecker, guard.Prober, guard.Runner) {
	if s.Nginx == nil {
		return nil, nil, nil
	}
	return s.Nginx.Guard(check)
}
