//go:build linux

package node_test

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/node"
)

// DropSockets, in a lab node's namespace: the connections bound to the
// address are reset, the listener on it keeps serving, and connections on
// another address are left alone.
// DropSocketsOf (a stopping vipd's: one dump for many addresses) does the
// same.
func TestDropSockets(t *testing.T) {
	netns.Require(t)
	for _, tt := range []struct {
		name string
		drop func(netip.Addr) (int, error)
	}{
		{"DropSockets", node.OS{}.DropSockets},
		{"DropSocketsOf", func(a netip.Addr) (int, error) {
			return node.OS{}.DropSocketsOf([]netip.Addr{netip.MustParseAddr("198.51.100.250"), a})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) { testDropSockets(t, tt.drop) })
	}
}

func testDropSockets(t *testing.T, drop func(netip.Addr) (int, error)) {
	lab := netns.New(t, netns.Config{Nodes: 1})
	n := lab.Nodes[0]
	err := n.Do(func() error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		other, err := net.Listen("tcp", n.Addr.String()+":0")
		if err != nil {
			return err
		}
		defer other.Close()
		dial := func(l net.Listener) (net.Conn, net.Conn, error) {
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				return nil, nil, err
			}
			s, err := l.Accept()
			return c, s, err
		}
		c1, s1, err := dial(ln)
		if err != nil {
			return err
		}
		defer c1.Close()
		defer s1.Close()
		c2, s2, err := dial(other)
		if err != nil {
			return err
		}
		defer c2.Close()
		defer s2.Close()

		dropped, err := drop(netip.MustParseAddr("127.0.0.1"))
		if err != nil {
			return err
		}
		// Both ends of c1/s1 are bound to 127.0.0.1, but dropping one
		// resets the other: it is gone by its turn.
		if dropped < 1 || dropped > 2 {
			t.Errorf("dropped %d sockets, want 1 or 2", dropped)
		}
		c1.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c1.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.ECONNABORTED) && err != io.EOF {
			t.Errorf("read on a dropped connection: %v, want it reset", err)
		}
		// The listener lives, and the other address's connection too.
		c3, s3, err := dial(ln)
		if err != nil {
			t.Errorf("the listener on the address stopped: %v", err)
		} else {
			c3.Close()
			s3.Close()
		}
		if _, err := c2.Write([]byte("x")); err != nil {
			t.Errorf("a connection on another address was dropped: %v", err)
		}
		s2.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := s2.Read(make([]byte, 1)); err != nil {
			t.Errorf("a connection on another address was dropped: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// DropSockets over IPv6: a connection bound to the node's IPv6 address is
// reset, and one on its IPv4 address is left alone. So with DropSocketsOf
// for the IPv6 address and another IPv4 one (a dump of each family).
func TestDropSockets6(t *testing.T) {
	netns.Require(t)
	for _, tt := range []struct {
		name string
		drop func(netip.Addr) (int, error)
	}{
		{"DropSockets", node.OS{}.DropSockets},
		{"DropSocketsOf", func(a netip.Addr) (int, error) {
			return node.OS{}.DropSocketsOf([]netip.Addr{a, netip.MustParseAddr("198.51.100.250")})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) { testDropSockets6(t, tt.drop) })
	}
}

func testDropSockets6(t *testing.T, drop func(netip.Addr) (int, error)) {
	lab := netns.New(t, netns.Config{Nodes: 1})
	n := lab.Nodes[0]
	err := n.Do(func() error {
		ln6, err := net.Listen("tcp", "["+n.Addr6.String()+"]:0")
		if err != nil {
			return err
		}
		defer ln6.Close()
		ln4, err := net.Listen("tcp", n.Addr.String()+":0")
		if err != nil {
			return err
		}
		defer ln4.Close()
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for _, ln := range []net.Listener{ln6, ln4} {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return err
			}
			s, err := ln.Accept()
			if err != nil {
				return err
			}
			conns = append(conns, c, s)
		}
		dropped, err := drop(n.Addr6)
		if err != nil {
			return err
		}
		if dropped < 1 || dropped > 2 {
			t.Errorf("dropped %d sockets, want 1 or 2", dropped)
		}
		conns[0].SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := conns[0].Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.ECONNABORTED) && err != io.EOF {
			t.Errorf("read on a dropped IPv6 connection: %v, want it reset", err)
		}
		if _, err := conns[2].Write([]byte("x")); err != nil {
			t.Errorf("the IPv4 connection was dropped: %v", err)
		}
		conns[3].SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := conns[3].Read(make([]byte, 1)); err != nil {
			t.Errorf("the IPv4 connection was dropped: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
