package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A VRIDSetter is a Conn that can filter adverts by VRID before they reach
// user space: IPConn, with a kernel (BPF) filter.
type VRIDSetter interface {
	SetVRIDs(vrids []uint8) error
}

// A SourceWriter is a Conn that sends from a source given per message, so
// that instances of different primary addresses share it: IPConn.
type SourceWriter interface {
	WriteFrom(b []byte, src, dst netip.Addr) error
}

// A Mux shares one Conn, one raw socket per interface and family, among the
// instances on that interface: it reads every advert once and hands it to
// the instance of its VRID. Adverts for VRIDs that no instance here runs (a
// peer's other virtual routers) are neither drops nor logged: they are
// counted in Unclaimed, and a Conn that is a VRIDSetter keeps them in the
// kernel. Create it with NewMux, take a Conn per instance with Conn, and
// call Run.
type Mux struct {
	conn Conn

	mu    sync.Mutex
	subs  map[uint8]*muxConn
	err   error // why Run stopped; every Conn's ReadFrom returns it
	joins []*Instance
	pokes []*Instance
	parts []muxPart
	woken bool          // joins, pokes, parts or ctx's end wait for Run
	done  chan struct{} // closed when Run stops running instances

	// Owned by Run's goroutine.
	timers timerHeap
	due    []*Instance
	adv    Advertisement

	unclaimed atomic.Uint64
	overflow  atomic.Uint64
	running   atomic.Bool
}

// muxQueue is how many adverts wait for one instance before more are
// dropped (Overflow): a dozen intervals of a master, more than an
// instance's reader ever lags.
const muxQueue = 16

// NewMux returns a Mux over c. It starts nothing: call Run.
func NewMux(c Conn) *Mux {
	return &Mux{conn: c, subs: map[uint8]*muxConn{}, done: make(chan struct{}),
		adv: Advertisement{Addresses: make([]netip.Addr, 0, MaxAddresses)}}
}

// muxPart is an instance's request to leave the Mux's loop.
type muxPart struct {
	i    *Instance
	done chan struct{}
}

// Unclaimed returns the number of adverts read for VRIDs no instance here
// runs (with a VRIDSetter, only those that came before a filter change).
func (m *Mux) Unclaimed() uint64 { return m.unclaimed.Load() }

// Overflow returns the number of adverts lost because an instance's queue
// was full.
func (m *Mux) Overflow() uint64 { return m.overflow.Load() }

// Len returns the number of Conns open on m.
func (m *Mux) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.subs)
}

// Err returns why Run stopped, or nil while it runs.
func (m *Mux) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Conn returns the Conn of the instance of vrid, which sends from src (its
// primary address) over the shared Conn. Closing it frees the VRID; the
// shared Conn stays open (its owner closes it after Run). An Instance run
// on it, directly or through a wrapper with an Unwrap() Conn method, is
// handed its adverts by the Mux's goroutine, without a reader of its own.
func (m *Mux) Conn(vrid uint8, src netip.Addr) (Conn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	if m.subs[vrid] != nil {
		return nil, fmt.Errorf("VRID %d already has an instance on this socket", vrid)
	}
	c := &muxConn{m: m, vrid: vrid, src: src, wake: make(chan struct{}, 1)}
	m.subs[vrid] = c
	if err := m.filterLocked(); err != nil {
		delete(m.subs, vrid)
		_ = m.filterLocked()
		return nil, err
	}
	return c, nil
}

// filterLocked tells a VRIDSetter the VRIDs in use.
func (m *Mux) filterLocked() error {
	vs, ok := m.conn.(VRIDSetter)
	if !ok {
		return nil
	}
	vrids := make([]uint8, 0, len(m.subs))
	for v := range m.subs {
		vrids = append(vrids, v)
	}
	slices.Sort(vrids)
	return vs.SetVRIDs(vrids)
}

// Run reads the shared Conn and runs the instances on it (an Instance
// run on one of its Conns joins this loop: no goroutine of its own wakes
// per advert or per timer) until ctx is done (then it returns nil) or
// reading fails (then every Conn's ReadFrom returns the error, every
// instance's Run shuts down with it, and so does Run). It may be called
// once.
//
// One goroutine does it all: it reads with a deadline at the earliest of
// the instances' timers, and another goroutine that has work for it (a
// command, an instance to join or leave, ctx's end) wakes it by moving the
// deadline into the past.
func (m *Mux) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("VRRP socket mux is already running or has run")
	}
	if err := m.conn.SetReadDeadline(time.Time{}); err != nil {
		return m.stop(fmt.Errorf("failed to clear read deadline of VRRP socket: %w", err))
	}
	stop := context.AfterFunc(ctx, m.wake)
	defer stop()
	buf := make([]byte, maxPacketLen)
	var set time.Time // the read deadline as last set
	for {
		m.serve(time.Now())
		if ctx.Err() != nil {
			m.stop(net.ErrClosed)
			return nil
		}
		next := m.timers.next()
		if !next.Equal(set) {
			if err := m.conn.SetReadDeadline(next); err != nil {
				return m.stop(fmt.Errorf("failed to set read deadline of VRRP socket: %w", err))
			}
			set = next
		}
		if m.awake() {
			continue
		}
		n, info, err := m.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				set = time.Unix(1, 0) // ours or a wake's: set it again
				continue
			}
			if ctx.Err() != nil {
				m.stop(net.ErrClosed)
				return nil
			}
			return m.stop(fmt.Errorf("failed to read VRRP socket: %w", err))
		}
		m.dispatch(time.Now(), buf[:n], info)
	}
}

