package vrrptest

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vipkit/vip/vrrp"
)

// A TestAddresser is a vrrp.Addresser that records the addresses present.
// It is safe for concurrent use; the zero value is ready.
type TestAddresser struct {
	mu     sync.Mutex
	addrs  []netip.Prefix
	err    error
	frozen bool // the host crashed: its router changes nothing
}

var _ vrrp.Addresser = (*TestAddresser)(nil)

// NewTestAddresser returns an addresser with no addresses.
func NewTestAddresser() *TestAddresser { return &TestAddresser{} }

// AddAddress adds p if it is not present.
func (a *TestAddresser) AddAddress(p netip.Prefix) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	if !a.frozen && !slices.Contains(a.addrs, p) {
		a.addrs = append(a.addrs, p)
	}
	return nil
}

// RemoveAddress removes p if it is present.
func (a *TestAddresser) RemoveAddress(p netip.Prefix) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	if !a.frozen {
		a.addrs = slices.DeleteFunc(a.addrs, func(q netip.Prefix) bool { return q == p })
	}
	return nil
}

// HasAddress reports whether p is present.
func (a *TestAddresser) HasAddress(p netip.Prefix) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return false, a.err
	}
	return slices.Contains(a.addrs, p), nil
}

// ListAddresses returns the addresses present, as a kernel's dump does
// (failing as SetError says).
func (a *TestAddresser) ListAddresses() ([]netip.Prefix, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return nil, a.err
	}
	return slices.Clone(a.addrs), nil
}

// Has reports whether p is present, whatever SetError says.
func (a *TestAddresser) Has(p netip.Prefix) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Contains(a.addrs, p)
}

// Addresses returns the addresses present, in the order they were added.
func (a *TestAddresser) Addresses() []netip.Prefix {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.addrs)
}

// SetError makes every later call fail with err (nil: succeed again),
// changing nothing.
func (a *TestAddresser) SetError(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

func (a *TestAddresser) freeze(f bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.frozen = f
}

// An Announcement is one gratuitous ARP.
type Announcement struct {
	Time time.Time
	Addr netip.Addr
}

// A TestAnnouncer is a vrrp.Announcer that records announcements with the
// time they were made. It is safe for concurrent use; the zero value is
// ready.
type TestAnnouncer struct {
	mu     sync.Mutex
	list   []Announcement
	err    error
	frozen bool
}

var _ vrrp.Announcer = (*TestAnnouncer)(nil)

// NewTestAnnouncer returns an announcer with nothing recorded.
func NewTestAnnouncer() *TestAnnouncer { return &TestAnnouncer{} }

// Announce records an announcement of addr now.
func (a *TestAnnouncer) Announce(addr netip.Addr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	if !a.frozen {
		a.list = append(a.list, Announcement{Time: time.Now(), Addr: addr})
	}
	return nil
}

// Announcements returns the announcements so far, oldest first.
func (a *TestAnnouncer) Announcements() []Announcement {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.list)
}

// SetError makes every later Announce fail with err (nil: succeed again).
func (a *TestAnnouncer) SetError(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

func (a *TestAnnouncer) freeze(f bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.frozen = f
}
