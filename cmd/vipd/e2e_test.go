//go:build linux

package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/vrrp"
)

// TestLabSmoke: two nodes with real nginx and the seed's configuration.
// The first vipd started becomes MASTER and says so through the control
// socket; SIGTERM on it hands the VIP to the peer within Skew_Time.
func TestLabSmoke(t *testing.T) {
	l := newVipdLab(t, 2, nil)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	started := time.Now()
	n1.Start("-metrics", n1.Node.Addr.String()+":9100")
	in := n1.WaitState("VI_1", control.StateMaster, 10*time.Second)
	t.Logf("n1 MASTER %v after start (Master_Down_Interval %v)", time.Since(started).Round(time.Millisecond),
		vrrp.MasterDownInterval(100, time.Second))
	n2.Start()
	n2.WaitState("VI_1", control.StateBackup, 5*time.Second)
	time.Sleep(1500 * time.Millisecond) // an advert or two

	st := n1.Status()
	in = st.Instances[0]
	if st.RouterID != "nginx-n1" || in.State != control.StateMaster || !in.VIPPresent || in.Master != n1.Node.Addr ||
		in.VRID != 60 || in.Stats.AdvertSent == 0 {
		t.Errorf("n1 status: %+v", st)
	}
	if st.Nginx == nil || !st.Nginx.Healthy || st.Nginx.Checks == 0 {
		t.Errorf("n1 nginx guard: %+v", st.Nginx)
	}
	b := n2.Status().Instances[0]
	if b.State != control.StateBackup || b.VIPPresent || b.Master != n1.Node.Addr || b.Stats.AdvertRcvd == 0 ||
		len(b.Stats.Drops) != 0 {
		t.Errorf("n2 status: %+v", b)
	}
	if has, _ := n1.Node.HasAddr(labVIP); !has {
		t.Errorf("VIP not on n1's interface")
	}
	if has, _ := n2.Node.HasAddr(labVIP); has {
		t.Errorf("VIP on n2's interface too")
	}
	out, errOut, code := n1.CLI("status")
	if code != 0 || !strings.Contains(out, "VI_1") || !strings.Contains(out, "MASTER") {
		t.Errorf("vipd status: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("vipd status on n1:\n%s", out)

	// Metrics, read from inside n1's namespace. The socket must be made on
	// Do's thread: net/http dials on goroutines of its own, which would
	// run in the root namespace.
	var metrics string
	err := n1.Node.Do(func() error {
		c, err := net.DialTimeout("tcp", n1.Node.Addr.String()+":9100", 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.WriteString(c, "GET /metrics HTTP/1.0\r\nHost: vipd\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		metrics = resp.Status + "\n" + string(b)
		return err
	})
	if err != nil || !strings.Contains(metrics, `vipd_vrrp_state{instance="VI_1",state="MASTER"} 1`) {
		t.Errorf("metrics: %v\n%s", err, metrics)
	}

	// SIGHUP with a bad file: refused, nothing moves. With a file whose
	// engine settings did not change: VI_1 keeps running untouched.
	good := SeedConf(n1)
	n1.WriteConf(strings.Replace(good, "virtual_router_id 60", "virtual_router_id 600", 1))
	if err := n1.Proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, n1, "reload refused")
	n1.WriteConf(strings.Replace(good, "    track_script {", "    notify_master /bin/true\n    track_script {", 1))
	if err := n1.Proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, n1, "configuration reloaded")
	if after := n1.Status().Instances[0]; after.State != control.StateMaster || after.Transitions != in.Transitions {
		t.Errorf("after SIGHUP: %v, %d transitions; want MASTER, %d", after.State, after.Transitions, in.Transitions)
	}

	// SIGTERM: n1 sends priority 0 and drops the VIP; n2 takes over after
	// its Skew_Time (0.609 s at priority 100).
	stopped := time.Now()
	n1.Stop()
	n2.WaitVIP(true, 3*time.Second)
	took := time.Since(stopped)
	t.Logf("SIGTERM on n1 to the VIP on n2: %v (Skew_Time %v); n1 exited 0", took.Round(time.Millisecond), vrrp.SkewTime(100, time.Second))
	if has, _ := n1.Node.HasAddr(labVIP); has {
		t.Errorf("stopped vipd left the VIP on n1")
	}
	n2.WaitState("VI_1", control.StateMaster, time.Second)
	if testing.Verbose() {
		t.Logf("vipd on n1:\n%s", n1.Proc.Output())
	}
	if _, errOut, code := n1.CLI("status"); code != 1 || !strings.Contains(errOut, "vipd is not running") {
		t.Errorf("vipd status with vipd stopped: exit %d, stderr %q; want 1, vipd is not running", code, errOut)
	}
}

// TestLabKillRestart: vipd SIGKILLed on the master leaves the VIP; started
// again 100 ms later (systemd's Restart=always, RestartSec=0) it finds it,
// hears no other master and keeps it: the VIP never leaves n1 and n2 never
// takes it.
func TestLabKillRestart(t *testing.T) {
	l := newVipdLab(t, 2, nil)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	n1.Start()
	n1.WaitState("VI_1", control.StateMaster, 10*time.Second)
	n2.Start()
	n2.WaitState("VI_1", control.StateBackup, 5*time.Second)
	time.Sleep(1500 * time.Millisecond)

	if err := n1.Proc.SignalGroup(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	n1.Proc.Wait(5 * time.Second)
	time.Sleep(100*time.Millisecond - time.Since(killed))
	n1.Start()
	restarted := time.Since(killed)
	var absent, both int
	for time.Since(killed) < 5*time.Second {
		h1, err1 := n1.Node.HasAddr(labVIP)
		h2, err2 := n2.Node.HasAddr(labVIP)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !h1 {
			absent++
		}
		if h2 {
			both++
		}
		time.Sleep(5 * time.Millisecond)
	}
	in := n1.WaitState("VI_1", control.StateMaster, time.Second)
	b := n2.Status().Instances[0]
	t.Logf("killed, restarted after %v: VIP absent from n1 in %d samples, on n2 in %d; n1 %v (%d transitions), n2 %v following %v",
		restarted.Round(time.Millisecond), absent, both, in.State, in.Transitions, b.State, b.Master)
	if absent > 0 || both > 0 {
		t.Errorf("the VIP left n1 (%d samples) or was on n2 too (%d samples)", absent, both)
	}
	if b.State != control.StateBackup || b.Stats.BecomeMaster != 0 || b.Master != n1.Node.Addr {
		t.Errorf("n2 %v following %v, became master %d times; want BACKUP following n1, never master", b.State, b.Master, b.Stats.BecomeMaster)
	}
	if !strings.Contains(n1.Proc.Output(), "kept leftover VIPs") {
		t.Errorf("n1 did not say it kept its leftover VIP:\n%s", n1.Proc.Output())
	}
}

// waitOutput waits up to 5 s for vipd's log to contain s.
func waitOutput(t *testing.T, v *vipdNode, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(v.Proc.Output(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: vipd did not log %q:\n%s", v.Node.Name, s, v.Proc.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