// wake makes Run look at its requests (and ctx) now.
func (m *Mux) wake() {
	m.mu.Lock()
	m.woken = true
	m.mu.Unlock()
	_ = m.conn.SetReadDeadline(time.Unix(1, 0))
}

// awake says whether a wake came since serve last looked.
func (m *Mux) awake() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.woken
}

// join hands i to Run's loop, which starts it (Instance.begin). failed
// tells why, should Run stop while i is on it.
func (m *Mux) join(i *Instance) (failed <-chan error, err error) {
	f := make(chan error, 1)
	m.mu.Lock()
	if m.err != nil {
		m.mu.Unlock()
		return nil, m.err
	}
	i.failed = f
	m.joins = append(m.joins, i)
	m.mu.Unlock()
	m.wake()
	return f, nil
}

// part has Run's loop shut i down (Instance.finish) and let it go. It
// returns false if Run stopped first: i is then its own again, and not
// shut down.
func (m *Mux) part(i *Instance) bool {
	p := muxPart{i: i, done: make(chan struct{})}
	m.mu.Lock()
	if m.err != nil {
		m.mu.Unlock()
		return false
	}
	m.parts = append(m.parts, p)
	m.mu.Unlock()
	m.wake()
	select {
	case <-p.done:
		return true
	case <-m.done:
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	}
}

// poke has Run's loop carry out i's commands.
func (m *Mux) poke(i *Instance) {
	m.mu.Lock()
	m.pokes = append(m.pokes, i)
	m.mu.Unlock()
	m.wake()
}

// serve takes the requests, then fires the timers that are due.
func (m *Mux) serve(now time.Time) {
	m.mu.Lock()
	joins, pokes, parts := m.joins, m.pokes, m.parts
	m.joins, m.pokes, m.parts, m.woken = nil, nil, nil, false
	for _, i := range joins {
		if c, ok := muxConnOf(i.conn); ok && c.m == m {
			c.inst = i
		}
	}
	m.mu.Unlock()
	for _, i := range joins {
		i.onMux = true
		i.begin(now)
		m.timers.update(i)
	}
	for _, i := range pokes {
		if i.onMux {
			i.obey(now)
			i.publish()
			m.timers.update(i)
		}
	}
	for _, p := range parts {
		if i := p.i; i.onMux {
			i.finish(now)
			m.release(i)
		}
		close(p.done)
	}
	m.fire(now)
}

// release takes i off the loop.
func (m *Mux) release(i *Instance) {
	i.onMux = false
	m.timers.remove(i)
	m.mu.Lock()
	if c, ok := muxConnOf(i.conn); ok && c.inst == i {
		c.inst = nil
	}
	m.mu.Unlock()
}

// fire runs the instances whose timers are due. Those due within their
// slack of now go too, at now: the loop wakes once for all of them, not
// once each, and masters whose adverts it sent together have their next
// ones due together from then on. No advert goes later than its deadline.
func (m *Mux) fire(now time.Time) {
	for range 4 { // a handler sets its timers after now: one round is the rule
		due := m.due[:0]
		for len(m.timers) > 0 {
			i := m.timers[0]
			if i.next.After(now.Add(i.slack())) {
				break
			}
			m.timers.remove(i)
			due = append(due, i)
		}
		if len(due) == 0 {
			break
		}
		for _, i := range due {
			until := now
			if i.next.After(now) {
				until = i.next
			}
			i.fire(now, until)
			i.publish()
			m.timers.update(i)
		}
		clear(due)
		m.due = due[:0]
	}
}

