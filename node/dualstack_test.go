package node

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/vrrp"
)

var simVIP6 = netip.MustParsePrefix("2001:db8:5100::100/64")

// dualConf is a dual-stack node: an IPv4 and an IPv6 instance on eth0, both
// tracking one nginx check. The IPv6 one says no version, as keepalived's
// own IPv6 configurations do: it runs as VRRPv3.
func dualConf(i int) string {
	return fmt.Sprintf(`global_defs {
    router_id nginx-0%d
}
vipd_nginx_check nginx {
    url http://127.0.0.1/
    start_command "/bin/false"
    restart_deadline 0.5
}
vrrp_instance VI_4 {
    state BACKUP
    interface eth0
    virtual_router_id 60
    nopreempt
    advert_int 1
    virtual_ipaddress {
        %s
    }
    track_script {
        nginx
    }
}
vrrp_instance VI_6 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    nopreempt
    advert_int 1
    virtual_ipaddress {
        %s dev eth0
    }
    track_script {
        nginx
    }
}
`, i+1, simVIP, simVIP6)
}

// A dual-stack pair: both instances settle on the first node, its status
// shows both VIPs, the backup's instances drop nothing (each hears only its
// own VRID, the other instance's adverts go to its own socket), and when
// nginx dies both VIPs move together.
func TestDualStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(dualConf(i))
		}
		for _, n := range l.nodes {
			n.start()
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(vrrp.MasterDownInterval(100, time.Second) + 2*time.Second)
		synctest.Wait()
		m, b := l.nodes[0], l.nodes[1]
		for _, name := range []string{"VI_4", "VI_6"} {
			if st := m.state(name); st != control.StateMaster {
				t.Fatalf("n1 %s is %v, want MASTER", name, st)
			}
			if st := b.state(name); st != control.StateBackup {
				t.Fatalf("n2 %s is %v, want BACKUP", name, st)
			}
		}
		if !m.holds("eth0", simVIP) || !m.holds("eth0", simVIP6) || b.holds("eth0", simVIP) || b.holds("eth0", simVIP6) {
			t.Fatal("the VIPs are not both on n1 alone")
		}
		st := m.d.Status()
		var vips []string
		for _, in := range st.Instances {
			vips = append(vips, in.VIPs...)
			if !in.VIPPresent {
				t.Errorf("n1 %s: VIP not present in its status", in.Name)
			}
		}
		if want := []string{simVIP.String(), simVIP6.String()}; !slices.Equal(vips, want) {
			t.Errorf("n1's status shows VIPs %v, want %v", vips, want)
		}
		six := b.inst("VI_6")
		if six.Version != 3 || six.Master != m.sys.Addr6() || six.Stats.AdvertRcvd == 0 {
			t.Errorf("n2 VI_6: version %d, master %v, %d adverts; want 3, %v, some", six.Version, six.Master, six.Stats.AdvertRcvd, m.sys.Addr6())
		}
		// A third router's adverts for a VRID this pair does not run are
		// no instance's drops.
		other := vrrp.Advertisement{Version: vrrp.Version2, VRID: 99, Priority: 100, Interval: time.Second,
			Addresses: []netip.Addr{netip.MustParseAddr("198.51.100.99")}}
		msg, err := other.Append(nil, netip.Addr{}, netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			l.net.Segment("eth0").Inject(packet(netip.MustParseAddr("198.51.100.50"), msg))
		}
		synctest.Wait()
		var unclaimed uint64
		b.d.socks.mu.Lock()
		for _, ss := range b.d.socks.open {
			unclaimed += ss.mux.Unclaimed()
		}
		b.d.socks.mu.Unlock()
		if unclaimed < 10 {
			t.Errorf("n2's sockets counted %d adverts for VRIDs it does not run, want the 10 sent (and n1's)", unclaimed)
		}
		for _, name := range []string{"VI_4", "VI_6"} {
			if d := b.inst(name).Stats.Drops; len(d) != 0 {
				t.Errorf("n2 %s dropped adverts: %v", name, d)
			}
		}
		// One socket per family on each node.
		if n := b.d.socks.count(); n != 2 {
			t.Errorf("n2 has %d advert sockets, want 2 (IPv4 and IPv6 on eth0)", n)
		}

		m.nginx.Break(brokenNginx)
		time.Sleep(time.Second)
		for _, name := range []string{"VI_4", "VI_6"} {
			if st := m.state(name); st != control.StateFault {
				t.Errorf("n1 %s is %v after nginx died, want FAULT", name, st)
			}
			if st := b.state(name); st != control.StateMaster {
				t.Errorf("n2 %s is %v after n1's nginx died, want MASTER", name, st)
			}
		}
		if m.holds("eth0", simVIP6) || !b.holds("eth0", simVIP6) || !b.holds("eth0", simVIP) {
			t.Error("the VIPs did not both move to n2")
		}
	})
}

// virtual_ipaddress_excluded, as keepalived has it: an IPv4 instance holds
// an IPv6 address (and a second IPv4 one) with its VIP, moves them with it,
// and does not advertise them: the backup counts no VIP list mismatch.
func TestExcludedVIPs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ex4 := netip.MustParsePrefix("198.51.100.101/24")
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, fmt.Sprintf("    virtual_ipaddress_excluded {\n        %s\n        %s dev eth0\n    }\n", ex4, simVIP6)))
		}
		m := l.settle()
		b := l.nodes[1]
		if m != l.nodes[0] {
			t.Fatalf("%s is master, want n1", m.name)
		}
		for _, p := range []netip.Prefix{simVIP, ex4, simVIP6} {
			if !m.holds("eth0", p) || b.holds("eth0", p) {
				t.Errorf("%s: on n1 %v, on n2 %v; want n1 only", p, m.holds("eth0", p), b.holds("eth0", p))
			}
		}
		if vips, want := m.inst("VI_1").VIPs, []string{simVIP.String(), ex4.String(), simVIP6.String()}; !slices.Equal(vips, want) {
			t.Errorf("n1's status shows VIPs %v, want %v", vips, want)
		}
		if st := b.inst("VI_1"); st.Stats.AdvertRcvd == 0 || st.Stats.AddressMismatch != 0 {
			t.Errorf("n2 heard %d adverts, %d with a different VIP list; want some, none", st.Stats.AdvertRcvd, st.Stats.AddressMismatch)
		}
		m.nginx.Break(brokenNginx)
		time.Sleep(time.Second)
		synctest.Wait()
		for _, p := range []netip.Prefix{simVIP, ex4, simVIP6} {
			if m.holds("eth0", p) || !b.holds("eth0", p) {
				t.Errorf("%s after n1's nginx broke: on n1 %v, on n2 %v; want n2 only", p, m.holds("eth0", p), b.holds("eth0", p))
			}
		}
	})
}
