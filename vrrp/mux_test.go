package vrrp_test

import (
	"context"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/vrrp"
	"github.com/vipkit/vip/vrrp/vrrptest"
	"golang.org/x/sync/errgroup"
)

// Two nodes, each with one socket (a Mux) for all its instances: node A
// runs VRIDs 1 and 2, node B VRIDs 1 and 3. VRID 1 elects one master; the
// adverts of B's VRID 3 reach A's socket but are no instance's drops, and
// A's VRID 2 sees nothing of VRID 1 or 3. Over IPv4 and IPv6.
func TestMuxSharesOneSocket(t *testing.T) {
	for _, tt := range []struct {
		name     string
		a, b     netip.Addr
		vip1     netip.Prefix
		vip2     netip.Prefix
		vip3     netip.Prefix
		wantDst  netip.Addr
		wantFrom netip.Addr
	}{
		{"IPv4", netip.MustParseAddr("198.51.100.11"), netip.MustParseAddr("198.51.100.12"),
			netip.MustParsePrefix("198.51.100.101/32"), netip.MustParsePrefix("198.51.100.102/32"), netip.MustParsePrefix("198.51.100.103/32"),
			vrrp.Group, netip.MustParseAddr("198.51.100.12")},
		{"IPv6", netip.MustParseAddr("fe80::11"), netip.MustParseAddr("fe80::12"),
			netip.MustParsePrefix("2001:db8::101/128"), netip.MustParsePrefix("2001:db8::102/128"), netip.MustParsePrefix("2001:db8::103/128"),
			vrrp.Group6, netip.MustParseAddr("fe80::12")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := vrrptest.NewNetwork(1)
				ha, hb := net.Host(tt.a), net.Host(tt.b)
				ma, mb := vrrp.NewMux(ha.Conn()), vrrp.NewMux(hb.Conn())
				ctx, cancel := context.WithCancel(t.Context())
				var g errgroup.Group
				g.Go(func() error { return ma.Run(ctx) })
				g.Go(func() error { return mb.Run(ctx) })

				start := func(h *vrrptest.Host, m *vrrp.Mux, vrid uint8, prio uint8, vip netip.Prefix) *vrrp.Instance {
					c, err := m.Conn(vrid, h.Addr())
					if err != nil {
						t.Fatal(err)
					}
					in, err := vrrp.NewInstance(vrrp.Config{VRID: vrid, Priority: prio, Version: vrrp.Version3,
						Interval: 100 * time.Millisecond, Primary: h.Addr(), Addresses: []netip.Prefix{vip}},
						c, h.Addresser(), h.Announcer())
					if err != nil {
						t.Fatal(err)
					}
					g.Go(func() error { defer c.Close(); return in.Run(ctx) })
					return in
				}
				a1 := start(ha, ma, 1, 200, tt.vip1)
				a2 := start(ha, ma, 2, 100, tt.vip2)
				b1 := start(hb, mb, 1, 100, tt.vip1)
				b3 := start(hb, mb, 3, 100, tt.vip3)
				if _, err := ma.Conn(2, ha.Addr()); err == nil {
					t.Fatal("a second Conn for VRID 2 on one socket was allowed")
				}

				time.Sleep(2 * time.Second)
				synctest.Wait()
				for _, c := range []struct {
					name string
					in   *vrrp.Instance
					want vrrp.State
				}{{"A/1", a1, vrrp.StateMaster}, {"B/1", b1, vrrp.StateBackup}, {"A/2", a2, vrrp.StateMaster}, {"B/3", b3, vrrp.StateMaster}} {
					st := c.in.Status()
					if st.State != c.want {
						t.Errorf("%s is %v, want %v", c.name, st.State, c.want)
					}
					for _, r := range vrrp.DropReasons() {
						if n := st.Stats.Drop(r); n != 0 {
							t.Errorf("%s dropped %d adverts: %v", c.name, n, r)
						}
					}
				}
				if st := a2.Status(); st.Stats.AdvertRcvd != 0 {
					t.Errorf("A/2 received %d adverts; nobody else runs VRID 2", st.Stats.AdvertRcvd)
				}
				if st := b1.Status(); st.Stats.AdvertRcvd < 15 || st.Master != tt.a {
					t.Errorf("B/1 received %d adverts from %v, want about 20 from %v", st.Stats.AdvertRcvd, st.Master, tt.a)
				}
				// A's socket read B's VRID 3 and A's own... no: its peers'
				// VRID 3, about 20 in 2 s; B's read A's VRID 2.
				if n := ma.Unclaimed(); n < 15 {
					t.Errorf("A's socket counted %d adverts for VRIDs it does not run, want about 20", n)
				}
				if n := mb.Unclaimed(); n < 15 {
					t.Errorf("B's socket counted %d adverts for VRIDs it does not run, want about 20", n)
				}
				for _, p := range net.Packets() {
					if p.Dst != tt.wantDst {
						t.Fatalf("an advert went to %v, want %v", p.Dst, tt.wantDst)
					}
				}
				cancel()
				if err := g.Wait(); err != nil {
					t.Fatal(err)
				}
				if ma.Len() != 0 {
					t.Fatalf("%d Conns still open on A's socket", ma.Len())
				}
			})
		})
	}
}

