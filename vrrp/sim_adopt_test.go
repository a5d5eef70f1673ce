package vrrp_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/vrrp"
)

// vipWatch samples who holds simVIP every millisecond of fake time,
// crashed hosts included: a crashed host's kernel still answers for its
// addresses, so for clients the VIP is there.
type vipWatch struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	absent  []time.Time          // samples when no host held it
	dropped map[string]time.Time // first sample at which a host no longer held it
	maxHold int                  // most hosts holding it at once
}

func watchVIP(s *sim, from time.Time) *vipWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &vipWatch{cancel: cancel, done: make(chan struct{}), dropped: map[string]time.Time{}}
	held := map[string]bool{}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			n := 0
			w.mu.Lock()
			for _, r := range s.routers {
				has := r.host.Addresser().Has(simVIP)
				if has {
					n++
				} else if held[r.name] {
					if _, ok := w.dropped[r.name]; !ok && !time.Now().Before(from) {
						w.dropped[r.name] = time.Now()
					}
				}
				held[r.name] = has
			}
			if n == 0 {
				w.absent = append(w.absent, time.Now())
			}
			w.maxHold = max(w.maxHold, n)
			w.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *vipWatch) stop() {
	w.cancel()
	<-w.done
}

// TestSimAdoptLeftoverVIP: the master is killed (its VIP stays, as after a
// SIGKILL of the daemon) and its supervisor restarts it 100 ms later with
// AdoptVIPs. The peer's Master_Down_Timer has not run out, so the restarted
// router must keep the VIP and stay master: the VIP is never absent and
// never held twice.
func TestSimAdoptLeftoverVIP(t *testing.T) {
	forVariants(t, func(t *testing.T, v simVariant, n int) {
		s := newSim(t, 11, variantConfigs(v, n, func(_ int, c *vrrp.Config) {
			c.NoPreempt = true // vipd's setup: state BACKUP, nopreempt
			c.Priority = 100
		})...)
		s.startAll()
		time.Sleep(10 * v.interval)
		old := s.checkOneMaster("before crash", nil)

		time.Sleep(v.interval / 2) // halfway between two adverts
		crashed := time.Now()
		w := watchVIP(s, crashed)
		old.crash()
		time.Sleep(100 * time.Millisecond)
		restarted := time.Now()
		old.cfg.AdoptVIPs = true
		old.start()
		time.Sleep(2 * time.Second)
		w.stop()

		s.checkOneMaster("2s after the restart", old)
		if len(w.absent) > 0 {
			t.Errorf("VIP absent %d ms of the run, first at %v after the crash", len(w.absent), w.absent[0].Sub(crashed))
		}
		if at, ok := w.dropped[old.name]; ok {
			t.Errorf("restarted master dropped the VIP %v after the crash", at.Sub(crashed))
		}
		if w.maxHold != 1 {
			t.Errorf("VIP held by %d hosts at once, want 1", w.maxHold)
		}
		for _, r := range s.routers {
			if r == old {
				continue
			}
			if ev, ok := s.takeover(r, crashed); ok {
				t.Errorf("%s became master %v after the crash", r.name, ev.Time.Sub(crashed))
			}
		}
		evs := s.eventsOf(old, restarted)
		if len(evs) != 2 || evs[1].To != vrrp.StateMaster || evs[1].Reason != "no master heard: kept leftover VIPs" {
			t.Errorf("restarted router's transitions %v, want BACKUP then MASTER (kept leftover VIPs)", evs)
		} else if d := evs[1].Time.Sub(evs[0].Time); d != vrrp.AdoptWindow(v.interval) {
			t.Errorf("master %v after restart, want AdoptWindow %v", d, vrrp.AdoptWindow(v.interval))
		}
		// It announced itself at once: an advert and a GARP.
		if as := old.host.Announcer().Announcements(); len(as) == 0 || as[len(as)-1].Time.Before(crashed) {
			t.Errorf("restarted master sent no GARP")
		}
	})
}

