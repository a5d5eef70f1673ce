package vrrp_test

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/vrrp"
	"github.com/vipkit/vip/vrrp/vrrptest"
)

// strangerAddr is a host of the segment that is not a router of the sim.
var strangerAddr = netip.MustParseAddr("198.51.100.50")

// strangerPair starts n routers as vipd runs them (nopreempt, priority
// 100) with hold, and returns the sim and its master once settled (nil, and
// the test failed, if there is not exactly one).
func strangerPair(t *testing.T, v simVariant, n int, seed int64, hold time.Duration) (*sim, *simRouter) {
	t.Helper()
	s := newSim(t, seed, variantConfigs(v, n, func(_ int, c *vrrp.Config) {
		c.NoPreempt, c.Priority = true, 100
		c.StrangerHold = hold
	})...)
	s.startAll()
	// Routers started together may all be masters for a moment; a backup
	// that obeyed one that then stepped down holds the winner off as a
	// stranger for the hold before it follows it.
	time.Sleep(10*v.interval + hold)
	return s, s.checkOneMaster("settled", nil)
}

// isRouter says whether a is one of the sim's routers.
func (s *sim) isRouter(a netip.Addr) bool {
	for _, r := range s.routers {
		if r.cfg.Primary == a {
			return true
		}
	}
	return false
}

// strange injects a stranger's adverts (our VRID, priority prio) every
// interval for d, as the chaos fault hostile-stranger sends them.
func (s *sim) strange(v simVariant, prio uint8, d time.Duration) {
	s.t.Helper()
	a := vrrp.Advertisement{Version: v.version, VRID: 60, Priority: prio, Interval: v.interval,
		Addresses: []netip.Addr{simVIP.Addr()}}
	b, err := a.Append(nil, strangerAddr, vrrp.Group)
	if err != nil {
		s.t.Fatal(err)
	}
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(v.interval) {
		s.net.Inject(vrrptest.Packet{Src: strangerAddr, Dst: vrrp.Group, TTL: vrrp.TTL, Payload: b})
	}
}

// TestSimStranger: a host that is not a peer sends well-formed priority-255
// adverts to the group. With a StrangerHold, a burst shorter than it moves
// nothing (the master keeps the VIP, the backups keep following it) and is
// counted and shown on every router; one that lasts longer is obeyed, as a
// peer never heard before must be. Without one (the engine's default, RFC
// 5798), the master steps down at the first advert, as issue 13 measured.
func TestSimStranger(t *testing.T) {
	const hold = 5 * time.Second
	tests := []struct {
		name     string
		hold     time.Duration
		burst    time.Duration
		stepDown bool // the master steps down for the stranger
	}{
		{"burst held off", hold, hold - time.Second, false},
		{"persistent stranger obeyed after the hold", hold, hold + 2*time.Second, true},
		{"no hold: obeyed at once", 0, 2 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forVariants(t, func(t *testing.T, v simVariant, n int) {
				s, m := strangerPair(t, v, n, 13, tt.hold)
				if m == nil {
					return
				}
				t0 := time.Now()
				s.strange(v, 255, tt.burst)
				synctest.Wait()
				stepped := false
				for _, e := range s.eventsOf(m, t0) {
					if e.From == vrrp.StateMaster {
						stepped = true
					}
				}
				if stepped != tt.stepDown {
					t.Errorf("master %s stepped down: %v, want %v (events %v)", m.name, stepped, tt.stepDown, s.eventsOf(m, t0))
				}
				if !tt.stepDown {
					s.checkOneMaster("after the burst", m)
					if h := s.net.Holders(simVIP); len(h) != 1 || h[0] != m.cfg.Primary {
						t.Errorf("VIP holders %v, want %s only", h, m.name)
					}
				}
				for _, r := range s.routers {
					st := r.inst.Status()
					// A peer this router never heard as master before
					// the burst (it lost no startup race to it) is a
					// stranger too when it takes over during the burst.
					if st.Stats.Strangers == 0 || st.Stranger != strangerAddr && !s.isRouter(st.Stranger) || st.StrangerAt.Before(t0) {
						t.Errorf("%s: %d stranger adverts, last %v at %v; want the stranger counted", r.name, st.Stats.Strangers, st.Stranger, st.StrangerAt)
					}
				}
			})
		})
	}
}

// TestSimStrangerStartupRace: routers whose timers run out together (started
// together) each become master before hearing the other; with a
// StrangerHold the loser must still yield at once, not hold the other off as
// a stranger.
func TestSimStrangerStartupRace(t *testing.T) {
	forVariants(t, func(t *testing.T, v simVariant, n int) {
		s := newSim(t, 17, variantConfigs(v, n, func(_ int, c *vrrp.Config) {
			c.NoPreempt, c.Priority = true, 100
			c.StrangerHold = vrrp.DefaultStrangerHold
		})...)
		s.startAll()
		// With three, a loser may first follow the other loser, then hold
		// the winner off as a stranger until that one is silent for
		// Master_Down_Interval: one more interval to settle.
		time.Sleep(2*v.version.MasterDownInterval(100, v.interval) + 3*v.interval)
		s.checkOneMaster("after the startup race", nil)
		for _, r := range s.routers {
			if n := r.inst.Status().Stats.Strangers; n != 0 && len(s.routers) == 2 {
				t.Errorf("%s counted %d stranger adverts from its peer", r.name, n)
			} else if n != 0 {
				t.Logf("%s counted %d stranger adverts in a race of three", r.name, n)
			}
		}
	})
}

// TestSimStrangerAfterTakeover: the stranger starts the moment a backup has
// taken over from a crashed master (the chaos seed that found the
// fresh-master exception: the new master obeyed it, learned it, and lost
// the VIP to it in every later burst). The new master keeps the VIP.
func TestSimStrangerAfterTakeover(t *testing.T) {
	forVariants(t, func(t *testing.T, v simVariant, n int) {
		s, old := strangerPair(t, v, n, 19, vrrp.DefaultStrangerHold)
		if old == nil {
			return
		}
		old.crash()
		_ = old.host.Addresser().RemoveAddress(simVIP) // as a reboot leaves it
		t0 := time.Now()
		var m *simRouter
		for range 1000 {
			time.Sleep(v.interval / 20)
			if ms := s.masters(); len(ms) == 1 {
				m = ms[0]
				break
			}
		}
		if m == nil {
			t.Fatal("no takeover")
		}
		t1 := time.Now()
		for range 2 { // two bursts: a stranger learned in the first wins the second
			s.strange(v, 255, 4*time.Second)
			time.Sleep(time.Second)
		}
		synctest.Wait()
		for _, e := range s.eventsOf(m, t1) {
			if e.From == vrrp.StateMaster {
				t.Errorf("%s, master since %v after the crash, stepped down: %+v", m.name, t1.Sub(t0), e)
			}
		}
		s.checkOneMaster("after the bursts", m)
	})
}
