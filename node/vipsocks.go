package node

import (
	"errors"
	"maps"
	"net/netip"
	"sync"

	"github.com/vipkit/vip/vrrp"
)

// vipSockets shares each interface's Addresser and Announcer (a netlink,
// a packet and an ICMPv6 socket) among the instances whose VIPs are on it,
// as sockets shares the advert sockets: a node of 1,000 instances holds a
// few of each, not 1,000. Each is opened with the first instance and
// closed with the last; calls through one are serialized.
type vipSockets struct {
	sys System

	mu   sync.Mutex
	open map[string]*devSockets
}

// devSockets is one interface's pair and the instances' references.
type devSockets struct {
	mu     sync.Mutex // serializes calls, guards labels
	addr   vrrp.Addresser
	ann    vrrp.Announcer
	labels map[netip.Prefix]string // the Addresser's own map: every instance's labels
	refs   int
}

func newVIPSockets(sys System) *vipSockets {
	return &vipSockets{sys: sys, open: map[string]*devSockets{}}
}

// get returns the shared Addresser and Announcer of dev with labels added
// to its own; release it with put.
func (s *vipSockets) get(dev string, labels map[netip.Prefix]string) (*devSockets, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.open[dev]
	if ds == nil {
		ds = &devSockets{labels: map[netip.Prefix]string{}}
		a, err := s.sys.Addresser(dev, ds.labels)
		if err != nil {
			return nil, err
		}
		ann, err := s.sys.Announcer(dev)
		if err != nil {
			closeAny(a)
			return nil, err
		}
		ds.addr, ds.ann = a, ann
		s.open[dev] = ds
	}
	ds.mu.Lock()
	maps.Copy(ds.labels, labels)
	ds.mu.Unlock()
	ds.refs++
	return ds, nil
}

// put releases one reference of dev's sockets, closing them with the last.
func (s *vipSockets) put(dev string, ds *devSockets) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ds.refs--; ds.refs > 0 || s.open[dev] != ds {
		return nil
	}
	delete(s.open, dev)
	return errors.Join(closeAny(ds.addr), closeAny(ds.ann))
}

// count returns the number of interfaces with open VIP sockets.
func (s *vipSockets) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

func (ds *devSockets) AddAddress(p netip.Prefix) error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.addr.AddAddress(p)
}

func (ds *devSockets) RemoveAddress(p netip.Prefix) error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.addr.RemoveAddress(p)
}

func (ds *devSockets) HasAddress(p netip.Prefix) (bool, error) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.addr.HasAddress(p)
}

func (ds *devSockets) Announce(addr netip.Addr) error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.ann.Announce(addr)
}

func closeAny(x any) error {
	if c, ok := x.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
