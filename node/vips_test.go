package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/node/nodetest"
	"github.com/vipkit/vip/vrrp"
	"github.com/vipkit/vip/vrrp/vrrptest"
)

// dropSystem is a System whose VIPs live in a set and which records the
// addresses whose connections it was asked to drop, and how often the
// kernel was asked whether a VIP is there (a full address dump on Linux).
type dropSystem struct {
	System // unused methods
	held   map[netip.Prefix]bool
	drops  []string
	looks  int
}

func (s *dropSystem) Addresser(string, map[netip.Prefix]string) (vrrp.Addresser, error) {
	return setAddresser{s.held, &s.looks}, nil
}
func (s *dropSystem) Announcer(string) (vrrp.Announcer, error) { return nopAnnouncer{}, nil }
func (s *dropSystem) DropSockets(a netip.Addr) (int, error) {
	s.drops = append(s.drops, a.String())
	return 1, nil
}

type setAddresser struct {
	held  map[netip.Prefix]bool
	looks *int
}

func (a setAddresser) AddAddress(p netip.Prefix) error    { a.held[p] = true; return nil }
func (a setAddresser) RemoveAddress(p netip.Prefix) error { delete(a.held, p); return nil }
func (a setAddresser) HasAddress(p netip.Prefix) (bool, error) {
	if a.looks != nil {
		*a.looks++
	}
	return a.held[p], nil
}

