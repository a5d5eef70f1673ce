package demo

import (
	"fmt"
	"net/netip"

	"github.com/vipkit/vip/node"
	"github.com/vipkit/vip/vrrp"
	"github.com/vipkit/vip/vrrp/vrrptest"
)

// memSystem is a node's operating system in the demo: its one interface is
// an in-memory VRRP segment, where VIPs are records. Nothing reaches a
// real interface.
type memSystem struct {
	net    *vrrptest.Network
	ifname string
	addr   netip.Addr
}

var _ node.System = (*memSystem)(nil)

func (s *memSystem) host(ifname string) (*vrrptest.Host, error) {
	if ifname != s.ifname {
		return nil, fmt.Errorf("failed to look up interface %q: the demo has only %s", ifname, s.ifname)
	}
	return s.net.Host(s.addr), nil
}

func (s *memSystem) Listen(ifname string, _ vrrp.ListenConfig) (vrrp.Conn, error) {
	h, err := s.host(ifname)
	if err != nil {
		return nil, err
	}
	return h.Restart(), nil // a fresh Conn for each instance run
}

func (s *memSystem) Addresser(ifname string, _ map[netip.Prefix]string) (vrrp.Addresser, error) {
	h, err := s.host(ifname)
	if err != nil {
		return nil, err
	}
	return h.Addresser(), nil
}

func (s *memSystem) Announcer(ifname string) (vrrp.Announcer, error) {
	h, err := s.host(ifname)
	if err != nil {
		return nil, err
	}
	return h.Announcer(), nil
}

func (s *memSystem) PrimaryAddr(ifname string, _ []netip.Addr) (netip.Addr, error) {
	if _, err := s.host(ifname); err != nil {
		return netip.Addr{}, err
	}
	return s.addr, nil
}

func (s *memSystem) LinkUp(ifname string) (bool, error) {
	_, err := s.host(ifname)
	return err == nil, err
}
