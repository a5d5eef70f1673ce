package vrrp_test

import (
	"testing"
	"time"

	"github.com/vipkit/vip/vrrp"
)

// Leave gives a master up at once while Run goes on: the VIP is gone and
// its priority 0 sent by the time Leave returns, the peer takes over after
// Skew_Time, and the instance stays in INIT (no advert sent, no command
// obeyed) until its context is done. Run then returns nil without a second
// priority 0.
func TestSimLeave(t *testing.T) {
	forVariants(t, func(t *testing.T, v simVariant, n int) {
		s := newSim(t, 9, variantConfigs(v, n, nil)...)
		s.startAll()
		time.Sleep(10 * v.interval)
		old := s.checkOneMaster("before leave", s.routers[0])
		time.Sleep(v.interval / 2)
		left := time.Now()
		old.inst.Leave()
		if old.host.Addresser().Has(simVIP) {
			t.Errorf("left master still holds the VIP")
		}
		zeros := func() (z, all int) {
			for _, p := range s.net.Packets() {
				if p.Src == old.cfg.Primary {
					all++
					if p.Payload[2] == 0 {
						z++
					}
				}
			}
			return z, all
		}
		z0, all0 := zeros()
		if z0 == 0 {
			t.Fatalf("no priority-0 advert when Leave returned")
		}
		old.inst.Leave() // again: no effect, returns
		old.inst.Resume()
		old.inst.Fault("after leaving")
		next := s.routers[1]
		skew := vrrp.SkewTime(next.cfg.Priority, v.interval)
		time.Sleep(skew + 5*v.interval)
		if ms := s.masters(); len(ms) != 1 || ms[0] != next {
			t.Errorf("masters after leave: %v, want [%s]", s.names(ms), next.name)
		}
		if ev, _ := s.takeover(next, left); ev.Time.Sub(left) > skew+time.Millisecond {
			t.Errorf("takeover %v after Leave, want within Skew_Time %v", ev.Time.Sub(left), skew)
		}
		if st := old.inst.Status().State; st != vrrp.StateInit {
			t.Errorf("left instance %v, want INIT until Run returns", st)
		}
		old.stop()
		if z, all := zeros(); z != z0 || all != all0 {
			t.Errorf("left instance sent %d more adverts (%d of priority 0)", all-all0, z-z0)
		}
		if evs := s.eventsOf(old, left); len(evs) != 1 || evs[0].To != vrrp.StateInit {
			t.Errorf("left instance's transitions %+v, want one, to INIT", evs)
		}
	})
}
