//go:build linux

package vrrp_test

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/vrrp"
)

// v3 adverts over IPv6 between two lab nodes, multicast from the
// link-local address and unicast between global ones: hop limit 255 as
// received, the sources and destinations without zones, and the checksum
// over the IPv6 pseudo-header verifies on the receiver.
func TestLinuxConn6(t *testing.T) {
	lab := netns.New(t, netns.Config{Nodes: 2})
	n1, n2 := lab.Nodes[0], lab.Nodes[1]
	idx2 := ifindex(t, n2)
	for _, tt := range []struct {
		name       string
		cfg1, cfg2 vrrp.ListenConfig
		src, dst   netip.Addr
	}{
		{"multicast", vrrp.ListenConfig{Family: vrrp.IPv6, Source: n1.LinkLocal}, vrrp.ListenConfig{Family: vrrp.IPv6, Source: n2.LinkLocal},
			n1.LinkLocal, vrrp.Group6},
		{"unicast global", vrrp.ListenConfig{Family: vrrp.IPv6, Source: n1.Addr6, Peers: []netip.Addr{n2.Addr6}},
			vrrp.ListenConfig{Family: vrrp.IPv6, Source: n2.Addr6, Peers: []netip.Addr{n1.Addr6}}, n1.Addr6, n2.Addr6},
		{"unicast link-local", vrrp.ListenConfig{Family: vrrp.IPv6, Source: n1.LinkLocal, Peers: []netip.Addr{n2.LinkLocal}},
			vrrp.ListenConfig{Family: vrrp.IPv6, Source: n2.LinkLocal, Peers: []netip.Addr{n1.LinkLocal}}, n1.LinkLocal, n2.LinkLocal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c1 := listen(t, n1, tt.cfg1)
			c2 := listen(t, n2, tt.cfg2)
			adv := vrrp.Advertisement{Version: vrrp.Version3, Family: vrrp.IPv6, VRID: 61, Priority: 100,
				Interval: time.Second, Addresses: []netip.Addr{netip.MustParseAddr("2001:db8:5100::100")}}
			b, err := adv.Append(nil, tt.src, tt.dst)
			if err != nil {
				t.Fatal(err)
			}
			if err := c1.WriteTo(b, tt.dst); err != nil {
				t.Fatal(err)
			}
			info, err := readAdvert(t, c2, b, 2*time.Second)
			if err != nil {
				t.Fatalf("n2 did not receive the advert: %v", err)
			}
			want := vrrp.PacketInfo{Src: tt.src, Dst: tt.dst, TTL: 255, IfIndex: idx2}
			if info != want {
				t.Errorf("PacketInfo = %+v, want %+v", info, want)
			}
			f := vrrp.Filter{Version: vrrp.Version3, Family: vrrp.IPv6, VRID: 61, Peers: tt.cfg2.Peers}
			var got vrrp.Advertisement
			if err := f.Accept(b, info, &got); err != nil {
				t.Errorf("Filter.Accept: %v", err)
			}
			if _, err := readAdvert(t, c1, b, 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("n1 read its own advert: err = %v, want deadline exceeded", err)
			}
		})
	}
}

// The kernel filter passes only the configured VRIDs, over both families,
// and SetVRIDs changes it on an open socket.
func TestLinuxVRIDFilter(t *testing.T) {
	lab := netns.New(t, netns.Config{Nodes: 2})
	n1, n2 := lab.Nodes[0], lab.Nodes[1]
	for _, fam := range []vrrp.Family{vrrp.IPv4, vrrp.IPv6} {
		t.Run(fam.String(), func(t *testing.T) {
			src, vip := n1.Addr, netip.MustParseAddr("198.51.100.100")
			if fam == vrrp.IPv6 {
				src, vip = n1.LinkLocal, netip.MustParseAddr("2001:db8:5100::100")
			}
			dst := vrrp.GroupOf(fam)
			c1 := listen(t, n1, vrrp.ListenConfig{Family: fam, Source: src})
			c2 := listen(t, n2, vrrp.ListenConfig{Family: fam, VRIDs: []uint8{7, 200}})
			send := func(vrid uint8) []byte {
				t.Helper()
				adv := vrrp.Advertisement{Version: vrrp.Version3, Family: fam, VRID: vrid, Priority: 100,
					Interval: time.Second, Addresses: []netip.Addr{vip}}
				b, err := adv.Append(nil, src, dst)
				if err != nil {
					t.Fatal(err)
				}
				if err := c1.WriteTo(b, dst); err != nil {
					t.Fatal(err)
				}
				return b
			}
			// Filtered ones first: the next read must be the one that passes.
			send(8)
			send(1)
			b := send(200)
			c2.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 1500)
			n, _, err := c2.ReadFrom(buf)
			if err != nil || string(buf[:n]) != string(b) {
				t.Fatalf("first read: %d bytes VRID %d, %v; want the VRID 200 advert", n, buf[1], err)
			}
			if err := c2.SetVRIDs([]uint8{8}); err != nil {
				t.Fatal(err)
			}
			send(200)
			b = send(8)
			c2.SetReadDeadline(time.Now().Add(2 * time.Second))
			if n, _, err = c2.ReadFrom(buf); err != nil || string(buf[:n]) != string(b) {
				t.Fatalf("after SetVRIDs: %d bytes VRID %d, %v; want the VRID 8 advert", n, buf[1], err)
			}
			if _, err := readAdvert(t, c2, nil, 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("a filtered advert arrived: %v", err)
			}
		})
	}
}

