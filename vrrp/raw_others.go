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
var errUnimplemented = errors.New("vrrp: raw sockets, VIP addresses and gratuitous ARP are only supported on Linux, not " + runtime.GOOS)

// ListenConfig says how Listen sets up the socket. See raw_linux.go.
type ListenConfig struct {
	Family Family
	Source netip.Addr
	Peers  []netip.Addr
	VRIDs  []uint8
}

// IPConn is a Conn over a raw protocol-112 socket (Linux only).
type IPConn struct{}

var _ Conn = (*IPConn)(nil)

// Listen returns errUnimplemented outside Linux.
func Listen(ifname string, cfg ListenConfig) (*IPConn, error) { return nil, errUnimplemented }

func (*IPConn) ReadFrom([]byte) (int, PacketInfo, error)       { return 0, PacketInfo{}, errUnimplemented }
func (*IPConn) WriteTo([]byte, netip.Addr) error               { return errUnimplemented }
func (*IPConn) WriteFrom([]byte, netip.Addr, netip.Addr) error { return errUnimplemented }
func (*IPConn) SetVRIDs([]uint8) error                         { return errUnimplemented }
func (*IPConn) Family() Family                                 { return IPv4 }
func (*IPConn) SetReadDeadline(time.Time) error                { return errUnimplemented }
func (*IPConn) Close() error                                   { return errUnimplemented }
