package ui

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
)

// A node that heard its peer advertise other VIPs than its own shows a
// banner naming both lists, one per node, until strangerRecent has passed;
// the node's details count the adverts.
func TestVIPListMismatchBanner(t *testing.T) {
	tests := []struct {
		name  string
		heard []time.Duration // by node, since the last differing advert; <0: none
		want  []string
	}{
		{"backup hears the master's new list", []time.Duration{-1, time.Second},
			[]string{"VIP LIST MISMATCH VI_1: peer 198.51.100.11 advertises 198.51.100.100 198.51.100.101, nginx-02 has 198.51.100.100"}},
		{"both heard the other", []time.Duration{2 * time.Second, time.Second},
			[]string{"VIP LIST MISMATCH VI_1: peer 198.51.100.12 advertises 198.51.100.100 198.51.100.101, nginx-01 has 198.51.100.100",
				"VIP LIST MISMATCH VI_1: peer 198.51.100.11 advertises 198.51.100.100 198.51.100.101, nginx-02 has 198.51.100.100"}},
		{"long ago", []time.Duration{-1, strangerRecent + time.Second}, nil},
	}
	peers := []netip.Addr{addr2, addr1}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			l.resize(140, 40) // two lists do not fit in 80 columns: the banner is cut there
			l.steady()
			for i, st := range []control.State{control.StateMaster, control.StateBackup} {
				in := l.instance(st, 100, st == control.StateMaster)
				if ago := tt.heard[i]; ago >= 0 {
					in.MismatchPeer, in.MismatchAt = peers[i], t0.Add(-ago)
					in.MismatchAddresses = []netip.Addr{netip.MustParseAddr("198.51.100.100"), netip.MustParseAddr("198.51.100.101")}
					in.Stats.AddressMismatch = 5
				}
				l.send(i, Update{Status: status(l.name(i), in)})
			}
			screen := l.screen()
			if tt.want == nil {
				lacks(t, screen, "VIP LIST MISMATCH")
				return
			}
			contains(t, screen, tt.want...)
			if tt.heard[0] < 0 {
				l.apply(press("tab")) // the details of the node that heard it
			}
			l.apply(press("enter"))
			contains(t, l.screen(), "vip list mismatches")
		})
	}
}