// An IPv6 VIP goes on without duplicate address detection (never
// "tentative"), beside the node's own addresses, and comes off again.
func TestLinuxAddresser6(t *testing.T) {
	lab := netns.New(t, netns.Config{Nodes: 1})
	n1 := lab.Nodes[0]
	// DAD off on the interface would hide a missing nodad: turn it on.
	if _, err := n1.Output(t.Context(), "sysctl", "-q", "-w", "net.ipv6.conf."+n1.Ifname+".accept_dad=1"); err != nil {
		t.Fatal(err)
	}
	a := newAddresser(t, n1)
	vip6 := netip.MustParsePrefix("2001:db8:5100::100/64")
	for range 2 { // idempotent
		if err := a.AddAddress(vip6); err != nil {
			t.Fatalf("AddAddress: %v", err)
		}
	}
	if ok, err := a.HasAddress(vip6); err != nil || !ok {
		t.Fatalf("HasAddress = %v, %v after AddAddress", ok, err)
	}
	if ok, _ := a.HasAddress(netip.MustParsePrefix("2001:db8:5100::100/128")); ok {
		t.Fatal("HasAddress confuses prefix lengths")
	}
	out, err := n1.Output(t.Context(), "ip", "-6", "-o", "addr", "show", "dev", n1.Ifname)
	if err != nil {
		t.Fatal(err)
	}
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, vip6.String()) {
			line = l
		}
	}
	if !strings.Contains(line, "nodad") || strings.Contains(line, "tentative") {
		t.Fatalf("VIP not added with nodad:\n%s", out)
	}
	if !hasAddr(t, n1, n1.Prefix6) {
		t.Fatalf("%s is gone", n1.Prefix6)
	}
	for range 2 {
		if err := a.RemoveAddress(vip6); err != nil {
			t.Fatalf("RemoveAddress: %v", err)
		}
	}
	if hasAddr(t, n1, vip6) || !hasAddr(t, n1, n1.Prefix6) {
		t.Fatal("RemoveAddress did not remove exactly the VIP")
	}
}

// An unsolicited neighbour advertisement with Override moves the client's
// neighbour entry for the VIP to the announcing node, as keepalived's do.
func TestLinuxAnnouncer6(t *testing.T) {
	lab := netns.New(t, netns.Config{Nodes: 2})
	n1, n2, client := lab.Nodes[0], lab.Nodes[1], lab.Client
	vip6 := netip.MustParsePrefix("2001:db8:5100::100/64")
	// n1 held the VIP and the client learned it there.
	if _, err := n1.Output(t.Context(), "ip", "-6", "addr", "add", vip6.String(), "dev", n1.Ifname, "nodad"); err != nil {
		t.Fatal(err)
	}
	// A fresh link may lose the first solicitation: a few tries.
	var err error
	for range 5 {
		if _, err = client.Output(t.Context(), "ping", "-6", "-n", "-q", "-c1", "-W1", vip6.Addr().String()); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if mac, _, err := client.Neighbor(vip6.Addr()); err != nil || mac.String() != n1.MAC.String() {
		t.Fatalf("client's entry before: %v %v, want %v", mac, err, n1.MAC)
	}
	// n2 takes it over.
	if _, err := n1.Output(t.Context(), "ip", "-6", "addr", "del", vip6.String(), "dev", n1.Ifname); err != nil {
		t.Fatal(err)
	}
	a2 := newAddresser(t, n2)
	if err := a2.AddAddress(vip6); err != nil {
		t.Fatal(err)
	}
	var ann *vrrp.ARPAnnouncer
	if err := n2.Do(func() (err error) {
		ann, err = vrrp.NewAnnouncer(n2.Ifname)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ann.Close() })
	// Sent from the test's own goroutine, outside the namespace: the
	// socket is n2's whatever thread writes.
	if err := ann.Announce(vip6.Addr()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		mac, state, err := client.Neighbor(vip6.Addr())
		if err == nil && mac.String() == n2.MAC.String() {
			t.Logf("client's entry: %v %s", mac, state)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client's entry for %s is %v (%s, %v) 1 s after the advertisement, want %v", vip6.Addr(), mac, state, err, n2.MAC)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
