package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/guard"
	"github.com/vipkit/vip/vrrp"
)

// System is what the daemon needs of the operating system to put a VRRP
// instance on a network. OS is the real one; tests pass one built on
// vrrptest. Values it returns that implement io.Closer are closed when the
// instance stops.
type System interface {
	// Listen opens an advertisement socket on ifname, of cfg.Family: the
	// daemon opens one per interface, family and mode, and shares it
	// among the instances there (cfg.Source is zero: they send with
	// their own, through vrrp.SourceWriter where the Conn is one).
	Listen(ifname string, cfg vrrp.ListenConfig) (vrrp.Conn, error)
	// Addresser adds and removes VIPs on ifname, with labels per VIP.
	Addresser(ifname string, labels map[netip.Prefix]string) (vrrp.Addresser, error)
	// Announcer sends gratuitous ARP on ifname.
	Announcer(ifname string) (vrrp.Announcer, error)
	// PrimaryAddr returns the address adverts of family fam are sent from
	// when unicast_src_ip is not set: for IPv4 the interface's first
	// address that is not a VIP (leftover VIPs may be on the interface at
	// startup), for IPv6 its link-local address (RFC 5798 section 5.1.2.1).
	PrimaryAddr(ifname string, fam vrrp.Family, vips []netip.Addr) (netip.Addr, error)
	// LinkUp reports whether ifname is up with a carrier (track_interface).
	LinkUp(ifname string) (bool, error)
}

// LinkWatcher is a System that tells when links change, so that the daemon
// reads them then instead of every LinkInterval.
type LinkWatcher interface {
	// WatchLinks calls changed, from another goroutine, after any link
	// changes, until stop is called.
	WatchLinks(changed func()) (stop func(), err error)
}

// NginxSystem is a System that runs nginx its own way: it says how the
// nginx guard watches the master, asks nginx for an answer and runs the
// start command. node/nodetest's stand-in nginx is one, for the tests and
// the in-process demo. A nil result is the real thing: the pid file watched
// through a pidfd, a GET of the url, start_command run as a child.
type NginxSystem interface {
	NginxGuard(check config.NginxCheck) (guard.ProcessChecker, guard.Prober, guard.Runner)
}

// SocketDropper is a System that can drop the TCP connections bound to an
// address. vipd drops those bound to a VIP when it gives the VIP up and
// again before it takes it: a connection left from an earlier tenure (a
// client that gave up while nginx hung, an answer sent after the VIP left)
// retransmits for minutes with nobody to hear it, and when the VIP comes
// back, a busy client that reuses its port has its SYN answered with that
// old connection's ACK and waits a second to retry.
type SocketDropper interface {
	// DropSockets drops every TCP connection whose local address is
	// addr, listening sockets excepted, and says how many it dropped.
	DropSockets(addr netip.Addr) (int, error)
}

// BatchDropper is a SocketDropper that drops the connections of many
// addresses at once, for about the cost of one: a stopping vipd drops
// those of every VIP it gave up in one call.
type BatchDropper interface {
	DropSocketsOf(addrs []netip.Addr) (int, error)
}

// OS is the System of the host, in the network namespace of the calling
// process: vipd started with `ip netns exec` works inside it.
type OS struct{}

var (
	_ System        = OS{}
	_ LinkWatcher   = OS{}
	_ SocketDropper = OS{}
	_ BatchDropper  = OS{}
)

// Listen implements System.
func (OS) Listen(ifname string, cfg vrrp.ListenConfig) (vrrp.Conn, error) {
	return vrrp.Listen(ifname, cfg)
}

// Addresser implements System.
func (OS) Addresser(ifname string, labels map[netip.Prefix]string) (vrrp.Addresser, error) {
	a, err := vrrp.NewAddresser(ifname)
	if err != nil {
		return nil, err
	}
	a.Labels = labels
	return a, nil
}

// Announcer implements System.
func (OS) Announcer(ifname string) (vrrp.Announcer, error) { return vrrp.NewAnnouncer(ifname) }

// PrimaryAddr implements System.
func (OS) PrimaryAddr(ifname string, fam vrrp.Family, vips []netip.Addr) (netip.Addr, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("failed to look up interface %q: %w", ifname, err)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("failed to list addresses of %q: %w", ifname, err)
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		switch {
		case fam == vrrp.IPv6:
			if ip.Is6() && ip.IsLinkLocalUnicast() {
				return ip, nil
			}
		case ip.Is4() && (ip.IsGlobalUnicast() || ip.IsLinkLocalUnicast()) && !slices.Contains(vips, ip):
			return ip, nil
		}
	}
	if fam == vrrp.IPv6 {
		return netip.Addr{}, fmt.Errorf("interface %q has no IPv6 link-local address to send adverts from", ifname)
	}
	return netip.Addr{}, fmt.Errorf("interface %q has no IPv4 address to send adverts from (set unicast_src_ip)", ifname)
}

// LinkUp implements System: administratively up and running (carrier).
func (OS) LinkUp(ifname string) (bool, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return false, fmt.Errorf("failed to look up interface %q: %w", ifname, err)
	}
	return ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagRunning != 0, nil
}

// vips routes each VIP to the Addresser and Announcer of its interface
// (virtual_ipaddress ... dev IF), so that the engine sees one of each. It
// serializes calls: Status reads VIPs back while the engine changes them.
type vips struct {
	mu      sync.Mutex
	addr    map[netip.Prefix]vrrp.Addresser
	ann     map[netip.Addr]vrrp.Announcer
	release []func() error // of the shared sockets
	socks   *vipSockets
	devOf   map[netip.Prefix]string
	drop    SocketDropper // nil: the System cannot
	log     *slog.Logger
	// gone are the VIPs removed here whose connections are dropped (or
	// in pending, to be dropped): taking one back needs no look at the
	// kernel (a full address dump, 1,000 of them at 1,000 instances) and
	// no drop.
	gone map[netip.Prefix]bool
	// stopping defers the drops of RemoveAddress: a daemon stopping
	// sends every instance's priority 0 first. They go to collect, or
	// without it to pending, for Close.
	stopping bool
	collect  func(netip.Addr)
	pending  []netip.Addr
}

