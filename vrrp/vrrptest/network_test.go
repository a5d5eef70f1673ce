package vrrptest

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/vrrp"
)

var (
	addrA = netip.MustParseAddr("198.51.100.1")
	addrB = netip.MustParseAddr("198.51.100.2")
	addrC = netip.MustParseAddr("198.51.100.3")
	vip   = netip.MustParsePrefix("198.51.100.100/24")
)

// advert returns a v3 advert from src to dst with a correct checksum.
func advert(t *testing.T, src, dst netip.Addr, prio uint8) []byte {
	t.Helper()
	a := vrrp.Advertisement{Version: vrrp.Version3, VRID: 1, Priority: prio, Interval: time.Second, Addresses: []netip.Addr{vip.Addr()}}
	b, err := a.Append(nil, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pending returns what c has received so far, without waiting.
func pending(t *testing.T, c vrrp.Conn) []vrrp.PacketInfo {
	t.Helper()
	var infos []vrrp.PacketInfo
	for {
		if err := c.SetReadDeadline(time.Now().Add(time.Nanosecond)); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1500)
		n, info, err := c.ReadFrom(b)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return infos
		}
		if err != nil {
			t.Fatal(err)
		}
		// What arrives must pass the engine's checks: TTL, v3 checksum.
		f := vrrp.Filter{Version: vrrp.Version3, VRID: 1}
		var a vrrp.Advertisement
		if err := f.Accept(b[:n], info, &a); err != nil {
			t.Errorf("delivered packet rejected: %v", err)
		}
		infos = append(infos, info)
	}
}

func TestNetworkDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		a, b, c := n.Host(addrA), n.Host(addrB), n.Host(addrC)
		if n.Host(addrA) != a {
			t.Fatal("Host is not idempotent")
		}
		buf := advert(t, addrA, vrrp.Group, 100)
		if err := a.Conn().WriteTo(buf, vrrp.Group); err != nil {
			t.Fatal(err)
		}
		buf[0] = 0 // the sender's buffer is its own again
		if got := pending(t, a.Conn()); len(got) != 0 {
			t.Errorf("sender received its own multicast: %v", got)
		}
		for _, h := range []*Host{b, c} {
			got := pending(t, h.Conn())
			want := vrrp.PacketInfo{Src: addrA, Dst: vrrp.Group, TTL: 255, IfIndex: 1}
			if len(got) != 1 || got[0] != want {
				t.Errorf("%v received %v, want [%v]", h.Addr(), got, want)
			}
		}

		// Unicast reaches only its destination.
		if err := a.Conn().WriteTo(advert(t, addrA, addrC, 100), addrC); err != nil {
			t.Fatal(err)
		}
		if got := pending(t, b.Conn()); len(got) != 0 {
			t.Errorf("unicast to C reached B")
		}
		if got := pending(t, c.Conn()); len(got) != 1 || got[0].Dst != addrC {
			t.Errorf("unicast to C: %v", got)
		}
		if p := n.Packets(); len(p) != 2 || p[0].Payload[0] == 0 {
			t.Errorf("recorded %d packets (or a shared buffer)", len(p))
		}
	})
}

func TestNetworkFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		a, b, c := n.Host(addrA), n.Host(addrB), n.Host(addrC)
		send := func() {
			t.Helper()
			if err := a.Conn().WriteTo(advert(t, addrA, vrrp.Group, 100), vrrp.Group); err != nil {
				t.Fatal(err)
			}
		}
		count := func(h *Host) int { return len(pending(t, h.Conn())) }

		n.Partition([]netip.Addr{addrA, addrB}) // C alone
		send()
		if count(b) != 1 || count(c) != 0 {
			t.Error("partition: want B reached and C not")
		}
		n.Heal()
		send()
		if count(b) != 1 || count(c) != 1 {
			t.Error("healed: want both reached")
		}

		n.SetLoss(1)
		send()
		if count(b) != 0 || count(c) != 0 {
			t.Error("loss 1: something arrived")
		}
		if lost, _ := n.Lost(); lost != 2 {
			t.Errorf("lost %d, want 2", lost)
		}
		n.SetLoss(0)

		n.SetDelay(50*time.Millisecond, 0)
		send()
		if count(b) != 0 {
			t.Error("delayed packet arrived at once")
		}
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		if count(b) != 1 {
			t.Error("delayed packet did not arrive")
		}
		n.SetDelay(0, 0)

		// Inject bypasses the rules, TTL included.
		n.Inject(Packet{Src: addrC, Dst: addrB, TTL: 1, Payload: advert(t, addrC, addrB, 1)})
		conn := b.Conn()
		if err := conn.SetReadDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 100)
		if _, info, err := conn.ReadFrom(buf); err != nil || info.TTL != 1 {
			t.Errorf("injected: %v %v", info, err)
		}
	})
}

func TestHostCrashRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(1)
		a, b := n.Host(addrA), n.Host(addrB)
		if err := a.Addresser().AddAddress(vip); err != nil {
			t.Fatal(err)
		}
		old := a.Conn()
		read := make(chan error)
		go func() {
			_, _, err := old.ReadFrom(make([]byte, 100))
			read <- err
		}()
		synctest.Wait()
		a.Crash()
		if err := <-read; !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked read after crash: %v, want net.ErrClosed", err)
		}
		// The dead router's leftovers change nothing.
		_ = a.Addresser().RemoveAddress(vip)
		_ = a.Announcer().Announce(vip.Addr())
		if !a.Addresser().Has(vip) || len(a.Announcer().Announcements()) != 0 || !a.Crashed() {
			t.Error("a crashed host changed")
		}
		if h := n.Holders(vip); len(h) != 0 {
			t.Errorf("holders %v: a crashed host does not count", h)
		}
		_ = b.Conn().WriteTo(advert(t, addrB, vrrp.Group, 100), vrrp.Group)

		conn := a.Restart()
		if conn == old || a.Conn() != conn || a.Crashed() {
			t.Fatal("restart did not give a new conn")
		}
		if got := pending(t, conn); len(got) != 0 {
			t.Errorf("restarted host got %d packets sent while it was down", len(got))
		}
		if h := n.Holders(vip); len(h) != 1 || h[0] != addrA {
			t.Errorf("holders %v, want the restarted host with its stale VIP", h)
		}
		if err := a.Addresser().RemoveAddress(vip); err != nil || a.Addresser().Has(vip) {
			t.Errorf("restarted host cannot remove its VIP: %v", err)
		}

		a.Addresser().SetError(errors.New("boom"))
		if err := a.Addresser().AddAddress(vip); err == nil || a.Addresser().Has(vip) {
			t.Error("SetError did not fail AddAddress")
		}
	})
}