// Instances on a Mux are run by the Mux's own loop, which reads the shared
// socket and hands each advert to its instance: they hear the peer's
// adverts that way, and when the shared socket fails, each Run returns
// the error.
func TestMuxFeedsInstanceLoops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 10
		net := vrrptest.NewNetwork(1)
		ha, hb := net.Host(netip.MustParseAddr("198.51.100.11")), net.Host(netip.MustParseAddr("198.51.100.12"))
		ma, mb := vrrp.NewMux(ha.Conn()), vrrp.NewMux(hb.Conn())
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		muxDone := make(chan error, 2)
		go func() { muxDone <- ma.Run(ctx) }()
		go func() { muxDone <- mb.Run(ctx) }()
		synctest.Wait()
		before := runtime.NumGoroutine()

		ictx, icancel := context.WithCancel(ctx) // the instances', stopped before the Muxes
		defer icancel()
		var as []*vrrp.Instance
		runs := make(chan error, 2*n)
		for vrid := uint8(1); vrid <= n; vrid++ {
			vip := netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, 100 + vrid}), 32)
			for _, side := range []struct {
				h    *vrrptest.Host
				m    *vrrp.Mux
				prio uint8
			}{{ha, ma, 100}, {hb, mb, 200}} {
				c, err := side.m.Conn(vrid, side.h.Addr())
				if err != nil {
					t.Fatal(err)
				}
				in, err := vrrp.NewInstance(vrrp.Config{VRID: vrid, Priority: side.prio, Version: vrrp.Version3,
					Interval: 100 * time.Millisecond, Primary: side.h.Addr(), Addresses: []netip.Prefix{vip}},
					c, side.h.Addresser(), side.h.Announcer())
				if err != nil {
					t.Fatal(err)
				}
				if side.h == ha {
					as = append(as, in)
				}
				go func() { defer c.Close(); runs <- in.Run(ictx) }()
			}
		}
		synctest.Wait()
		if got := runtime.NumGoroutine() - before; got != 2*n {
			t.Errorf("%d instances on Muxes run %d goroutines, want one each", 2*n, got)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		for i, in := range as {
			if st := in.Status(); st.State != vrrp.StateBackup || st.Stats.AdvertRcvd < 15 {
				t.Errorf("A/%d %v with %d adverts heard, want BACKUP hearing B's", i+1, st.State, st.Stats.AdvertRcvd)
			}
		}

		ha.Crash() // A's socket fails: its instances stop with the error
		for range n {
			if err := <-runs; err == nil {
				t.Errorf("an instance of A's failed socket returned nil")
			}
		}
		if err := <-muxDone; err == nil {
			t.Errorf("A's Mux returned nil after its socket failed")
		}
		icancel()
		for range n {
			if err := <-runs; err != nil {
				t.Errorf("B's instance: %v", err)
			}
		}
		cancel()
		<-muxDone
	})
}

// Config.OnEvent takes the transitions in Events' place, in order, the
// shutdown's included before Run returns: on its own socket and on a Mux.
func TestInstanceOnEvent(t *testing.T) {
	for _, onMux := range []bool{false, true} {
		name := map[bool]string{false: "own socket", true: "mux"}[onMux]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := vrrptest.NewNetwork(1).Host(netip.MustParseAddr("198.51.100.11"))
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				c := h.Conn()
				if onMux {
					m := vrrp.NewMux(c)
					go m.Run(ctx)
					if c, _ = m.Conn(60, h.Addr()); c == nil {
						t.Fatal("no Mux conn")
					}
				}
				var got []string // on Run's goroutines, read after Run returned
				in, err := vrrp.NewInstance(vrrp.Config{VRID: 60, Version: vrrp.Version3, Interval: 100 * time.Millisecond,
					Primary: h.Addr(), Addresses: []netip.Prefix{netip.MustParsePrefix("198.51.100.100/32")},
					OnEvent: func(ev vrrp.Event) { got = append(got, ev.From.String()+">"+ev.To.String()) }},
					c, h.Addresser(), h.Announcer())
				if err != nil {
					t.Fatal(err)
				}
				ictx, icancel := context.WithCancel(ctx)
				done := make(chan error, 1)
				go func() { done <- in.Run(ictx) }()
				time.Sleep(time.Second) // Master_Down_Interval: MASTER
				synctest.Wait()
				icancel()
				if err := <-done; err != nil {
					t.Fatalf("Run: %v", err)
				}
				want := []string{"INIT>BACKUP", "BACKUP>MASTER", "MASTER>INIT"}
				if !slices.Equal(got, want) {
					t.Errorf("OnEvent had %v, want %v", got, want)
				}
				select {
				case ev := <-in.Events():
					t.Errorf("Events has %v with OnEvent set", ev)
				default:
				}
			})
		})
	}
}

