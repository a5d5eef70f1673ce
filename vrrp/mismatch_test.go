package vrrp

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAddressMismatch: an advert's addresses are compared with ours as a
// set; a difference is counted, kept for Status and logged naming what each
// side lacks, and the advert is still obeyed.
func TestAddressMismatch(t *testing.T) {
	a, b, c := netip.MustParseAddr("198.51.100.100"), netip.MustParseAddr("198.51.100.101"), netip.MustParseAddr("198.51.100.102")
	pa, pb := netip.PrefixFrom(a, 24), netip.PrefixFrom(b, 24)
	tests := []struct {
		name               string
		ours               []netip.Prefix
		theirs             []netip.Addr
		mismatch           bool
		onlyPeer, onlyHere string // in the WARN
	}{
		{"same", []netip.Prefix{pa, pb}, []netip.Addr{a, b}, false, "", ""},
		{"same set, other order", []netip.Prefix{pa, pb}, []netip.Addr{b, a}, false, "", ""},
		{"same set, repeated", []netip.Prefix{pa, pb}, []netip.Addr{b, a, b}, false, "", ""},
		{"peer lacks one", []netip.Prefix{pa, pb}, []netip.Addr{a}, true, "[]", "[198.51.100.101]"},
		{"peer has an extra", []netip.Prefix{pa}, []netip.Addr{c, a}, true, "[198.51.100.102]", "[]"},
		{"both differ", []netip.Prefix{pa, pb}, []netip.Addr{c, a}, true, "[198.51.100.102]", "[198.51.100.101]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Addresses = tt.ours
			h := newHarness(t, cfg)
			i := h.inst
			now := time.Now()
			i.step(now, input{kind: inStartup})
			adv := Advertisement{Version: Version2, VRID: 60, Priority: 150, Interval: time.Second, Addresses: tt.theirs}
			pkt, err := adv.Append(nil, testMaster, Group)
			if err != nil {
				t.Fatal(err)
			}
			dec := Advertisement{Addresses: make([]netip.Addr, 0, MaxAddresses)}
			r := i.accept(pkt, PacketInfo{Src: testMaster, Dst: Group, TTL: TTL}, &dec)
			if r.drop != DropNone {
				t.Fatalf("dropped: %v", r.drop)
			}
			i.receive(now, r)
			i.publish()
			s := i.Status()
			if s.Stats.AdvertRcvd != 1 || s.Master != testMaster {
				t.Errorf("advert not obeyed: received %d, master %v", s.Stats.AdvertRcvd, s.Master)
			}
			want := uint64(0)
			if tt.mismatch {
				want = 1
			}
			if s.Stats.AddressMismatch != want {
				t.Fatalf("AddressMismatch %d, want %d", s.Stats.AddressMismatch, want)
			}
			logs := strings.Join(h.log.lines(""), "\n")
			if !tt.mismatch {
				if s.MismatchPeer.IsValid() || s.MismatchAddresses != nil || !s.MismatchAt.IsZero() || strings.Contains(logs, "virtual addresses") {
					t.Errorf("mismatch recorded: %v %v %v, log %q", s.MismatchPeer, s.MismatchAddresses, s.MismatchAt, logs)
				}
				return
			}
			sorted := slices.Compact(slices.SortedFunc(slices.Values(tt.theirs), netip.Addr.Compare))
			if s.MismatchPeer != testMaster || !slices.Equal(s.MismatchAddresses, sorted) || !s.MismatchAt.Equal(now) {
				t.Errorf("Status: peer %v addresses %v at %v, want %v %v %v", s.MismatchPeer, s.MismatchAddresses, s.MismatchAt, testMaster, sorted, now)
			}
			for _, w := range []string{"level=WARN", "only_peer=" + tt.onlyPeer, "only_here=" + tt.onlyHere} {
				if !strings.Contains(logs, w) {
					t.Errorf("log lacks %q: %q", w, logs)
				}
			}
		})
	}
}
