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

	mu   sync.Mutex
	subs map[uint8]*muxConn
	err  error // why Run stopped; every Conn's ReadFrom returns it

	unclaimed atomic.Uint64
	overflow  atomic.Uint64
	running   atomic.Bool
}

// muxQueue is how many adverts wait for one instance before more are
// dropped (Overflow): a dozen intervals of a master, more than an
// instance's reader ever lags.
const muxQueue = 16

// NewMux returns a Mux over c. It starts nothing: call Run.
func NewMux(c Conn) *Mux { return &Mux{conn: c, subs: map[uint8]*muxConn{}} }

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

// Run reads the shared Conn and hands each advert to its instance until ctx
// is done (then it returns nil) or reading fails (then every Conn's
// ReadFrom returns the error, and so does Run). It may be called once.
func (m *Mux) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("VRRP socket mux is already running or has run")
	}
	if err := m.conn.SetReadDeadline(time.Time{}); err != nil {
		return m.stop(fmt.Errorf("failed to clear read deadline of VRRP socket: %w", err))
	}
	stop := context.AfterFunc(ctx, func() { _ = m.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, maxPacketLen)
	for {
		n, info, err := m.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				m.stop(net.ErrClosed)
				return nil
			}
			return m.stop(fmt.Errorf("failed to read VRRP socket: %w", err))
		}
		m.dispatch(buf[:n], info)
	}
}

func (m *Mux) stop(err error) error {
	m.mu.Lock()
	m.err = err
	subs := make([]*muxConn, 0, len(m.subs))
	for _, c := range m.subs {
		subs = append(subs, c)
	}
	m.mu.Unlock()
	for _, c := range subs {
		c.stopped(err)
	}
	return err
}

// dispatch hands a copy of one message to the instance of its VRID. A
// message too short to have one goes to every instance, which counts it as
// the drop it is.
func (m *Mux) dispatch(b []byte, info PacketInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(b) < 2 {
		for _, c := range m.subs {
			c.enqueue(b, info)
		}
		return
	}
	c := m.subs[b[1]]
	if c == nil {
		m.unclaimed.Add(1)
		return
	}
	c.enqueue(b, info)
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
	push     func(b []byte, info PacketInfo) bool // set by attach: no queue, no ReadFrom
	fail     func(error)                          // with push: the Mux stopped
}

type muxPacket struct {
	b    []byte
	info PacketInfo
}

var _ Conn = (*muxConn)(nil)

// attach makes the Mux hand each packet to push, on its own goroutine and
// one at a time, instead of queueing it for ReadFrom: an instance's loop
// is then woken once per advert, not its reader and then its loop. push
// must not block (false: the packet was lost, counted as Overflow); b is
// the Mux's buffer, valid during the call only. fail is called once the
// Mux stops, with why. Until detach returns.
func (c *muxConn) attach(push func(b []byte, info PacketInfo) bool, fail func(error)) {
	c.mu.Lock()
	c.push, c.fail = push, fail
	c.queue = nil
	c.mu.Unlock()
	if err := c.m.Err(); err != nil {
		fail(err)
	}
}

// detach ends attach: when it returns, push is not running and will not
// be called again.
func (c *muxConn) detach() {
	c.mu.Lock()
	c.push, c.fail = nil, nil
	c.mu.Unlock()
}

// stopped tells an attached instance that the Mux stopped.
func (c *muxConn) stopped(err error) {
	c.mu.Lock()
	fail := c.fail
	c.mu.Unlock()
	if fail != nil {
		fail(err)
	}
	c.signal()
}

// enqueue is called with m.mu held.
func (c *muxConn) enqueue(b []byte, info PacketInfo) {
	c.mu.Lock()
	if c.push != nil && !c.closed {
		if !c.push(b, info) {
			c.m.overflow.Add(1)
		}
		c.mu.Unlock()
		return
	}
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
