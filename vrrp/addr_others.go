//go:build !linux

package vrrp

import "net/netip"

// LinkAddresser adds and removes VIPs on an interface (Linux only).
type LinkAddresser struct {
	// Labels optionally gives an address label per VIP (keepalived's `label`).
	Labels map[netip.Prefix]string
}

var _ Addresser = (*LinkAddresser)(nil)

// NewAddresser returns errUnimplemented outside Linux.
func NewAddresser(ifname string) (*LinkAddresser, error) { return nil, errUnimplemented }

func (*LinkAddresser) AddAddress(netip.Prefix) error          { return errUnimplemented }
func (*LinkAddresser) RemoveAddress(netip.Prefix) error       { return errUnimplemented }
func (*LinkAddresser) HasAddress(netip.Prefix) (bool, error)  { return false, errUnimplemented }
func (*LinkAddresser) ListAddresses() ([]netip.Prefix, error) { return nil, errUnimplemented }
func (*LinkAddresser) Close() error                           { return errUnimplemented }
