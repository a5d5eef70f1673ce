package vrrp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// These tests drive an Instance through fakes defined here (vrrptest
// imports this package, so only the external tests can use it). The
// simulations of several routers are in sim_test.go.

var (
	testSelf   = netip.MustParseAddr("198.51.100.2")
	testMaster = netip.MustParseAddr("198.51.100.3")
	testVIP    = netip.MustParsePrefix("198.51.100.100/24")
)

func testConfig() Config {
	return Config{VRID: 60, Primary: testSelf, Addresses: []netip.Prefix{testVIP}}
}

type fakePacket struct {
	b    []byte
	info PacketInfo
}

// fakeConn reads what the test feeds it and records what is written.
type fakeConn struct {
	in      chan fakePacket
	readErr chan error
	unblock chan struct{} // closed by a non-zero read deadline
	once    sync.Once

	mu       sync.Mutex
	sent     []Advertisement
	writeErr error
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan fakePacket, 64), readErr: make(chan error, 1), unblock: make(chan struct{})}
}

func (c *fakeConn) ReadFrom(b []byte) (int, PacketInfo, error) {
	select {
	case p := <-c.in:
		return copy(b, p.b), p.info, nil
	case err := <-c.readErr:
		return 0, PacketInfo{}, err
	case <-c.unblock:
		return 0, PacketInfo{}, os.ErrDeadlineExceeded
	}
}

func (c *fakeConn) WriteTo(b []byte, dst netip.Addr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writeErr != nil {
		return c.writeErr
	}
	var a Advertisement
	if err := a.Unmarshal(b, testSelf, dst); err != nil {
		return err
	}
	c.sent = append(c.sent, a)
	return nil
}

// Run sets a zero deadline when it starts and a past one when it stops;
// the fake only needs the second.
func (c *fakeConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() {
		c.once.Do(func() { close(c.unblock) })
	}
	return nil
}

func (c *fakeConn) Close() error { return nil }

func (c *fakeConn) priorities() []uint8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var p []uint8
	for _, a := range c.sent {
		p = append(p, a.Priority)
	}
	return p
}

// feed delivers an advert from src with TTL ttl.
func (c *fakeConn) feed(t *testing.T, a Advertisement, src netip.Addr, ttl int) {
	t.Helper()
	b, err := a.Append(nil, src, Group)
	if err != nil {
		t.Fatal(err)
	}
	c.in <- fakePacket{b, PacketInfo{Src: src, Dst: Group, TTL: ttl}}
}

type fakeAddresser struct {
	mu        sync.Mutex
	present   map[netip.Prefix]bool
	failLeft  int // calls that fail before the rest succeed
	failCalls int
}

func (a *fakeAddresser) change(p netip.Prefix, add bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failLeft > 0 {
		a.failLeft--
		a.failCalls++
		return errors.New("netlink: operation not permitted")
	}
	if a.present == nil {
		a.present = map[netip.Prefix]bool{}
	}
	a.present[p] = add
	return nil
}

func (a *fakeAddresser) AddAddress(p netip.Prefix) error    { return a.change(p, true) }
func (a *fakeAddresser) RemoveAddress(p netip.Prefix) error { return a.change(p, false) }
func (a *fakeAddresser) HasAddress(p netip.Prefix) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.present[p], nil
}
func (a *fakeAddresser) has(p netip.Prefix) bool { ok, _ := a.HasAddress(p); return ok }

type fakeAnnouncer struct {
	mu  sync.Mutex
	n   int
	err error
}

func (a *fakeAnnouncer) Announce(netip.Addr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.n++
	return nil
}

// syncBuffer is a log destination safe to read while the instance writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) lines(substr string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ls []string
	for l := range strings.Lines(b.b.String()) {
		if strings.Contains(l, substr) {
			ls = append(ls, l)
		}
	}
	return ls
}

// harness runs an instance on fakes inside a synctest bubble.
type harness struct {
	t      *testing.T
	conn   *fakeConn
	addr   *fakeAddresser
	ann    *fakeAnnouncer
	log    *syncBuffer
	inst   *Instance
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t *testing.T, cfg Config) *harness {
	h := &harness{t: t, conn: newFakeConn(), addr: &fakeAddresser{}, ann: &fakeAnnouncer{}, log: &syncBuffer{}}
	cfg.Logger = slog.New(slog.NewTextHandler(h.log, nil))
	inst, err := NewInstance(cfg, h.conn, h.addr, h.ann)
	if err != nil {
		t.Fatal(err)
	}
	h.inst = inst
	return h
}

