package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	"github.com/vipkit/vip/vrrp"
)

// sockets shares the daemon's advert sockets: one per interface, family
// and mode (multicast or unicast) for all the instances on it, opened with
// the first of them and closed with the last. Each is a vrrp.Mux: the
// kernel filter passes only this node's VRIDs, and the Mux hands each
// advert to its instance, so a peer's adverts for VRIDs this node does not
// run are no instance's drops and are never logged.
type sockets struct {
	sys System
	log *slog.Logger

	mu   sync.Mutex
	open map[sockKey]*sharedSock
}

type sockKey struct {
	ifname  string
	fam     vrrp.Family
	unicast bool // unicast sockets join no group
}

// sharedSock is one socket and the goroutine that reads it, from the first
// instance's open to the last one's close.
type sharedSock struct {
	key    sockKey
	conn   vrrp.Conn
	mux    *vrrp.Mux
	refs   int
	cancel context.CancelFunc
	done   chan struct{}
}

func newSockets(sys System, log *slog.Logger) *sockets {
	return &sockets{sys: sys, log: log, open: map[sockKey]*sharedSock{}}
}

// conn returns the Conn of an instance with engine configuration cfg
// (Primary set) on ifname. Closing it releases the shared socket.
func (s *sockets) conn(ifname string, cfg vrrp.Config) (vrrp.Conn, error) {
	key := sockKey{ifname: ifname, fam: vrrp.FamilyOf(cfg.Primary), unicast: len(cfg.Peers) > 0}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.open[key]
	if ss != nil && ss.mux.Err() != nil {
		// Failed: its instances are on their way out; new ones get a
		// new socket, the old one closes with its last instance.
		delete(s.open, key)
		ss = nil
	}
	if ss == nil {
		// The filter passes nothing until the Mux tells it the VRIDs.
		lc := vrrp.ListenConfig{Family: key.fam, VRIDs: []uint8{}}
		if key.unicast {
			lc.Peers = cfg.Peers // only "do not join the group": the engine's Filter checks the peers
		}
		c, err := s.sys.Listen(ifname, lc)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		ss = &sharedSock{key: key, conn: c, mux: vrrp.NewMux(c), cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(ss.done)
			if err := ss.mux.Run(ctx); err != nil {
				s.log.Error("VRRP socket failed", "interface", ifname, "family", key.fam, "err", err)
			}
		}()
		s.open[key] = ss
		s.log.Debug("VRRP socket opened", "interface", ifname, "family", key.fam, "unicast", key.unicast)
	}
	mc, err := ss.mux.Conn(cfg.VRID, cfg.Primary)
	if err != nil {
		if ss.refs == 0 {
			s.closeLocked(ss)
		}
		return nil, fmt.Errorf("failed to open VRID %d on %s (%v): %w", cfg.VRID, ifname, key.fam, err)
	}
	ss.refs++
	return &instConn{Conn: mc, s: s, ss: ss}, nil
}

// release drops one reference to ss and closes it after the last.
func (s *sockets) release(ss *sharedSock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss.refs--
	if ss.refs == 0 {
		s.closeLocked(ss)
	}
}

func (s *sockets) closeLocked(ss *sharedSock) {
	if s.open[ss.key] == ss {
		delete(s.open, ss.key)
	}
	ss.cancel()
	<-ss.done
	if err := ss.conn.Close(); err != nil {
		s.log.Warn("failed to close VRRP socket", "interface", ss.key.ifname, "err", err)
	}
	s.log.Debug("VRRP socket closed", "interface", ss.key.ifname, "family", ss.key.fam,
		"unclaimed", ss.mux.Unclaimed(), "overflow", ss.mux.Overflow(), "kernel_drops", ss.mux.KernelDrops())
}

// count returns the number of open sockets.
func (s *sockets) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// instConn is an instance's Conn on a shared socket.
type instConn struct {
	vrrp.Conn
	s    *sockets
	ss   *sharedSock
	once sync.Once
}

var _ vrrp.KernelDropper = (*instConn)(nil)

// Unwrap returns the Mux's Conn, so that the engine's loop is fed by the
// Mux directly.
func (c *instConn) Unwrap() vrrp.Conn { return c.Conn }

// KernelDrops returns the shared socket's kernel drops.
func (c *instConn) KernelDrops() uint64 { return c.ss.mux.KernelDrops() }

func (c *instConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.s.release(c.ss) })
	return err
}

// primaryFamily is the family of an instance's VIPs: its adverts' too.
func primaryFamily(vips []netip.Prefix) vrrp.Family {
	if len(vips) > 0 {
		return vrrp.FamilyOf(vips[0].Addr())
	}
	return vrrp.IPv4
}
