package ui

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vipkit/vip/node/control"
)

// A dual-stack pair: each node runs an IPv4 instance and an IPv6 one (its
// master a link-local address). The console shows both VIPs in full.
func TestDualStackVIPs(t *testing.T) {
	l := newLab(t)
	six := func(st control.State, prio uint8, vip bool) control.Instance {
		in := instance(st, prio, vip)
		in.Name, in.VRID, in.Version = "VI_6", 61, 3
		in.VIPs = []string{"2001:db8:5100::100/64"}
		in.Master = netip.MustParseAddr("fe80::ff:fe00:1")
		return in
	}
	l.send(0, Update{Conn: connected(t0.Add(-7200e9)), Event: snapshot(l.name(0),
		l.instance(control.StateMaster, 150, true), six(control.StateMaster, 150, true))})
	l.send(1, Update{Conn: connected(t0.Add(-7200e9)), Event: snapshot(l.name(1),
		l.instance(control.StateBackup, 100, false), six(control.StateBackup, 100, false))})
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		l.resize(size[0], size[1])
		s := l.screen()
		for _, want := range []string{"198.51.100.100", "2001:db8:5100::100", "VI_6"} {
			if !strings.Contains(s, want) {
				t.Errorf("%dx%d: the screen does not show %s:\n%s", size[0], size[1], want, s)
			}
		}
		t.Logf("%dx%d:\n%s", size[0], size[1], s)
	}
}
