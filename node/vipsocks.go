package node

import (
	"errors"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
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
	// The daemon's VIPs (openVIPs registers them), and those known to
	// carry no connection: absent from every interface when a sweep
	// dropped the connections bound to them, and not added since.
	vips  map[vipKey]int // references
	clean map[vipKey]bool
}

type vipKey struct {
	dev string
	p   netip.Prefix
}

// An addressLister lists an interface's addresses in one look (a netlink
// dump), where HasAddress takes one per address.
type addressLister interface {
	ListAddresses() ([]netip.Prefix, error)
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
	return &vipSockets{sys: sys, open: map[string]*devSockets{}, vips: map[vipKey]int{}, clean: map[vipKey]bool{}}
}

// register counts the VIPs of an instance in; unregister counts them out.
func (s *vipSockets) register(vs []vipSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs {
		s.vips[vipKey{v.Dev, v.Prefix}]++
	}
}

func (s *vipSockets) unregister(vs []vipSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs {
		k := vipKey{v.Dev, v.Prefix}
		if s.vips[k]--; s.vips[k] <= 0 {
			delete(s.vips, k)
			delete(s.clean, k)
		}
	}
}

// cleanse says whether p on dev is known to carry no connection, after a
// sweep if it is not known yet: one address listing per interface and one
// batch drop (BatchDropper) for every VIP of the daemon absent from every
// interface and not known clean. A node taking over 1,000 VIPs for the
// first time then makes two dumps, not 1,000 of each (a sock_diag dump
// walks the kernel's whole TCP table). False: the caller looks and drops
// for p alone, as without a sweep.
func (s *vipSockets) cleanse(dev string, p netip.Prefix, drop SocketDropper, log *slog.Logger) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := vipKey{dev, p}
	if s.clean[k] {
		return true
	}
	bd, ok := drop.(BatchDropper)
	if !ok {
		return false
	}
	present := map[netip.Addr]bool{}
	listed := map[string]bool{}
	for k := range s.vips {
		if listed[k.dev] {
			continue
		}
		listed[k.dev] = true
		ds := s.open[k.dev]
		if ds == nil {
			continue // a VIP of an instance not yet open
		}
		l, ok := ds.addr.(addressLister)
		if !ok {
			return false
		}
		ds.mu.Lock()
		ps, err := l.ListAddresses()
		ds.mu.Unlock()
		if err != nil {
			return false
		}
		for _, q := range ps {
			present[q.Addr()] = true
		}
	}
	var keys []vipKey
	var addrs []netip.Addr
	for k := range s.vips {
		if !s.clean[k] && !present[k.p.Addr()] && s.open[k.dev] != nil {
			keys = append(keys, k)
			if !slices.Contains(addrs, k.p.Addr()) {
				addrs = append(addrs, k.p.Addr())
			}
		}
	}
	n, err := bd.DropSocketsOf(addrs)
	if err != nil {
		log.Warn("failed to drop the connections bound to absent VIPs", "vips", len(addrs), "dropped", n, "err", err)
		return false
	}
	if n > 0 {
		log.Info("dropped connections left bound to absent VIPs", "vips", len(addrs), "dropped", n)
	}
	for _, k := range keys {
		s.clean[k] = true
	}
	return s.clean[k]
}

// dirty says that p is on dev now: it may carry connections.
func (s *vipSockets) dirty(dev string, p netip.Prefix) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clean, vipKey{dev, p})
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