var (
	_ vrrp.Addresser = (*vips)(nil)
	_ vrrp.Announcer = (*vips)(nil)
)

// openVIPs takes the shared Addresser and Announcer of each interface of
// vs from socks.
func openVIPs(socks *vipSockets, drop SocketDropper, vs []vipSpec, log *slog.Logger) (*vips, error) {
	v := &vips{addr: map[netip.Prefix]vrrp.Addresser{}, ann: map[netip.Addr]vrrp.Announcer{}, drop: drop, log: log,
		gone: map[netip.Prefix]bool{}, socks: socks, devOf: map[netip.Prefix]string{}}
	byDev := map[string][]vipSpec{}
	var devs []string
	for _, s := range vs {
		if _, ok := byDev[s.Dev]; !ok {
			devs = append(devs, s.Dev)
		}
		byDev[s.Dev] = append(byDev[s.Dev], s)
	}
	for _, dev := range devs {
		labels := map[netip.Prefix]string{}
		for _, s := range byDev[dev] {
			if s.Label != "" {
				labels[s.Prefix] = s.Label
			}
		}
		ds, err := socks.get(dev, labels)
		if err != nil {
			v.Close()
			return nil, err
		}
		v.release = append(v.release, func() error { return socks.put(dev, ds) })
		for _, s := range byDev[dev] {
			v.addr[s.Prefix] = ds
			v.ann[s.Prefix.Addr()] = ds
			v.devOf[s.Prefix] = dev
		}
	}
	return v, nil
}

func (v *vips) of(p netip.Prefix) (vrrp.Addresser, error) {
	a := v.addr[p]
	if a == nil {
		return nil, fmt.Errorf("no interface for virtual address %s", p)
	}
	return a, nil
}

func (v *vips) AddAddress(p netip.Prefix) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	a, err := v.of(p)
	if err != nil {
		return err
	}
	v.flushDrops()
	// Only connections from an earlier tenure: a VIP already here (kept
	// across a restart, re-added by a retry) carries live ones.
	dev := v.devOf[p]
	if v.drop != nil && !v.gone[p] && !v.socks.cleanse(dev, p, v.drop, v.log) {
		if has, err := a.HasAddress(p); err == nil && !has {
			v.dropSockets(p.Addr(), "taking the VIP")
		}
	}
	if err := a.AddAddress(p); err != nil {
		return err
	}
	v.socks.dirty(dev, p)
	delete(v.gone, p)
	return nil
}

func (v *vips) RemoveAddress(p netip.Prefix) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	a, err := v.of(p)
	if err != nil {
		return err
	}
	if err := a.RemoveAddress(p); err != nil {
		delete(v.gone, p)
		v.dropSockets(p.Addr(), "giving the VIP up")
		return err
	}
	if v.stopping {
		if v.collect != nil {
			v.collect(p.Addr())
		} else {
			v.pending = append(v.pending, p.Addr())
		}
		v.gone[p] = true
		return nil
	}
	if v.drop == nil || v.socks.cleanse(v.devOf[p], p, v.drop, v.log) || v.dropSockets(p.Addr(), "giving the VIP up") {
		v.gone[p] = true
	}
	return nil
}

// stop makes RemoveAddress leave the drops to collect (nil: to Close): the
// daemon is stopping, and each drop (a sock_diag dump) before the next
// instance's priority-0 advert delays the peer's takeover of that
// instance.
func (v *vips) stop(collect func(netip.Addr)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.stopping, v.collect = true, collect
}

// flushDrops carries out the deferred drops. v.mu is held.
func (v *vips) flushDrops() {
	for _, a := range v.pending {
		v.dropSockets(a, "giving the VIP up")
	}
	v.pending = nil
}

// dropSockets drops the connections bound to addr (see SocketDropper) and
// says whether none is left. Failing to is logged, never in the way of
// moving the VIP.
func (v *vips) dropSockets(addr netip.Addr, why string) bool {
	if v.drop == nil {
		return true
	}
	n, err := v.drop.DropSockets(addr)
	if err != nil {
		v.log.Warn("failed to drop the connections bound to the VIP", "vip", addr, "when", why, "dropped", n, "err", err)
		return false
	}
	if n > 0 {
		v.log.Info("dropped connections left bound to the VIP", "vip", addr, "when", why, "dropped", n)
	}
	return true
}

func (v *vips) HasAddress(p netip.Prefix) (bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	a, err := v.of(p)
	if err != nil {
		return false, err
	}
	return a.HasAddress(p)
}

func (v *vips) Announce(addr netip.Addr) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	a := v.ann[addr]
	if a == nil {
		return fmt.Errorf("no interface for virtual address %s", addr)
	}
	return a.Announce(addr)
}

// present reports whether every VIP is on its interface, as the kernel says.
func (v *vips) present(ps []netip.Prefix) bool {
	if len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		if ok, err := v.HasAddress(p); err != nil || !ok {
			return false
		}
	}
	return true
}

// Close drops the connections of the VIPs removed while stopping and
// releases the shared sockets. The addresses stay where they are.
func (v *vips) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.flushDrops()
	var errs []error
	for _, r := range v.release {
		errs = append(errs, r())
	}
	v.release = nil
	return errors.Join(errs...)
}
