package node

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/vipkit/vip/vrrp"
)

// System is what the daemon needs of the operating system to put a VRRP
// instance on a network. OS is the real one; tests pass one built on
// vrrptest. Values it returns that implement io.Closer are closed when the
// instance stops.
type System interface {
	// Listen opens the advertisement socket of an instance on ifname.
	Listen(ifname string, cfg vrrp.ListenConfig) (vrrp.Conn, error)
	// Addresser adds and removes VIPs on ifname, with labels per VIP.
	Addresser(ifname string, labels map[netip.Prefix]string) (vrrp.Addresser, error)
	// Announcer sends gratuitous ARP on ifname.
	Announcer(ifname string) (vrrp.Announcer, error)
	// PrimaryAddr returns the IPv4 address adverts are sent from when
	// unicast_src_ip is not set: the interface's first one that is not a
	// VIP (leftover VIPs may be on the interface at startup).
	PrimaryAddr(ifname string, vips []netip.Addr) (netip.Addr, error)
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

// OS is the System of the host, in the network namespace of the calling
// process: vipd started with `ip netns exec` works inside it.
type OS struct{}

var (
	_ System        = OS{}
	_ LinkWatcher   = OS{}
	_ SocketDropper = OS{}
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
func (OS) PrimaryAddr(ifname string, vips []netip.Addr) (netip.Addr, error) {
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
		if ip.Is4() && (ip.IsGlobalUnicast() || ip.IsLinkLocalUnicast()) && !slices.Contains(vips, ip) {
			return ip, nil
		}
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
	closers []io.Closer
	drop    SocketDropper // nil: the System cannot
	log     *slog.Logger
}

var (
	_ vrrp.Addresser = (*vips)(nil)
	_ vrrp.Announcer = (*vips)(nil)
)

// openVIPs opens an Addresser and an Announcer per interface of vs.
func openVIPs(sys System, vs []vipSpec, log *slog.Logger) (*vips, error) {
	v := &vips{addr: map[netip.Prefix]vrrp.Addresser{}, ann: map[netip.Addr]vrrp.Announcer{}, log: log}
	v.drop, _ = sys.(SocketDropper)
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
		a, err := sys.Addresser(dev, labels)
		if err != nil {
			v.Close()
			return nil, err
		}
		v.track(a)
		ann, err := sys.Announcer(dev)
		if err != nil {
			v.Close()
			return nil, err
		}
		v.track(ann)
		for _, s := range byDev[dev] {
			v.addr[s.Prefix] = a
			v.ann[s.Prefix.Addr()] = ann
		}
	}
	return v, nil
}

func (v *vips) track(x any) {
	if c, ok := x.(io.Closer); ok {
		v.closers = append(v.closers, c)
	}
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
	// Only connections from an earlier tenure: a VIP already here (kept
	// across a restart, re-added by a retry) carries live ones.
	if has, err := a.HasAddress(p); err == nil && !has {
		v.dropSockets(p.Addr(), "taking the VIP")
	}
	return a.AddAddress(p)
}

func (v *vips) RemoveAddress(p netip.Prefix) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	a, err := v.of(p)
	if err != nil {
		return err
	}
	err = a.RemoveAddress(p)
	v.dropSockets(p.Addr(), "giving the VIP up")
	return err
}

// dropSockets drops the connections bound to addr (see SocketDropper).
// Failing to is logged, never in the way of moving the VIP.
func (v *vips) dropSockets(addr netip.Addr, why string) {
	if v.drop == nil {
		return
	}
	n, err := v.drop.DropSockets(addr)
	if err != nil {
		v.log.Warn("failed to drop the connections bound to the VIP", "vip", addr, "when", why, "dropped", n, "err", err)
		return
	}
	if n > 0 {
		v.log.Info("dropped connections left bound to the VIP", "vip", addr, "when", why, "dropped", n)
	}
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

// Close closes the sockets. The addresses stay where they are.
func (v *vips) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	var errs []error
	for _, c := range v.closers {
		errs = append(errs, c.Close())
	}
	v.closers = nil
	return errors.Join(errs...)
}