// A Mux sends the adverts of masters due within a tenth of their interval
// together: 100 masters of 0.1 s whose phases are spread evenly over the
// interval (1 ms apart, the worst case for coalescing) wake the loop about
// ten times an interval, not a hundred, and none sends late: every gap
// between one instance's adverts is at most its interval.
func TestMuxCoalescesAdverts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			n        = 100
			interval = 100 * time.Millisecond
		)
		net := vrrptest.NewNetwork(1)
		h := net.Host(netip.MustParseAddr("198.51.100.11"))
		m := vrrp.NewMux(h.Conn())
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go m.Run(ctx)
		for vrid := uint8(1); vrid <= n; vrid++ {
			c, err := m.Conn(vrid, h.Addr())
			if err != nil {
				t.Fatal(err)
			}
			in, err := vrrp.NewInstance(vrrp.Config{VRID: vrid, Version: vrrp.Version3, Interval: interval, Primary: h.Addr(),
				Addresses: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, 100 + vrid}), 32)}},
				c, h.Addresser(), h.Announcer())
			if err != nil {
				t.Fatal(err)
			}
			go in.Run(ctx)
			time.Sleep(interval / n)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		from := time.Now().Add(-time.Second)
		moments := map[time.Time]bool{}
		last := map[byte]time.Time{}
		sent := 0
		for _, p := range net.Packets() {
			vrid := p.Payload[1]
			if prev, ok := last[vrid]; ok && p.Time.After(from) && p.Time.Sub(prev) > interval {
				t.Errorf("VRID %d: an advert %v after the one before, more than the interval", vrid, p.Time.Sub(prev))
			}
			last[vrid] = p.Time
			if p.Time.After(from) {
				moments[p.Time] = true
				sent++
			}
		}
		if sent < n*10 {
			t.Errorf("%d adverts in the last second, want at least %d", sent, n*10)
		}
		if len(moments) > 12*10 {
			t.Errorf("adverts went out at %d moments in a second, want about ten an interval (at most 120)", len(moments))
		}
		t.Logf("%d adverts at %d moments in the last second", sent, len(moments))
	})
}

// Config.Excluded: a MASTER holds the excluded addresses (of either
// family) with its virtual addresses and announces them, but its adverts
// carry only Addresses; shutting down removes them all.
func TestInstanceExcluded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := vrrptest.NewNetwork(1)
		h := net.Host(netip.MustParseAddr("198.51.100.11"))
		vip := netip.MustParsePrefix("198.51.100.100/24")
		excluded := []netip.Prefix{netip.MustParsePrefix("198.51.100.101/24"), netip.MustParsePrefix("2001:db8::100/64")}
		in, err := vrrp.NewInstance(vrrp.Config{VRID: 60, Primary: h.Addr(), Addresses: []netip.Prefix{vip}, Excluded: excluded},
			h.Conn(), h.Addresser(), h.Announcer())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- in.Run(ctx) }()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if st := in.Status(); st.State != vrrp.StateMaster {
			t.Fatalf("%v, want MASTER", st.State)
		}
		for _, p := range append([]netip.Prefix{vip}, excluded...) {
			if !h.Addresser().Has(p) {
				t.Errorf("MASTER does not hold %v", p)
			}
		}
		announced := map[netip.Addr]bool{}
		for _, a := range h.Announcer().Announcements() {
			announced[a.Addr] = true
		}
		if !announced[excluded[1].Addr()] {
			t.Errorf("announcements %v: not the excluded %v", h.Announcer().Announcements(), excluded[1])
		}
		pkts := net.Packets()
		if len(pkts) == 0 {
			t.Fatal("no adverts")
		}
		var adv vrrp.Advertisement
		if err := adv.UnmarshalBinary(pkts[len(pkts)-1].Payload); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(adv.Addresses, []netip.Addr{vip.Addr()}) {
			t.Errorf("the advert carries %v, want only %v", adv.Addresses, vip.Addr())
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := h.Addresser().Addresses(); len(got) != 0 {
			t.Errorf("after shutdown it still holds %v", got)
		}
	})
}
