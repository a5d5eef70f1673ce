package vrrp_test

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

// TestSimRollingVIPChange: a VIP is added to a pair one node at a time. The
// master goes first: restarted with the new list, it hears the backup (now
// master) advertise the old one, then preempts and the backup hears the new
// one, so both count the mismatch and nothing else moves; once the backup has
// the new list too, neither counts any more.
func TestSimRollingVIPChange(t *testing.T) {
	extra := netip.MustParsePrefix("198.51.100.101/24")
	for _, v := range simVariants {
		t.Run(v.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSim(t, 6, variantConfigs(v, 2, nil)...)
				s.startAll()
				time.Sleep(10 * v.interval)
				r1, r2 := s.routers[0], s.routers[1]
				s.checkOneMaster("settled", r1)
				mismatches := func() (uint64, uint64) {
					return r1.inst.Status().Stats.AddressMismatch, r2.inst.Status().Stats.AddressMismatch
				}
				if a, b := mismatches(); a != 0 || b != 0 {
					t.Fatalf("mismatches before the change: %d, %d", a, b)
				}

				r1.stop()
				r1.cfg.Addresses = []netip.Prefix{simVIP, extra}
				time.Sleep(10 * v.interval)
				r1.start()
				time.Sleep(10 * v.interval)
				s.checkOneMaster("first node changed", r1)
				a, b := mismatches()
				if a == 0 || b == 0 {
					t.Fatalf("mismatches with one node changed: %d, %d; want both counted", a, b)
				}
				if st := r2.inst.Status(); st.MismatchPeer != r1.cfg.Primary || len(st.MismatchAddresses) != 2 {
					t.Errorf("%s: mismatch peer %v addresses %v, want %v with 2", r2.name, st.MismatchPeer, st.MismatchAddresses, r1.cfg.Primary)
				}
				if st := r1.inst.Status(); st.MismatchPeer != r2.cfg.Primary || len(st.MismatchAddresses) != 1 {
					t.Errorf("%s: mismatch peer %v addresses %v, want %v with 1", r1.name, st.MismatchPeer, st.MismatchAddresses, r2.cfg.Primary)
				}
				time.Sleep(10 * v.interval)
				if a2, b2 := mismatches(); a2 != a || b2 <= b {
					t.Errorf("while the backup still has the old list: %d→%d, %d→%d; want only the backup's to grow", a, a2, b, b2)
				}

				r2.stop()
				r2.cfg.Addresses = []netip.Prefix{extra, simVIP} // another order: the same set
				r2.start()
				time.Sleep(10 * v.interval)
				s.checkOneMaster("both changed", r1)
				a, _ = mismatches()
				b = r2.inst.Status().Stats.AddressMismatch
				time.Sleep(20 * v.interval)
				if a2, b2 := mismatches(); a2 != a || b2 != b || b2 != 0 {
					t.Errorf("after both changed: %d→%d, %d→%d; want no more", a, a2, b, b2)
				}
				s.checkVIPs("both changed")
			})
		})
	}
}