func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.inst.Run(ctx) }()
	synctest.Wait()
}

func (h *harness) stop() error {
	h.cancel()
	return <-h.done
}

func (h *harness) events() []string {
	synctest.Wait()
	var evs []string
	for {
		select {
		case ev := <-h.inst.Events():
			evs = append(evs, ev.From.String()+"->"+ev.To.String()+" "+ev.Reason)
		default:
			return evs
		}
	}
}

func TestInstanceConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		err  string // "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no VRID", func(c *Config) { c.VRID = 0 }, "VRID"},
		{"v2 fraction", func(c *Config) { c.Interval = 1500 * time.Millisecond }, "whole seconds"},
		{"v2 too long", func(c *Config) { c.Interval = 256 * time.Second }, "whole seconds"},
		{"v3 100ms", func(c *Config) { c.Version, c.Interval = Version3, 100*time.Millisecond }, ""},
		{"v3 5ms", func(c *Config) { c.Version, c.Interval = Version3, 5*time.Millisecond }, "centiseconds"},
		{"v3 41s", func(c *Config) { c.Version, c.Interval = Version3, 41*time.Second }, "centiseconds"},
		{"v3 with auth", func(c *Config) { c.Version, c.AuthType, c.AuthPass = Version3, AuthSimple, "x" }, "authentication"},
		{"version 4", func(c *Config) { c.Version = 4 }, "version"},
		{"PASS without password", func(c *Config) { c.AuthType = AuthSimple }, "password"},
		{"auth type 2 (AH)", func(c *Config) { c.AuthType = 2 }, "authentication type"},
		{"no primary", func(c *Config) { c.Primary = netip.Addr{} }, "primary"},
		{"IPv6 primary with v2", func(c *Config) { c.Primary = netip.MustParseAddr("fe80::1") }, "version 3"},
		{"IPv6 global primary, multicast", func(c *Config) {
			c.Version, c.AuthType, c.AuthPass, c.Primary = Version3, AuthNone, "", netip.MustParseAddr("2001:db8::1")
			c.Addresses = []netip.Prefix{netip.MustParsePrefix("2001:db8::100/64")}
		}, "link-local"},
		{"IPv6 primary, IPv4 VIP", func(c *Config) {
			c.Version, c.AuthType, c.AuthPass, c.Primary = Version3, AuthNone, "", netip.MustParseAddr("fe80::1")
		}, "virtual address"},
		{"IPv6 primary with a zone", func(c *Config) { c.Primary = netip.MustParseAddr("fe80::1%eth0") }, "primary"},
		{"multicast primary", func(c *Config) { c.Primary = Group }, "primary"},
		{"no VIP", func(c *Config) { c.Addresses = nil }, "virtual addresses"},
		{"IPv6 VIP", func(c *Config) { c.Addresses = []netip.Prefix{netip.MustParsePrefix("2001:db8::1/64")} }, "virtual address"},
		{"excluded IPv6 on IPv4", func(c *Config) { c.Excluded = []netip.Prefix{netip.MustParsePrefix("2001:db8::1/64")} }, ""},
		{"excluded invalid", func(c *Config) { c.Excluded = []netip.Prefix{{}} }, "excluded"},
		{"peer is self", func(c *Config) { c.Peers = []netip.Addr{testSelf} }, "peer"},
		{"initial state FAULT", func(c *Config) { c.InitialState = StateFault }, "initial state"},
		{"nopreempt owner", func(c *Config) { c.NoPreempt, c.Priority = true, 255 }, "priority 255"},
		{"nopreempt MASTER", func(c *Config) { c.NoPreempt, c.InitialState = true, StateMaster }, "initial state MASTER"},
		{"nopreempt delay", func(c *Config) { c.NoPreempt, c.PreemptDelay = true, time.Second }, "preempt delay"},
		{"negative delay", func(c *Config) { c.StartupDelay = -1 }, "negative"},
		{"seed config", func(c *Config) {
			c.NoPreempt, c.AuthType, c.AuthPass, c.InitialState = true, AuthSimple, "qwert123!", StateBackup
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.edit(&cfg)
			_, err := NewInstance(cfg, newFakeConn(), &fakeAddresser{}, &fakeAnnouncer{})
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one about %q", err, tt.err)
			}
		})
	}
	if _, err := NewInstance(testConfig(), nil, &fakeAddresser{}, &fakeAnnouncer{}); err == nil {
		t.Error("nil Conn accepted")
	}

	inst, err := NewInstance(testConfig(), newFakeConn(), &fakeAddresser{}, &fakeAnnouncer{})
	if err != nil {
		t.Fatal(err)
	}
	c := inst.cfg
	if c.Priority != 100 || c.Version != Version2 || c.Interval != time.Second || c.GARPRepeat != 3 || c.GARPInterval != 1100*time.Millisecond {
		t.Errorf("defaults: priority %d version %d interval %v garp %d/%v", c.Priority, c.Version, c.Interval, c.GARPRepeat, c.GARPInterval)
	}
	if st := inst.Status(); st.State != StateInit || st.Priority != 100 || st.EffectivePriority != 0 {
		t.Errorf("status before Run: %+v", st)
	}
}

func TestInstanceRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Version, cfg.Interval = Version3, 100*time.Millisecond
		h := newHarness(t, cfg)
		t0 := time.Now()
		h.run()
		if err := h.inst.Run(context.Background()); err == nil {
			t.Error("second Run succeeded")
		}

		// A higher master at 1 s, v3: we learn its interval.
		master := Advertisement{Version: Version3, VRID: 60, Priority: 150, Interval: time.Second, Addresses: []netip.Addr{testVIP.Addr()}}
		h.conn.feed(t, master, testMaster, TTL)
		synctest.Wait()
		st := h.inst.Status()
		if st.State != StateBackup || st.Master != testMaster || st.MasterPriority != 150 ||
			st.MasterAdverInterval != time.Second || !st.LastAdvert.Equal(t0) || st.EffectivePriority != 100 {
			t.Errorf("backup status: %+v", st)
		}

		// The master stops: we take over after our Skew_Time at its interval.
		master.Priority = 0
		h.conn.feed(t, master, testMaster, TTL)
		time.Sleep(SkewTime(100, time.Second))
		synctest.Wait()
		st = h.inst.Status()
		if st.State != StateMaster || st.Master != testSelf || st.Stats.PriZeroRcvd != 1 || st.Stats.AdvertRcvd != 2 || st.Stats.BecomeMaster != 1 {
			t.Errorf("master status: %+v", st)
		}
		if !h.addr.has(testVIP) {
			t.Error("master without VIP")
		}
		time.Sleep(time.Second)
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
		if h.addr.has(testVIP) {
			t.Error("VIP held after Run returned")
		}
		// 1 on takeover, 10 in the second at 100 ms, priority 0 twice.
		if got, want := h.conn.priorities(), append(slices.Repeat([]uint8{100}, 11), 0, 0); !slices.Equal(got, want) {
			t.Errorf("sent priorities %v, want %v", got, want)
		}
		want := []string{"INIT->BACKUP startup", "BACKUP->MASTER master released (priority 0)", "MASTER->INIT shutdown"}
		if got := h.events(); !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
		st = h.inst.Status()
		if st.State != StateInit || st.Stats.ReleaseMaster != 1 || st.Stats.PriZeroSent != 1 || st.Stats.AdvertSent != 12 || st.Stats.GARPSent != 1 {
			t.Errorf("final status: %+v", st)
		}
	})
}

func TestInstanceFaultBeforeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Priority = 255 // would be master at once
		h := newHarness(t, cfg)
		h.inst.Fault("not ready")
		h.run()
		time.Sleep(10 * time.Second)
		if got, want := h.events(), []string{"INIT->FAULT not ready"}; !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
		if p := h.conn.priorities(); len(p) != 0 || h.addr.has(testVIP) {
			t.Errorf("faulted from the start, yet sent %v or holds the VIP", p)
		}
		h.inst.Resume()
		time.Sleep(MasterDownInterval(255, time.Second))
		if got, want := h.events(), []string{"FAULT->BACKUP resume", "BACKUP->MASTER master down"}; !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInstanceFaultResumeQueue checks that commands are neither lost nor
