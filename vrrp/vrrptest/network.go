package vrrptest

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/vipkit/vip/vrrp"
)

// A Packet is one VRRP message that crossed the Network.
type Packet struct {
	Time     time.Time
	Src, Dst netip.Addr
	TTL      int
	Payload  []byte // the VRRP message; do not modify
}

// maxRecorded bounds Packets: a long simulation forgets its oldest packets.
const maxRecorded = 1 << 16

// queueLen is a Conn's receive queue, like a socket buffer: more is dropped.
const queueLen = 1024

// A Network is an in-memory Ethernet segment for VRRP: a message sent to
// vrrp.Group (vrrp.Group6) reaches every other IPv4 (IPv6) host, one sent
// to a host's address reaches that host: a host is one family's socket. Delivered messages are copies with TTL 255 and the sender's
// address as source, so version 3 checksums verify.
//
// All methods are safe for concurrent use.
type Network struct {
	mu       sync.Mutex
	rng      *rand.Rand
	hosts    []*Host
	loss     float64
	delay    time.Duration
	jitter   time.Duration
	groups   map[netip.Addr]int // partition: hosts talk only within a group
	packets  []Packet
	lost     uint64
	overflow uint64
}

// NewNetwork returns an empty network whose random choices (loss, jitter)
// come from seed.
func NewNetwork(seed int64) *Network {
	return &Network{rng: rand.New(rand.NewPCG(uint64(seed), 0x5eed))}
}

// Host returns the host with address addr, adding it to the network the
// first time.
func (n *Network) Host(addr netip.Addr) *Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range n.hosts {
		if h.addr == addr {
			return h
		}
	}
	h := &Host{net: n, addr: addr, addresser: NewTestAddresser(), announcer: NewTestAnnouncer()}
	h.conn = newConn(h)
	n.hosts = append(n.hosts, h)
	return h
}

// Hosts returns the hosts in the order they were added.
func (n *Network) Hosts() []*Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Host(nil), n.hosts...)
}

// SetLoss makes each delivery (to each receiver) fail with probability p.
func (n *Network) SetLoss(p float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.loss = p
}

// SetDelay delays each delivery by d plus a random part of jitter, which
// can reorder messages.
func (n *Network) SetDelay(d, jitter time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.delay, n.jitter = d, jitter
}

// Partition splits the network: hosts hear each other only within one of
// groups. A host in no group is alone. Messages already in flight arrive.
func (n *Network) Partition(groups ...[]netip.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.groups = make(map[netip.Addr]int)
	for g, addrs := range groups {
		for _, a := range addrs {
			n.groups[a] = g + 1
		}
	}
}

// Heal ends a partition.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.groups = nil
}

// Packets returns the messages sent so far (the most recent ones in a long
// run), including those that were then lost.
func (n *Network) Packets() []Packet {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Packet(nil), n.packets...)
}

// Lost returns how many deliveries loss dropped, and how many a full receive
// queue dropped.
func (n *Network) Lost() (loss, overflow uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lost, n.overflow
}

// Holders returns the hosts that are not crashed and hold p.
func (n *Network) Holders(p netip.Prefix) []netip.Addr {
	var addrs []netip.Addr
	for _, h := range n.Hosts() {
		if !h.Crashed() && h.addresser.Has(p) {
			addrs = append(addrs, h.addr)
		}
	}
	return addrs
}

// Inject delivers p as if p.Src had sent it, regardless of loss and
// partitions: to p.Dst, or to every host but p.Src when p.Dst is multicast.
// p.TTL is delivered as is, so a test can send what a real router would not.
func (n *Network) Inject(p Packet) {
	p.Payload = append([]byte(nil), p.Payload...)
	n.mu.Lock()
	p.Time = time.Now()
	n.record(p)
	var to []*conn
	for _, h := range n.hosts {
		if h.addr != p.Src && (p.Dst.IsMulticast() || h.addr == p.Dst) && !h.crashed && h.addr.Is6() == p.Dst.Is6() {
			to = append(to, h.conn)
		}
	}
	n.mu.Unlock()
	info := vrrp.PacketInfo{Src: p.Src, Dst: p.Dst, TTL: p.TTL, IfIndex: 1}
	for _, c := range to {
		c.enqueue(delivery{payload: p.Payload, info: info})
	}
}

func (n *Network) record(p Packet) {
	if len(n.packets) == maxRecorded {
		n.packets = append(n.packets[:0], n.packets[maxRecorded/2:]...)
	}
	n.packets = append(n.packets, p)
}

// connected reports whether a and b are on the same side of a partition.
func (n *Network) connected(a, b netip.Addr) bool {
	if n.groups == nil {
		return true
	}
	g := n.groups[a]
	return g != 0 && g == n.groups[b]
}