// TestSimAdoptAfterTakeover: the master is killed and restarts only after
// the peer took over, so both hold the VIP. The restarted router, with
// AdoptVIPs, hears the new master within one advert interval and drops it.
func TestSimAdoptAfterTakeover(t *testing.T) {
	forVariants(t, func(t *testing.T, v simVariant, n int) {
		s := newSim(t, 12, variantConfigs(v, n, func(_ int, c *vrrp.Config) {
			c.NoPreempt = true
			c.Priority = 100
		})...)
		s.startAll()
		time.Sleep(10 * v.interval)
		old := s.checkOneMaster("before crash", nil)
		old.crash()
		time.Sleep(vrrp.MasterDownInterval(100, v.interval) + 2*v.interval)
		next := s.checkOneMaster("after takeover", nil)
		if next == old || !old.host.Addresser().Has(simVIP) {
			t.Fatalf("setup: %s master, crashed host holds the VIP: %v", next.name, old.host.Addresser().Has(simVIP))
		}

		restarted := time.Now()
		w := watchVIP(s, restarted)
		old.cfg.AdoptVIPs = true
		old.start()
		time.Sleep(2 * time.Second)
		w.stop()

		at, ok := w.dropped[old.name]
		switch {
		case !ok:
			t.Errorf("restarted router never dropped the leftover VIP")
		case at.Sub(restarted) > v.interval:
			t.Errorf("leftover VIP dropped %v after the restart, want within one advert interval %v", at.Sub(restarted), v.interval)
		}
		if len(w.absent) > 0 {
			t.Errorf("VIP absent %d ms of the run", len(w.absent))
		}
		s.checkOneMaster("after the restart", next)
		if ev, ok := s.takeover(old, restarted); ok {
			t.Errorf("restarted router became master %v after the restart", ev.Time.Sub(restarted))
		}
	})
}

// adoptingRestart kills the settled master of a vipd-like pair (its VIP
// stays) and restarts it 100 ms later with AdoptVIPs and hold; it returns
// the sim, the restarted router and when it restarted.
func adoptingRestart(t *testing.T, v simVariant, n int, seed int64, hold time.Duration) (*sim, *simRouter, time.Time) {
	t.Helper()
	s := newSim(t, seed, variantConfigs(v, n, func(_ int, c *vrrp.Config) {
		c.NoPreempt, c.Priority, c.StrangerHold = true, 100, hold
	})...)
	s.startAll()
	time.Sleep(10 * v.interval)
	old := s.checkOneMaster("before crash", nil)
	time.Sleep(v.interval / 2)
	old.crash()
	time.Sleep(100 * time.Millisecond)
	old.cfg.AdoptVIPs = true
	old.start()
	return s, old, time.Now()
}

// TestSimAdoptingLeaves: a restarted router still listening with the
// leftover VIP is, for clients, the master; stopped (or faulted) inside the
// window it leaves as one, with priority 0, so a peer takes over after
// Skew_Time, not Master_Down_Interval from the crashed run's last advert
// (the soak's outages of 1.7–2.8 s on daemon-term, nginx-break and
// nginx-hang right after a restart).
func TestSimAdoptingLeaves(t *testing.T) {
	forVariants(t, func(t *testing.T, v simVariant, n int) {
		s, old, _ := adoptingRestart(t, v, n, 21, 0)
		time.Sleep(vrrp.AdoptWindow(v.interval) / 3)
		stopped := time.Now()
		w := watchVIP(s, stopped)
		old.stop()
		time.Sleep(vrrp.MasterDownInterval(100, v.interval) + v.interval)
		w.stop()
		next := s.checkOneMaster("after the stop", nil)
		if next == nil {
			return
		}
		ev, ok := s.takeover(next, stopped)
		if !ok {
			t.Fatalf("nobody took over after the stop")
		}
		// Skew_Time plus a little: well under Master_Down_Interval.
		if d, limit := ev.Time.Sub(stopped), vrrp.Version2.SkewTime(100, v.interval)+v.interval/2; d > limit {
			t.Errorf("%s took over %v after the adopting router stopped, want within %v (priority 0)", next.name, d, limit)
		}
		if len(w.absent) > 0 && w.absent[len(w.absent)-1].Sub(w.absent[0]) > vrrp.Version2.SkewTime(100, v.interval)+v.interval/2 {
			t.Errorf("VIP absent for %v", w.absent[len(w.absent)-1].Sub(w.absent[0]))
		}
	})
}

// TestSimAdoptingHoldsStranger: a stranger's higher adverts that begin
// while the restarted router listens with the leftover VIP are held off
// as a master holds them (the soak's hostile-stranger faults right after a
// restart: the restarted router, knowing no peer yet, followed the
// stranger, and nobody held the VIP).
func TestSimAdoptingHoldsStranger(t *testing.T) {
	forVariants(t, func(t *testing.T, v simVariant, n int) {
		s, old, restarted := adoptingRestart(t, v, n, 22, 10*time.Second)
		w := watchVIP(s, restarted)
		s.strange(v, 255, 4*time.Second)
		synctest.Wait()
		w.stop()
		if len(w.absent) > 0 {
			t.Errorf("VIP absent %d ms of the run, first at %v after the restart", len(w.absent), w.absent[0].Sub(restarted))
		}
		if at, ok := w.dropped[old.name]; ok {
			t.Errorf("restarted router dropped the VIP %v after the restart", at.Sub(restarted))
		}
		s.checkOneMaster("after the burst", old)
	})
}
