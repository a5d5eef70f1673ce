//go:build !linux

package vrrp

import (
	"errors"
	"net/netip"
	"runtime"
	"time"
)

// errUnimplemented is returned by the OS-facing constructors where only
// Linux is supported, so the engine and the UI still build and test here.
var errUnimplemented = errors.New("vrrp: not implemented on " + runtime.GOOS)

// ListenConfig says how Listen sets up the socket. See raw_linux.go.
type ListenConfig struct {
	// Source is the router's primary IPv4 address on the interface.
	Source netip.Addr
	// Peers, when not empty, selects unicast mode.
	Peers []netip.Addr
}

// IPConn is a Conn over a raw IPv4 protocol-112 socket (Linux only).
type IPConn struct{}

var _ Conn = (*IPConn)(nil)

// Listen returns errUnimplemented outside Linux.
func Listen(ifname string, cfg ListenConfig) (*IPConn, error) { return nil, errUnimplemented }

func (*IPConn) ReadFrom([]byte) (int, PacketInfo, error) { return 0, PacketInfo{}, errUnimplemented }
func (*IPConn) WriteTo([]byte, netip.Addr) error         { return errUnimplemented }
func (*IPConn) SetReadDeadline(time.Time) error          { return errUnimplemented }
func (*IPConn) Close() error                             { return errUnimplemented }
