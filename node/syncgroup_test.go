package node

import (
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/vrrp"
)

// syncConf is simConf with a second instance, VI_2 on eth1 (VRID 61,
// 198.51.100.101, no check of its own), and both in vrrp_sync_group G with
// its notify hooks.
func syncConf(i int) string {
	return simConf(i, "") + `vrrp_instance VI_2 {
    state BACKUP
    interface eth1
    virtual_router_id 61
    nopreempt
    virtual_ipaddress {
        198.51.100.101/24
    }
}
vrrp_sync_group G {
    group {
        VI_1
        VI_2
    }
    notify_master "/bin/g master"
    notify_backup "/bin/g backup"
    notify_fault "/bin/g fault" nobody
    notify /bin/gany
}
`
}

// groupRuns returns the group's notify scripts n ran, as "argv..." lines.
func groupRuns(n *simNode) []string {
	var out []string
	for _, r := range n.notify.Runs() {
		a := strings.Join(r.Argv, " ")
		if strings.HasPrefix(a, "/bin/g") {
			if r.User != "" {
				a += " as " + r.User
			}
			out = append(out, a)
		}
	}
	return out
}

func TestSyncGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0", "eth1")
		for i, n := range l.nodes {
			n.write(syncConf(i))
		}
		n1 := l.settle() // the master: either node, as the timers fall
		n2 := l.nodes[1]
		if n2 == n1 {
			n2 = l.nodes[0]
		}
		both := func(n *simNode, want control.State) {
			t.Helper()
			if a, b := n.state("VI_1"), n.state("VI_2"); a != want || b != want {
				t.Fatalf("%s: VI_1 %v, VI_2 %v, want both %v", n.name, a, b, want)
			}
		}
		both(n1, control.StateMaster)
		both(n2, control.StateBackup)

		// One member's fault takes the group down: nginx dies on n1, VI_1
		// goes FAULT, and VI_2, which checks nothing, with it. n2 takes
		// both.
		n1.nginx.Break(brokenNginx)
		time.Sleep(time.Second)
		both(n1, control.StateFault)
		both(n2, control.StateMaster)
		if r := n1.inst("VI_2").FaultReason; !strings.Contains(r, "vrrp_sync_group G: VI_1 in FAULT") {
			t.Errorf("VI_2 fault reason %q", r)
		}
		if !n2.holds("eth1", netipMust("198.51.100.101/24")) || n1.holds("eth1", netipMust("198.51.100.101/24")) {
			t.Errorf("VI_2's VIP did not move to n2")
		}

		// nginx back: the whole group resumes as BACKUP.
		if err := n1.nginx.Repair(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		both(n1, control.StateBackup)
		both(n2, control.StateMaster)

		// n1 stops hearing VRID 61 only (eth1 partitioned): its VI_2 times
		// out but VI_1 still hears n2, so the group stays BACKUP rather
		// than thrash (keepalived's vrrp_sync_can_goto_master).
		l.net.Segment("eth1").Partition([]netip.Addr{simAddr(0)}, []netip.Addr{simAddr(1)})
		time.Sleep(2*vrrp.MasterDownInterval(100, time.Second) + 500*time.Millisecond)
		both(n1, control.StateBackup)
		both(n2, control.StateMaster)
		var want bool
		n1.d.mu.Lock()
		vi2 := n1.d.units[1]
		n1.d.mu.Unlock()
		vi2.engine(func(e *vrrp.Instance) { want = e.Status().WantMaster })
		if !want {
			t.Errorf("n1 VI_2 does not want to be master")
		}

		// n1 hears neither VRID: both members time out, and the group
		// goes MASTER as one (split brain: n2 is master too).
		l.net.Segment("eth0").Partition([]netip.Addr{simAddr(0)}, []netip.Addr{simAddr(1)})
		time.Sleep(vrrp.MasterDownInterval(100, time.Second) + 500*time.Millisecond)
		both(n1, control.StateMaster)
		both(n2, control.StateMaster)

		// Healed: the higher address wins (nodes[1]); the other's members
		// step down, the group with them. Which of n1 and n2 that is
		// depends on who settled as master.
		l.net.Segment("eth0").Heal()
		l.net.Segment("eth1").Heal()
		time.Sleep(2 * time.Second)
		hi, lo := l.nodes[1], l.nodes[0]
		both(hi, control.StateMaster)
		both(lo, control.StateBackup)

		// n1 and n2 ran the group's hooks, notify with "GROUP" G STATE 0.
		const backup, master = "/bin/g backup\n/bin/gany GROUP G BACKUP 0", "/bin/g master\n/bin/gany GROUP G MASTER 0"
		want1 := []string{backup, master, "/bin/g fault as nobody\n/bin/gany GROUP G FAULT 0", backup, master}
		want2 := []string{backup, master}
		if n1 == lo {
			want1 = append(want1, backup)
		} else {
			want2 = append(want2, backup)
		}
		for _, c := range []struct {
			n    *simNode
			want []string
		}{{n1, want1}, {n2, want2}} {
			if got, want := strings.Join(groupRuns(c.n), "\n"), strings.Join(c.want, "\n"); got != want {
				t.Errorf("%s group notifies:\n got %q\nwant %q", c.n.name, got, want)
			}
		}

		// A graceful stop ends with the group's STOP, as keepalived's
		// notify_shutdown.
		n2.stop()
		if got := groupRuns(n2); len(got) == 0 || got[len(got)-1] != "/bin/gany GROUP G STOP 0" {
			t.Errorf("n2 group notifies after stop: %q, want the last to be notify ... STOP", got)
		}
	})
}

// A notify line's user is the user the script runs as, over script_user.
func TestNotifyJobsUser(t *testing.T) {
	c := parse(t, "global_defs {\n    script_user keepalived_script\n}\n"+
		"vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 60\n    virtual_ipaddress {\n        198.51.100.100/24\n    }\n"+
		"    notify_master /bin/true nobody\n    notify_backup /bin/true\n    notify /bin/any nobody\n}\n")
	s, err := newSpec(c, &c.Instances[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		to   vrrp.State
		want string
	}{
		{vrrp.StateMaster, "notify_master /bin/true as nobody; notify /bin/any INSTANCE VI_1 MASTER 100 as nobody"},
		{vrrp.StateBackup, "notify_backup /bin/true as keepalived_script; notify /bin/any INSTANCE VI_1 BACKUP 100 as nobody"},
	} {
		var got []string
		for _, j := range notifyJobs(s, tt.to) {
			got = append(got, j.hook+" "+strings.Join(j.argv, " ")+" as "+j.user)
		}
		if g := strings.Join(got, "; "); g != tt.want {
			t.Errorf("%v: %s, want %s", tt.to, g, tt.want)
		}
	}
}
