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
	v, err := openVIPs(newVIPSockets(sys), sys, []vipSpec{{Prefix: p, Dev: "eth0"}}, slog.New(slog.DiscardHandler))
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

// countSystem counts the Addressers and Announcers it opens and closes.
type countSystem struct {
	dropSystem
	opened, closed int
}

type closingAddresser struct {
	setAddresser
	s *countSystem
}

func (a closingAddresser) Close() error { a.s.closed++; return nil }

func (s *countSystem) Addresser(string, map[netip.Prefix]string) (vrrp.Addresser, error) {
	s.opened++
	return closingAddresser{setAddresser{s.held}, s}, nil
}

// Instances on one interface share its VIP sockets: opened with the first,
// closed with the last, labels of all of them on the one Addresser.
func TestVIPSocketsShared(t *testing.T) {
	sys := &countSystem{dropSystem: dropSystem{held: map[netip.Prefix]bool{}}}
	socks := newVIPSockets(sys)
	log := slog.New(slog.DiscardHandler)
	a, b := netip.MustParsePrefix("198.51.100.51/32"), netip.MustParsePrefix("198.51.100.52/32")
	va, err := openVIPs(socks, nil, []vipSpec{{Prefix: a, Dev: "eth0", Label: "eth0:a"}}, log)
	if err != nil {
		t.Fatal(err)
	}
	vb, err := openVIPs(socks, nil, []vipSpec{{Prefix: b, Dev: "eth0", Label: "eth0:b"}, {Prefix: a, Dev: "eth1"}}, log)
	if err != nil {
		t.Fatal(err)
	}
	if sys.opened != 2 || socks.count() != 2 {
		t.Fatalf("opened %d Addressers on %d interfaces, want 2 on 2", sys.opened, socks.count())
	}
	if got := socks.open["eth0"].labels; len(got) != 2 || got[a] != "eth0:a" || got[b] != "eth0:b" {
		t.Errorf("eth0's labels are %v, want both instances'", got)
	}
	if err := vb.AddAddress(b); err != nil || !sys.held[b] {
		t.Errorf("AddAddress through the shared Addresser: %v, held %v", err, sys.held[b])
	}
	for i, v := range []*vips{va, vb} {
		if err := v.Close(); err != nil {
			t.Fatal(err)
		}
		if want := []int{0, 2}[i]; sys.closed != want {
			t.Errorf("after %d closes, %d Addressers closed, want %d", i+1, sys.closed, want)
		}
	}
	if socks.count() != 0 {
		t.Errorf("%d interfaces still open", socks.count())
	}
}
