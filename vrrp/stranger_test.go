package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

// TestStrangers: the multicast stranger rule, advert by advert.
func TestStrangers(t *testing.T) {
	peer, other := netip.MustParseAddr("198.51.100.12"), netip.MustParseAddr("198.51.100.50")
	const md = 3 * time.Second // Master_Down_Interval
	t0 := time.Unix(1000, 0)
	type advert struct {
		at     time.Duration
		src    netip.Addr
		prio   uint8
		st     State
		higher bool
		want   verdict
	}
	tests := []struct {
		name    string
		hold    time.Duration
		adverts []advert
	}{
		{"backup trusts the first master, then holds a stranger off while it speaks", 10 * time.Second, []advert{
			{0, peer, 100, StateBackup, false, obey},
			{time.Second, other, 255, StateBackup, true, strangeHeld},
			{2 * time.Second, peer, 100, StateBackup, false, obey},
			{3 * time.Second, other, 255, StateBackup, true, strangeHeld},
		}},
		{"backup follows the successor of a silent master", 10 * time.Second, []advert{
			{0, peer, 100, StateBackup, false, obey},
			{4 * time.Second, other, 90, StateBackup, false, strangeHeld}, // its own timer fires first
			{7 * time.Second, other, 90, StateBackup, false, obey},
		}},
		{"master holds a higher stranger off for the hold, then obeys it", 10 * time.Second, []advert{
			{0, other, 255, StateMaster, true, strangeHeld},
			{3 * time.Second, other, 255, StateMaster, true, strangeHeld},
			{6 * time.Second, other, 255, StateMaster, true, strangeHeld},
			{9 * time.Second, other, 255, StateMaster, true, strangeHeld},
			{10 * time.Second, other, 255, StateMaster, true, strange},
			{11 * time.Second, other, 255, StateBackup, true, obey},
		}},
		{"a gap longer than Master_Down_Interval starts the hold again", 4 * time.Second, []advert{
			{0, other, 255, StateMaster, true, strangeHeld},
			{3 * time.Second, other, 255, StateMaster, true, strangeHeld},
			{7 * time.Second, other, 255, StateMaster, true, strangeHeld}, // gap 4 s > 3 s
			{10 * time.Second, other, 255, StateMaster, true, strangeHeld},
			{11 * time.Second, other, 255, StateMaster, true, strange},
		}},
		{"master yields at once in a startup race of equal priorities and learns a lower master", 10 * time.Second, []advert{
			{0, peer, 100, StateMaster, false, obey},
			{time.Second, other, 50, StateMaster, false, obey},
			{2 * time.Second, other, 255, StateMaster, true, obey}, // learned
		}},
		{"master yields at once to a stranger of its priority and a higher address", 10 * time.Second, []advert{
			{0, other, 100, StateMaster, false, obey},
		}},
		{"a stranger's priority 0 is ignored", 10 * time.Second, []advert{
			{0, other, 0, StateMaster, false, strangeHeld},
		}},
		{"no hold: obeyed at once, counted once", 0, []advert{
			{0, peer, 100, StateBackup, false, obey},
			{time.Second, other, 255, StateBackup, true, strange},
			{2 * time.Second, other, 255, StateBackup, true, obey},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := strangers{hold: tt.hold}
			for i, a := range tt.adverts {
				if got := s.judge(t0.Add(a.at), a.src, a.prio, a.st, a.higher, md); got != a.want {
					t.Errorf("advert %d (%v from %v in %v): verdict %d, want %d", i, a.at, a.src, a.st, got, a.want)
				}
			}
		})
	}
}