func (m *Mux) stop(err error) error {
	m.mu.Lock()
	if m.err != nil {
		m.mu.Unlock()
		return err
	}
	m.err = err
	subs := make([]*muxConn, 0, len(m.subs))
	for _, c := range m.subs {
		subs = append(subs, c)
	}
	var insts []*Instance
	for _, c := range subs {
		if c.inst != nil {
			insts = append(insts, c.inst)
			c.inst = nil
		}
	}
	insts = append(insts, m.joins...)
	m.joins, m.pokes = nil, nil
	m.mu.Unlock()
	close(m.done)
	for _, i := range insts {
		i.onMux = false
		i.failed <- err
	}
	for _, c := range subs {
		c.signal()
	}
	return err
}

// dispatch hands one message to the instance of its VRID, or queues a copy
// for its Conn's reader. A message too short to have one goes to every
// instance, which counts it as the drop it is.
func (m *Mux) dispatch(now time.Time, b []byte, info PacketInfo) {
	m.mu.Lock()
	if len(b) < 2 {
		var to []*Instance
		for _, c := range m.subs {
			if c.inst != nil {
				to = append(to, c.inst)
			} else {
				c.enqueue(b, info)
			}
		}
		m.mu.Unlock()
		for _, i := range to {
			m.deliver(now, i, b, info)
		}
		return
	}
	c := m.subs[b[1]]
	if c == nil {
		m.mu.Unlock()
		m.unclaimed.Add(1)
		return
	}
	i := c.inst
	if i == nil {
		c.enqueue(b, info)
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	m.deliver(now, i, b, info)
}

func (m *Mux) deliver(now time.Time, i *Instance, b []byte, info PacketInfo) {
	i.receive(now, i.accept(b, info, &m.adv))
	i.publish()
	m.timers.update(i)
}

// muxConnOf returns the Mux's Conn under c, which may wrap it (an
// Unwrap() Conn method, as errors.Unwrap).
func muxConnOf(c Conn) (*muxConn, bool) {
	for range 8 {
		switch x := c.(type) {
		case *muxConn:
			return x, true
		case interface{ Unwrap() Conn }:
			c = x.Unwrap()
		default:
			return nil, false
		}
	}
	return nil, false
}

// muxConn is one instance's Conn on a Mux.
type muxConn struct {
	m    *Mux
	vrid uint8
	src  netip.Addr
	wake chan struct{}

	mu       sync.Mutex
	queue    []muxPacket
	deadline time.Time
	closed   bool
	inst     *Instance // run by the Mux's loop (guarded by m.mu): no queue
}

type muxPacket struct {
	b    []byte
	info PacketInfo
}

var _ Conn = (*muxConn)(nil)

// enqueue is called with m.mu held.
func (c *muxConn) enqueue(b []byte, info PacketInfo) {
	c.mu.Lock()
	if c.closed || len(c.queue) >= muxQueue {
		full := !c.closed
		c.mu.Unlock()
		if full {
			c.m.overflow.Add(1)
		}
		return
	}
	c.queue = append(c.queue, muxPacket{b: append([]byte(nil), b...), info: info})
	c.mu.Unlock()
	c.signal()
}

func (c *muxConn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *muxConn) ReadFrom(b []byte) (int, PacketInfo, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, PacketInfo{}, net.ErrClosed
		}
		if len(c.queue) > 0 {
			p := c.queue[0]
			c.queue[0] = muxPacket{}
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return copy(b, p.b), p.info, nil
		}
		deadline := c.deadline
		c.mu.Unlock()
		if err := c.m.Err(); err != nil {
			return 0, PacketInfo{}, err
		}

		if deadline.IsZero() {
			<-c.wake
			continue
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return 0, PacketInfo{}, os.ErrDeadlineExceeded
		}
		t := time.NewTimer(wait)
		select {
		case <-c.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (c *muxConn) WriteTo(b []byte, dst netip.Addr) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return net.ErrClosed
	}
	if sw, ok := c.m.conn.(SourceWriter); ok {
		return sw.WriteFrom(b, c.src, dst)
	}
	return c.m.conn.WriteTo(b, dst)
}

func (c *muxConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	c.signal()
	return nil
}

// Close frees the VRID on the Mux; the shared Conn stays open.
func (c *muxConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	c.signal()
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subs[c.vrid] == c {
		delete(m.subs, c.vrid)
	}
	if m.err != nil {
		return nil
	}
	return m.filterLocked()
}
