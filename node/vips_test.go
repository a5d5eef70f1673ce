package node

import (
	"log/slog"
	"net/netip"
	"slices"
	"testing"

	"github.com/vipkit/vip/vrrp"
)

// dropSystem is a System whose VIPs live in a set and which records the
// addresses whose connections it was asked to drop.
type dropSystem struct {
	System // unused methods
	held   map[netip.Prefix]bool
	drops  []string
}

func (s *dropSystem) Addresser(string, map[netip.Prefix]string) (vrrp.Addresser, error) {
	return setAddresser{s.held}, nil
}
func (s *dropSystem) Announcer(string) (vrrp.Announcer, error) { return nopAnnouncer{}, nil }
func (s *dropSystem) DropSockets(a netip.Addr) (int, error) {
	s.drops = append(s.drops, a.String())
	return 1, nil
}

type setAddresser struct{ held map[netip.Prefix]bool }

func (a setAddresser) AddAddress(p netip.Prefix) error         { a.held[p] = true; return nil }
func (a setAddresser) RemoveAddress(p netip.Prefix) error      { delete(a.held, p); return nil }
func (a setAddresser) HasAddress(p netip.Prefix) (bool, error) { return a.held[p], nil }

// Connections bound to a VIP are dropped when it goes, and before it comes
// unless it is already here: then they are live (a VIP kept across a
// restart, or added again by a retry).
func TestVIPsDropSockets(t *testing.T) {
	p := netip.MustParsePrefix("198.51.100.100/24")
	sys := &dropSystem{held: map[netip.Prefix]bool{}}
	v, err := openVIPs(sys, []vipSpec{{Prefix: p, Dev: "eth0"}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		do   func(netip.Prefix) error
		what string
		want int // drops so far
	}{
		{v.AddAddress, "take the VIP", 1},
		{v.AddAddress, "add it again while held", 1},
		{v.RemoveAddress, "give it up", 2},
		{v.AddAddress, "take it back", 3},
	}
	for _, s := range steps {
		if err := s.do(p); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		if len(sys.drops) != s.want {
			t.Errorf("%s: %d drops so far, want %d", s.what, len(sys.drops), s.want)
		}
	}
	if !slices.Equal(slices.Compact(sys.drops), []string{"198.51.100.100"}) {
		t.Errorf("dropped on %q, want only the VIP", sys.drops)
	}
}