// coalesced: a Fault and a Resume in a row still give the VIP up.
func TestInstanceFaultResumeQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.InitialState = StateMaster
		h := newHarness(t, cfg)
		h.run()
		h.events()
		h.inst.Fault("a")
		h.inst.Resume()
		synctest.Wait()
		if got, want := h.events(), []string{"MASTER->FAULT a", "FAULT->BACKUP resume"}; !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
		if p := h.conn.priorities(); p[len(p)-1] != 0 {
			t.Errorf("no priority 0 sent: %v", p)
		}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInstanceDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig())
		h.run()
		adv := Advertisement{Version: Version2, VRID: 60, Priority: 150, Interval: time.Second, Addresses: []netip.Addr{testVIP.Addr()}}
		// 51 adverts with TTL 64 over 5 s: one log line at once, one
		// summary of the other 50 when 10 s have passed.
		for i := range 51 {
			if i > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			h.conn.feed(t, adv, testMaster, 64)
		}
		synctest.Wait()
		if n := len(h.log.lines(`msg="dropped VRRP packet"`)); n != 1 {
			t.Errorf("%d drop lines in the first 5 s, want 1", n)
		}
		time.Sleep(20 * time.Second)
		summaries := h.log.lines(`msg="dropped VRRP packets"`)
		if len(summaries) != 1 || !strings.Contains(summaries[0], "count=50") || !strings.Contains(summaries[0], "reason=ip_ttl_err") {
			t.Errorf("summaries %q, want one with count=50", summaries)
		}
		// Other reasons are limited separately.
		adv.VRID = 61
		h.conn.feed(t, adv, testMaster, TTL)
		h.conn.in <- fakePacket{[]byte{0x21}, PacketInfo{Src: testMaster, Dst: Group, TTL: TTL}}
		synctest.Wait()
		st := h.inst.Status().Stats
		if st.Drop(DropTTL) != 51 || st.Drop(DropVRID) != 1 || st.Drop(DropShort) != 1 || st.AdvertRcvd != 0 {
			t.Errorf("drops %v, received %d", st.Drops, st.AdvertRcvd)
		}
		if n := len(h.log.lines(`msg="dropped VRRP packet"`)); n != 3 {
			t.Errorf("%d first-drop lines, want 3 (one per reason)", n)
		}
		// Dropped adverts are not obeyed: we became master meanwhile.
		if s := h.inst.Status().State; s != StateMaster {
			t.Errorf("state %v, want MASTER", s)
		}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInstanceAddressRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.InitialState = StateMaster
		h := newHarness(t, cfg)
		h.run()
		if !h.addr.has(testVIP) {
			t.Fatal("master without VIP")
		}
		h.addr.mu.Lock()
		h.addr.failLeft = 2
		h.addr.mu.Unlock()
		h.inst.Fault("x")
		synctest.Wait()
		if !h.addr.has(testVIP) {
			t.Fatal("removal should have failed")
		}
		time.Sleep(2 * time.Second) // two retries, 1 s apart
		synctest.Wait()
		if h.addr.has(testVIP) {
			t.Error("VIP still held by a FAULT router after retries")
		}
		if st := h.inst.Status().Stats; st.AddressErrors != 2 {
			t.Errorf("address errors %d, want 2", st.AddressErrors)
		}
		if n := len(h.log.lines("failed to remove virtual address")); n != 2 {
			t.Errorf("%d error lines, want 2", n)
		}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInstanceSendErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.InitialState = StateMaster
		h := newHarness(t, cfg)
		h.conn.writeErr = errors.New("sendmsg: no buffer space available")
		h.ann.err = errors.New("arp: no such device")
		h.run()
		time.Sleep(30 * time.Second)
		synctest.Wait()
		st := h.inst.Status()
		if st.State != StateMaster || st.Stats.AdvertSent != 0 || st.Stats.SendErrors != 31 || st.Stats.AnnounceErrors != 3 {
			t.Errorf("status: %+v", st)
		}
		// Rate limited: the first at once, then a summary every 10 s.
		if n := len(h.log.lines("failed to send VRRP advertisement")); n != 4 {
			t.Errorf("%d send error lines in 30 s, want 4", n)
		}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInstanceReadError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.InitialState = StateMaster
		h := newHarness(t, cfg)
		h.run()
		h.conn.readErr <- net.ErrClosed
		err := <-h.done
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Run: %v, want net.ErrClosed", err)
		}
		if p := h.conn.priorities(); p[len(p)-1] != 0 || h.addr.has(testVIP) {
			t.Errorf("no clean shutdown after the read error: sent %v", p)
		}
	})
}

func TestInstanceEventsOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig())
		h.run()
		for range 40 {
			h.inst.Fault("x")
			h.inst.Resume()
		}
		synctest.Wait()
		// startup + 80 = 81 transitions, 64 delivered.
		if st := h.inst.Status(); st.Stats.EventsDropped != 81-EventBuffer || st.State != StateBackup {
			t.Errorf("events dropped %d, state %v", st.Stats.EventsDropped, st.State)
		}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInstanceAllocs checks that receiving an advert, from the decode to the
