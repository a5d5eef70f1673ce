//go:build !linux

package vrrp

import "net/netip"

// ARPAnnouncer sends gratuitous ARP on an interface (Linux only).
type ARPAnnouncer struct{}

var _ Announcer = (*ARPAnnouncer)(nil)

// NewAnnouncer returns errUnimplemented outside Linux.
func NewAnnouncer(ifname string) (*ARPAnnouncer, error) { return nil, errUnimplemented }

func (*ARPAnnouncer) Announce(netip.Addr) error { return errUnimplemented }
func (*ARPAnnouncer) Close() error              { return errUnimplemented }