// Connections bound to a VIP are dropped when it goes, and before it comes
// unless it is already here: then they are live (a VIP kept across a
// restart, or added again by a retry). A VIP this node gave up (and
// dropped the connections of) comes back with neither a drop nor a look at
// the kernel: at 1,000 instances each look is a dump of 1,000 addresses. A
// stopping daemon drops after every priority 0 is sent: at Close.
func TestVIPsDropSockets(t *testing.T) {
	p := netip.MustParsePrefix("198.51.100.100/24")
	sys := &dropSystem{held: map[netip.Prefix]bool{}}
	v, err := openVIPs(newVIPSockets(sys), sys, []vipSpec{{Prefix: p, Dev: "eth0"}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		do    func(netip.Prefix) error
		what  string
		drops int // so far
		looks int // so far
	}{
		{v.AddAddress, "take the VIP", 1, 1},
		{v.AddAddress, "add it again while held", 1, 2},
		{v.RemoveAddress, "give it up", 2, 2},
		{v.AddAddress, "take it back", 2, 2},
		{func(netip.Prefix) error { v.stop(nil); return nil }, "the daemon stops", 2, 2},
		{v.RemoveAddress, "give it up while stopping", 2, 2},
		{func(netip.Prefix) error { return v.Close() }, "close", 3, 2},
	}
	for _, s := range steps {
		if err := s.do(p); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		if len(sys.drops) != s.drops || sys.looks != s.looks {
			t.Errorf("%s: %d drops and %d looks so far, want %d and %d", s.what, len(sys.drops), sys.looks, s.drops, s.looks)
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
	return closingAddresser{setAddresser{s.held, nil}, s}, nil
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

// dropWatch is a System that drops no connection but records, at each
// DropSockets, how many priority-0 adverts its segment carried by then.
type dropWatch struct {
	*nodetest.System
	seg   *vrrptest.Network
	mu    sync.Mutex
	zeros []int
}

func (s *dropWatch) DropSockets(netip.Addr) (int, error) {
	n := 0
	for _, p := range s.seg.Packets() {
		if len(p.Payload) > 2 && p.Payload[2] == 0 {
			n++
		}
	}
	s.mu.Lock()
	s.zeros = append(s.zeros, n)
	s.mu.Unlock()
	return 0, nil
}

// A stopping vipd sends every master's priority 0 before it drops the
// connections of any VIP (a sock_diag dump each): the peer takes each VIP
// over Skew_Time after its priority 0, so each drop done first would delay
// the instances not yet stopped (100 of them: 0.3 s).
func TestDaemonStopSendsPriorityZeroFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 5
		net := nodetest.NewNetwork("eth0")
		sys := &dropWatch{System: net.System(netip.MustParseAddr("198.51.100.11")), seg: net.Segment("eth0")}
		d, cancel, done := runInstances(t, sys, n)
		time.Sleep(vrrp.MasterDownInterval(100, time.Second) + time.Second)
		for _, in := range d.Status().Instances {
			if in.State != control.StateMaster {
				t.Fatalf("%s %v, want MASTER", in.Name, in.State)
			}
		}
		sys.mu.Lock()
		before := len(sys.zeros) // the startup's drops
		sys.mu.Unlock()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		zeros := sys.zeros[before:]
		if len(zeros) != n {
			t.Fatalf("%d drops while stopping, want %d", len(zeros), n)
		}
		for i, z := range zeros {
			if z != 2*n { // each sent twice
				t.Errorf("drop %d came after %d priority-0 adverts, want every one (%d)", i+1, z, 2*n)
			}
		}
	})
}

// runInstances runs a vipd of n instances (VRIDs 1 up, one VIP each) on
// sys; cancel stops it, and done says how Run returned.
func runInstances(t *testing.T, sys System, n int) (*Daemon, context.CancelFunc, chan error) {
	t.Helper()
	var conf strings.Builder
	for i := range n {
		fmt.Fprintf(&conf, "vrrp_instance VI_%d {\n state BACKUP\n interface eth0\n virtual_router_id %d\n nopreempt\n"+
			" advert_int 1\n virtual_ipaddress {\n  198.51.100.%d/32\n }\n}\n", i+1, i+1, 51+i)
	}
	path := filepath.Join(t.TempDir(), "keepalived.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{ConfigPath: path, System: sys, Notify: &nodetest.Notify{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return d, cancel, done
}

// An instance costs one goroutine (its unit, which runs the engine on the
// shared socket's Mux and takes its events): stacks are a third of vipd's
// memory at 1,000 instances.
func TestDaemonGoroutinesPerInstance(t *testing.T) {
	count := func(n int) int {
		var g int
		synctest.Test(t, func(t *testing.T) {
			net := nodetest.NewNetwork("eth0")
			_, cancel, done := runInstances(t, net.System(netip.MustParseAddr("198.51.100.11")), n)
			time.Sleep(vrrp.MasterDownInterval(100, time.Second) + time.Second)
			synctest.Wait()
			g = runtime.NumGoroutine()
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
		return g
	}
	one, six := count(1), count(6)
	// One either way is a daemon-wide goroutine (a notify job, a timer's
	// callback) that ran in one count and not the other; two per instance
	// would be ten.
	if d := six - one; d < 4 || d > 6 {
		t.Errorf("%d more goroutines for 5 more instances, want one each", d)
	}
}

// batchWatch is a dropWatch that drops many addresses in one call.
type batchWatch struct {
	dropWatch
	calls [][]netip.Addr
}

func (s *batchWatch) DropSocketsOf(addrs []netip.Addr) (int, error) {
	s.calls = append(s.calls, slices.Clone(addrs))
	return s.DropSockets(netip.Addr{})
}

// A starting vipd drops the connections left bound to its absent VIPs (a
// crashed run's) in batches, not one sock_diag dump per VIP: 1,000 of
// those took 3 s of CPU at startup. Taking the VIPs over later needs no
// drop; a stopping vipd drops those of every VIP it gave up in one batch,
// after all its priority-0 adverts.
func TestDaemonDropsInBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 6
		net := nodetest.NewNetwork("eth0")
		sys := &batchWatch{dropWatch: dropWatch{System: net.System(netip.MustParseAddr("198.51.100.11")), seg: net.Segment("eth0")}}
		_, cancel, done := runInstances(t, sys, n)
		time.Sleep(vrrp.MasterDownInterval(100, time.Second) + time.Second)
		synctest.Wait()
		single := len(sys.zeros) - len(sys.calls)
		covered := 0
		for _, c := range sys.calls {
			covered += len(c)
		}
		if single != 0 || len(sys.calls) != 1 || covered != n {
			t.Errorf("at startup: %d single drops, batches %v; want none single, one batch of the %d VIPs", single, sys.calls, n)
		}
		before := len(sys.calls)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if len(sys.calls) != before+1 || len(sys.calls[before]) != n {
			t.Fatalf("at stop: batches %v, want one of the %d VIPs", sys.calls[before:], n)
		}
		if z := sys.zeros[len(sys.zeros)-1]; z != 2*n {
			t.Errorf("the stop's batch came after %d priority-0 adverts, want every one (%d)", z, 2*n)
		}
	})
}