// state machine's actions and the published status, allocates nothing.
func TestInstanceAllocs(t *testing.T) {
	h := newHarness(t, testConfig())
	i := h.inst
	now := time.Now()
	i.step(now, input{kind: inStartup})
	adv := Advertisement{Version: Version2, VRID: 60, Priority: 150, Interval: time.Second, Addresses: []netip.Addr{testVIP.Addr()}}
	b, err := adv.Append(nil, testMaster, Group)
	if err != nil {
		t.Fatal(err)
	}
	info := PacketInfo{Src: testMaster, Dst: Group, TTL: TTL}
	dec := Advertisement{Addresses: make([]netip.Addr, 0, MaxAddresses)}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	rx := make(chan received, 1)
	n := testing.AllocsPerRun(100, func() {
		now = now.Add(time.Second)
		r := i.accept(b, info, &dec)
		if r.drop != DropNone || r.addrs != nil {
			t.Fatalf("accept: drop %v, mismatch %v", r.drop, r.addrs)
		}
		rx <- r
		i.receive(now, <-rx)
		i.publish()
		i.arm(timer)
	})
	if n != 0 {
		t.Errorf("%v allocations per advert, want 0", n)
	}
	if i.Status().Stats.AdvertRcvd == 0 {
		t.Error("nothing received")
	}
	// A drop that is not logged allocates nothing either.
	info.TTL = 1
	i.receive(now, received{drop: DropTTL, src: info.Src}) // the logged one
	n = testing.AllocsPerRun(100, func() {
		if err := i.filter.Accept(b, info, &dec); err == nil {
			t.Fatal("accepted TTL 1")
		}
		i.receive(now, received{drop: DropTTL, src: info.Src})
	})
	if n != 0 {
		t.Errorf("%v allocations per rate-limited drop, want 0", n)
	}
}

// stallWriter is a log destination that can stop the instance's goroutine
// in a Write, as SIGSTOP stops the whole process: fake time runs on while
// it is blocked, and packets queue.
type stallWriter struct {
	mu    sync.Mutex
	block chan struct{}
}

func (w *stallWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	b := w.block
	w.mu.Unlock()
	if b != nil {
		<-b
	}
	return len(p), nil
}

func (w *stallWriter) set(b chan struct{}) {
	w.mu.Lock()
	w.block = b
	w.mu.Unlock()
}

// A backup stopped past Master_Down_Interval while the master kept
// advertising must not take over when it runs again: the master's adverts
// wait in the socket, and its timer, late, waits StallGrace for them. (On
// resume Run sees the expired timer and the queued adverts at once; a
// select picks either, so before StallGrace half the rounds took over.)
func TestInstanceStallResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Version, cfg.Interval = Version3, 100*time.Millisecond
		w := &stallWriter{}
		cfg.Logger = slog.New(slog.NewTextHandler(w, nil))
		h := &harness{t: t, conn: newFakeConn(), addr: &fakeAddresser{}, ann: &fakeAnnouncer{}}
		inst, err := NewInstance(cfg, h.conn, h.addr, h.ann)
		if err != nil {
			t.Fatal(err)
		}
		h.inst = inst
		h.run()
		master := Advertisement{Version: Version3, VRID: 60, Priority: 150, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{testVIP.Addr()}}
		advertise := func(d time.Duration) {
			for range d / cfg.Interval {
				h.conn.feed(t, master, testMaster, TTL)
				time.Sleep(cfg.Interval)
			}
		}
		advertise(time.Second)
		// On resuming, the loop's select picks the late timer or the
		// queued advert at random; only the timer's pick is a stall, so
		// enough rounds that some are (all 40 missing it: 1 in 2^40).
		const rounds = 40
		for round := range rounds {
			b := make(chan struct{})
			w.set(b)
			h.conn.feed(t, master, testMaster, 64) // a bad TTL: logged, so the instance stops in the log
			synctest.Wait()
			advertise(time.Second) // well past Master_Down_Interval (0.36 s)
			w.set(nil)
			close(b)
			synctest.Wait()
			if st := h.inst.Status(); st.State != StateBackup || st.Stats.BecomeMaster != 0 {
				t.Errorf("round %d: resumed backup is %v (became master %d times), want BACKUP", round, st.State, st.Stats.BecomeMaster)
				break
			}
			advertise(logEvery) // the next bad TTL is logged at once again
		}
		if st := h.inst.Status(); st.Stats.Stalls == 0 {
			t.Errorf("stats %+v, want some stalls", st.Stats)
		}
		if err := h.stop(); err != nil {
			t.Fatal(err)
		}
	})
}