// send carries a message from c.
func (n *Network) send(c *conn, b []byte, dst netip.Addr) {
	src := c.host.addr
	p := Packet{Src: src, Dst: dst, TTL: vrrp.TTL, Payload: append([]byte(nil), b...)}
	type hop struct {
		c     *conn
		delay time.Duration
	}
	var hops []hop

	n.mu.Lock()
	if c.host.crashed || c.host.conn != c {
		n.mu.Unlock()
		return // a crashed host's leftovers go nowhere
	}
	p.Time = time.Now()
	n.record(p)
	for _, h := range n.hosts {
		if h == c.host || h.crashed || !(dst.IsMulticast() || h.addr == dst) || h.addr.Is6() != dst.Is6() {
			continue
		}
		if !n.connected(src, h.addr) {
			continue
		}
		if n.loss > 0 && n.rng.Float64() < n.loss {
			n.lost++
			continue
		}
		d := n.delay
		if n.jitter > 0 {
			d += time.Duration(n.rng.Int64N(int64(n.jitter)))
		}
		hops = append(hops, hop{h.conn, d})
	}
	n.mu.Unlock()

	info := vrrp.PacketInfo{Src: src, Dst: dst, TTL: vrrp.TTL, IfIndex: 1}
	for _, h := range hops {
		d := delivery{payload: p.Payload, info: info}
		if h.delay <= 0 {
			h.c.enqueue(d)
			continue
		}
		time.AfterFunc(h.delay, func() { h.c.enqueue(d) })
	}
}

// A Host is one router's attachment to a Network.
type Host struct {
	net       *Network
	addr      netip.Addr
	addresser *TestAddresser
	announcer *TestAnnouncer

	// Guarded by net.mu.
	conn    *conn
	crashed bool
}

// Addr returns the host's address: its primary address for VRRP.
func (h *Host) Addr() netip.Addr { return h.addr }

// Conn returns the host's current Conn. Restart replaces it.
func (h *Host) Conn() vrrp.Conn {
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	return h.conn
}

// Addresser returns the record of the host's virtual addresses. It lives as
// long as the host: addresses survive a crash, as they do in a kernel.
func (h *Host) Addresser() *TestAddresser { return h.addresser }

// Announcer returns the record of the host's gratuitous ARPs.
func (h *Host) Announcer() *TestAnnouncer { return h.announcer }

// Crash kills the host's router silently: its Conn is closed (reads fail
// with net.ErrClosed, nothing it sends arrives), nothing more changes its
// addresses or announces, and it sends no priority-0 advert. The virtual
// addresses it held stay, as after a killed keepalived.
func (h *Host) Crash() {
	h.net.mu.Lock()
	h.crashed = true
	c := h.conn
	h.net.mu.Unlock()
	h.addresser.freeze(true)
	h.announcer.freeze(true)
	c.Close()
}

// Crashed reports whether the host crashed and has not restarted.
func (h *Host) Crashed() bool {
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	return h.crashed
}

// Restart gives the host a new Conn, for a new vrrp.Instance, after a crash
// or after the previous instance stopped. The old Conn is closed; addresses
// left over stay until the new instance removes them.
func (h *Host) Restart() vrrp.Conn {
	c := newConn(h)
	h.net.mu.Lock()
	old := h.conn
	h.conn = c
	h.crashed = false
	h.net.mu.Unlock()
	old.Close()
	h.addresser.freeze(false)
	h.announcer.freeze(false)
	return c
}

type delivery struct {
	payload []byte // shared between receivers: read only
	info    vrrp.PacketInfo
}

// conn is a Host's vrrp.Conn.
type conn struct {
	host *Host
	wake chan struct{} // a delivery, Close or SetReadDeadline happened

	mu       sync.Mutex
	closed   bool
	queue    []delivery
	deadline time.Time
}

var _ vrrp.Conn = (*conn)(nil)

func newConn(h *Host) *conn { return &conn{host: h, wake: make(chan struct{}, 1)} }

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) enqueue(d delivery) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= queueLen {
		c.mu.Unlock()
		c.host.net.mu.Lock()
		c.host.net.overflow++
		c.host.net.mu.Unlock()
		return
	}
	c.queue = append(c.queue, d)
	c.mu.Unlock()
	c.signal()
}

func (c *conn) ReadFrom(b []byte) (int, vrrp.PacketInfo, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, vrrp.PacketInfo{}, net.ErrClosed
		}
		if len(c.queue) > 0 {
			d := c.queue[0]
			c.queue[0] = delivery{}
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return copy(b, d.payload), d.info, nil
		}
		deadline := c.deadline
		c.mu.Unlock()

		if deadline.IsZero() {
			<-c.wake
			continue
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return 0, vrrp.PacketInfo{}, os.ErrDeadlineExceeded
		}
		t := time.NewTimer(wait)
		select {
		case <-c.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (c *conn) WriteTo(b []byte, dst netip.Addr) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return net.ErrClosed
	}
	c.host.net.send(c, b, dst)
	return nil
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	c.signal()
	return nil
}

func (c *conn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	c.signal()
	return nil
}
