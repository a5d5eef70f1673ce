package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/node/nodetest"
	"github.com/vipkit/vip/vrrp"
)

// skew is Skew_Time at priority 100 (VRRPv2).
var skew = vrrp.SkewTime(100, time.Second)

func TestDaemonFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, ""))
		}
		m := l.settle()
		if m != l.nodes[0] {
			t.Fatalf("%s master, want n1 (started first)", m.name)
		}
		b := l.nodes[1]
		if !m.holds("eth0", simVIP) || b.holds("eth0", simVIP) {
			t.Fatalf("VIP on n1 %v, n2 %v: want n1 only", m.holds("eth0", simVIP), b.holds("eth0", simVIP))
		}
		in := m.inst("VI_1")
		if !in.VIPPresent || in.State != control.StateMaster || in.Master != simAddr(0) || in.Stats.AdvertSent == 0 {
			t.Errorf("master status %+v", in)
		}
		if bi := b.inst("VI_1"); bi.State != control.StateBackup || bi.Master != simAddr(0) || bi.VIPPresent || bi.Stats.AdvertRcvd == 0 {
			t.Errorf("backup status %+v", bi)
		}

		// nginx dies on the master and cannot be restarted: FAULT, and the
		// backup takes over after Skew_Time.
		died := time.Now()
		m.nginx.Break(brokenNginx)
		time.Sleep(time.Second)
		if st := m.state("VI_1"); st != control.StateFault {
			t.Fatalf("n1 %v after nginx died, want FAULT", st)
		}
		if st := b.state("VI_1"); st != control.StateMaster {
			t.Fatalf("n2 %v after n1's nginx died, want MASTER", st)
		}
		if m.holds("eth0", simVIP) || !b.holds("eth0", simVIP) {
			t.Errorf("VIP not moved to n2")
		}
		if r := m.inst("VI_1").FaultReason; !strings.Contains(r, "connection refused") {
			t.Errorf("fault reason %q", r)
		}
		t.Logf("nginx death to FAULT and takeover within %v", time.Since(died))

		// nginx comes back: BACKUP, and under nopreempt n2 keeps the VIP.
		if err := m.nginx.Repair(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		if st := m.state("VI_1"); st != control.StateBackup {
			t.Errorf("n1 %v after nginx came back, want BACKUP", st)
		}
		if st := b.state("VI_1"); st != control.StateMaster {
			t.Errorf("n2 %v after n1 recovered, want MASTER still (nopreempt)", st)
		}

		// SIGTERM on the master: priority 0, the peer takes over after
		// Skew_Time.
		stopped := time.Now()
		b.stop()
		if b.holds("eth0", simVIP) {
			t.Errorf("stopped vipd left its VIP")
		}
		time.Sleep(skew + 10*time.Millisecond)
		if st := m.state("VI_1"); st != control.StateMaster {
			t.Errorf("n1 %v %v after n2 stopped, want MASTER", st, time.Since(stopped))
		}
	})
}

// TestNginxDeathSeenAtOnce: with a pid file, the death of nginx's master
// wakes the guard at once (a pidfd; the stand-in's watch here): a start
// that fails puts the master in FAULT at that instant, not at the next
// check, and the peer takes over after its Skew_Time.
func TestNginxDeathSeenAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(strings.Replace(simConf(i, ""), "url http://127.0.0.1/\n", "url http://127.0.0.1/\n    pidfile /run/nginx.pid\n", 1))
		}
		m := l.settle()
		b := l.nodes[1]
		time.Sleep(time.Millisecond) // off the guard's schedule
		died := time.Now()
		m.nginx.Break(brokenNginx)
		synctest.Wait()
		in := m.inst("VI_1")
		if in.State != control.StateFault || !strings.Contains(in.FaultReason, "no pid file /run/nginx.pid") ||
			!strings.Contains(in.FaultReason, brokenNginx) {
			t.Fatalf("n1 %v (%q) at once after nginx died, want FAULT for its pid file and failed start", in.State, in.FaultReason)
		}
		time.Sleep(skew + time.Millisecond)
		if st := b.state("VI_1"); st != control.StateMaster {
			t.Fatalf("n2 %v %v after n1's nginx died, want MASTER after Skew_Time %v", st, time.Since(died), skew)
		}
	})
}

func TestOperatorFaultOutlastsGuard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, ""))
		}
		m := l.settle()
		b := l.nodes[1]
		ctx := context.Background()

		if err := m.d.Fault(ctx, control.Request{Cmd: control.CmdFault, Instance: "VI_1", Reason: "drill", By: "alice"}); err != nil {
			t.Fatal(err)
		}
		if m.holds("eth0", simVIP) {
			t.Errorf("VIP still on n1 when Fault returned")
		}
		time.Sleep(skew + 10*time.Millisecond)
		if st := b.state("VI_1"); st != control.StateMaster {
			t.Fatalf("n2 %v after n1's operator fault, want MASTER", st)
		}

		// nginx fails and recovers: its Healthy verdict must not end the
		// operator's fault.
		m.nginx.Break(brokenNginx)
		time.Sleep(time.Second)
		if err := m.nginx.Repair(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		in := m.inst("VI_1")
		if in.State != control.StateFault || in.FaultReason != "fault requested: drill" {
			t.Fatalf("n1 %v (%q) after nginx recovered, want FAULT (fault requested: drill)", in.State, in.FaultReason)
		}
		if err := m.d.Fault(ctx, control.Request{Cmd: control.CmdFault, Instance: "VI_9"}); err == nil || !strings.Contains(err.Error(), `unknown instance "VI_9"`) {
			t.Errorf("Fault of an unknown instance: %v", err)
		}

		// While nginx is failed, resume clears the operator's fault only.
		m.nginx.Break(brokenNginx)
		time.Sleep(time.Second)
		err := m.d.Resume(ctx, control.Request{Cmd: control.CmdResume, Instance: "VI_1"})
		if err == nil || !strings.Contains(err.Error(), "VI_1 stays in FAULT: nginx: ") {
			t.Errorf("Resume while nginx failed: %v, want it to say VI_1 stays in FAULT because of nginx", err)
		}
		if st := m.state("VI_1"); st != control.StateFault {
			t.Errorf("n1 %v, want FAULT while nginx fails", st)
		}
		if err := m.nginx.Repair(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if st := m.state("VI_1"); st != control.StateBackup {
			t.Errorf("n1 %v after nginx recovered with no operator fault, want BACKUP", st)
		}

		// Fault and resume again with a healthy nginx: BACKUP at once.
		if err := m.d.Fault(ctx, control.Request{Cmd: control.CmdFault, Reason: "again"}); err != nil {
			t.Fatal(err)
		}
		if err := m.d.Resume(ctx, control.Request{Cmd: control.CmdResume}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // an advert of n2
		in = m.inst("VI_1")
		if in.State != control.StateBackup || in.Master != simAddr(1) {
			t.Errorf("n1 %v following %v after resume, want BACKUP following n2", in.State, in.Master)
		}
		if st := b.state("VI_1"); st != control.StateMaster {
			t.Errorf("n2 %v, want MASTER throughout (nopreempt)", st)
		}
	})
}

func TestWatchAndNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, `    notify_master "/bin/master.sh"
    notify_fault /bin/fault.sh
    notify "/bin/any.sh arg"
`))
		}
		m := l.settle()
		ctx, cancel := context.WithCancel(context.Background())
		snap, events, err := m.d.Watch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Instances) != 1 || snap.Instances[0].State != control.StateMaster || snap.Nginx == nil || !snap.Nginx.Healthy {
			t.Fatalf("snapshot %+v", snap)
		}
		if err := m.d.Fault(ctx, control.Request{Cmd: control.CmdFault, Instance: "VI_1", Reason: "drill", By: "alice",
			Peer: &control.Peer{PID: 7}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		cancel()
		var got []string
		for ev := range events {
			switch ev.Type {
			case control.EventCheck:
				continue
			case control.EventTransition:
				got = append(got, string(ev.Type)+" "+string(ev.From)+"->"+string(ev.To)+" "+ev.Reason)
			case control.EventAction:
				got = append(got, string(ev.Type)+" "+string(ev.Action)+" "+ev.Instance+" "+ev.By)
			case control.EventNotify:
				got = append(got, string(ev.Type)+" "+ev.Notify.Hook+" "+ev.Notify.Command)
			default:
				got = append(got, string(ev.Type))
			}
		}
		want := []string{
			"action fault VI_1 alice",
			"transition MASTER->FAULT fault requested: drill",
			"notify notify_fault /bin/fault.sh",
			"notify notify /bin/any.sh arg INSTANCE VI_1 FAULT 100",
		}
		if !slices.Equal(got, want) {
			t.Errorf("events:\n got %q\nwant %q", got, want)
		}
		// Every notify ran, one at a time, in transition order.
		var argv []string
		for _, r := range m.notify.Runs() {
			argv = append(argv, strings.Join(r.Argv, " "))
		}
		wantArgv := []string{
			"/bin/any.sh arg INSTANCE VI_1 BACKUP 100", // startup
			"/bin/master.sh",
			"/bin/any.sh arg INSTANCE VI_1 MASTER 100",
			"/bin/fault.sh",
			"/bin/any.sh arg INSTANCE VI_1 FAULT 100",
		}
		if !slices.Equal(argv, wantArgv) {
			t.Errorf("notify runs:\n got %q\nwant %q", argv, wantArgv)
		}
	})
}

// TestNotifySerial: scripts of quick transitions run one at a time, in
// transition order, however long each takes.
func TestNotifySerial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &nodetest.Notify{Took: func(argv []string) time.Duration {
			if argv[0] == "slow" {
				return 300 * time.Millisecond
			}
			return 10 * time.Millisecond
		}}
		var results []string
		n := newNotifier(f, time.Second, discard(), func(inst string, r control.Notify) {
			results = append(results, inst+" "+r.Hook+" "+r.Command)
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.Run(ctx)
		}()
		s := spec{Name: "VI_1", Engine: vrrp.Config{Priority: 100},
			Notify: notifyFor("slow", "fast", "slow", "fast", "any")}
		for _, st := range []vrrp.State{vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault, vrrp.StateBackup} {
			n.enqueue(notifyJobs(s, st)...)
			time.Sleep(time.Millisecond)
		}
		cancel() // what is queued still runs
		n.enqueue(notifyJobs(s, vrrp.StateInit)...)
		<-done
		runs := f.Runs()
		for i := 1; i < len(runs); i++ {
			if runs[i].Start.Before(runs[i-1].End) {
				t.Errorf("run %d %v started before run %d %v ended", i, runs[i].Argv, i-1, runs[i-1].Argv)
			}
		}
		want := []string{
			"VI_1 notify_backup fast", "VI_1 notify any INSTANCE VI_1 BACKUP 100",
			"VI_1 notify_master slow", "VI_1 notify any INSTANCE VI_1 MASTER 100",
			"VI_1 notify_fault slow", "VI_1 notify any INSTANCE VI_1 FAULT 100",
			"VI_1 notify_backup fast", "VI_1 notify any INSTANCE VI_1 BACKUP 100",
			"VI_1 notify_stop fast", "VI_1 notify any INSTANCE VI_1 STOP 100",
		}
		if !slices.Equal(results, want) {
			t.Errorf("runs:\n got %q\nwant %q", results, want)
		}
	})
}

// TestNotifyTimeout: a hung script is killed at the timeout, and the next
// one runs.
func TestNotifyTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &nodetest.Notify{Took: func(argv []string) time.Duration {
			if argv[0] == "hang" {
				return time.Hour
			}
			return 0
		}}
		var results []control.Notify
		n := newNotifier(f, 2*time.Second, discard(), func(_ string, r control.Notify) { results = append(results, r) })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.Run(ctx)
		}()
		n.enqueue(notifyJob{instance: "VI_1", hook: "notify_master", argv: []string{"hang"}},
			notifyJob{instance: "VI_1", hook: "notify", argv: []string{"ok"}})
		time.Sleep(3 * time.Second)
		cancel()
		<-done
		if len(results) != 2 || results[0].Exit != -1 || !strings.Contains(results[0].Error, "timed out after 2s") ||
			results[1].Exit != 0 || results[1].Error != "" {
			t.Errorf("results %+v", results)
		}
	})
}

func TestReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, ""))
		}
		m := l.settle()
		b := l.nodes[1]
		ctx := context.Background()
		before := m.inst("VI_1")
		loaded := m.d.Status().Config
		if loaded == nil || len(loaded.Files) != 1 || loaded.Files[0].SHA256 != sha256Hex(simConf(0, "")) ||
			loaded.Path != loaded.Files[0].Path || loaded.LoadedAt.IsZero() {
			t.Errorf("status config %+v: want the file loaded, its digest and load time", loaded)
		}

		// A bad file is refused; nothing changes.
		time.Sleep(time.Second)
		m.write(simConf(0, "    priority 300\n"))
		err := m.d.Reload(ctx)
		if err == nil || !strings.Contains(err.Error(), "priority: expected an integer 1-255") {
			t.Errorf("reload of a bad file: %v", err)
		}
		if got := m.d.Status().Config; !reflect.DeepEqual(got, loaded) {
			t.Errorf("status config after a refused reload %+v, want the running one %+v", got, loaded)
		}
		// Notify scripts and a new comment: the instance keeps running.
		m.write("! reloaded\n" + simConf(0, "    notify_master /bin/true\n"))
		if err := m.d.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if got := m.d.Status().Config; got.Files[0].SHA256 != sha256Hex("! reloaded\n"+simConf(0, "    notify_master /bin/true\n")) ||
			!got.LoadedAt.After(loaded.LoadedAt) {
			t.Errorf("status config after a reload %+v, want the new digest and a later load time than %v", got, loaded.LoadedAt)
		}
		time.Sleep(5 * time.Second)
		after := m.inst("VI_1")
		if after.State != control.StateMaster || after.Transitions != before.Transitions ||
			!after.LastTransition.Equal(before.LastTransition) || !m.holds("eth0", simVIP) {
			t.Errorf("instance disturbed by reloads that changed no engine setting: before %v (%d), after %v (%d)",
				before.State, before.Transitions, after.State, after.Transitions)
		}
		if st := b.state("VI_1"); st != control.StateBackup {
			t.Errorf("n2 %v, want BACKUP throughout", st)
		}
		if m.d.Status().Nginx == nil {
			t.Errorf("nginx guard gone after reload")
		}

		// An operator's fault outlives a reload that restarts the engine.
		if err := m.d.Fault(ctx, control.Request{Cmd: control.CmdFault, Reason: "maintenance"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		m.write(simConf(0, "    priority 150\n"))
		if err := m.d.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		in := m.inst("VI_1")
		if in.State != control.StateFault || in.BasePriority != 150 || in.FaultReason != "fault requested: maintenance" {
			t.Errorf("after a restarting reload: %v priority %d (%q), want FAULT 150 (fault requested: maintenance)",
				in.State, in.BasePriority, in.FaultReason)
		}
		if in.Transitions <= before.Transitions {
			t.Errorf("transitions %d, want counted on from %d", in.Transitions, before.Transitions)
		}
		if err := m.d.Resume(ctx, control.Request{Cmd: control.CmdResume}); err != nil {
			t.Fatal(err)
		}
		if st := m.state("VI_1"); st != control.StateBackup {
			t.Errorf("n1 %v after resume, want BACKUP", st)
		}
	})
}

// TestReloadAddsAndRemoves: a second instance on another network comes and
// goes with the configuration; the first keeps running.
func TestReloadAddsAndRemoves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 1, "eth0", "eth1")
		n := l.nodes[0]
		n.write(simConf(0, ""))
		n.start()
		time.Sleep(5 * time.Second)
		first := n.inst("VI_1")
		vip2 := "198.51.100.200/24"
		n.write(simConf(0, "") + `vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 61
    priority 200
    virtual_ipaddress {
        ` + vip2 + `
    }
}
`)
		if err := n.d.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		st := n.d.Status()
		if len(st.Instances) != 2 || st.Instances[1].State != control.StateMaster || !st.Instances[1].VIPPresent {
			t.Fatalf("after adding VI_2: %+v", st.Instances)
		}
		if in := st.Instances[0]; in.State != control.StateMaster || in.Transitions != first.Transitions {
			t.Errorf("VI_1 disturbed: %v, %d transitions (was %d)", in.State, in.Transitions, first.Transitions)
		}
		n.write(simConf(0, ""))
		if err := n.d.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(n.d.Status().Instances) != 1 || n.holds("eth1", netipMust(vip2)) {
			t.Errorf("VI_2 not removed, or its VIP left behind")
		}
	})
}

// TestTrackInterface: the instance's interface losing its carrier is a
// FAULT; back up, BACKUP.
func TestTrackInterface(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, ""))
		}
		m := l.settle()
		m.sys.SetLink("eth0", false)
		time.Sleep(200 * time.Millisecond)
		in := m.inst("VI_1")
		if in.State != control.StateFault || !strings.Contains(in.FaultReason, "interface eth0 down") {
			t.Errorf("n1 %v (%q) with eth0 down, want FAULT", in.State, in.FaultReason)
		}
		m.sys.SetLink("eth0", true)
		time.Sleep(200 * time.Millisecond)
		if st := m.state("VI_1"); st != control.StateBackup {
			t.Errorf("n1 %v with eth0 up again, want BACKUP", st)
		}
	})
}

// TestLeftoverVIP: vipd killed on the master and restarted 100 ms later
// keeps the VIP: the peer never takes over, and the VIP never goes away.
func TestLeftoverVIP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, ""))
		}
		m := l.settle()
		h, _ := m.sys.Host("eth0")
		killed := time.Now()
		h.Crash() // SIGKILL: no priority 0, the VIP stays
		m.cancel()
		<-m.done
		m.d = nil
		time.Sleep(100 * time.Millisecond)
		m.start()
		gone := false
		for range 200 {
			if !m.holds("eth0", simVIP) && !l.nodes[1].holds("eth0", simVIP) {
				gone = true
			}
			time.Sleep(10 * time.Millisecond)
		}
		if gone {
			t.Errorf("VIP absent after the restart")
		}
		if st, bst := m.state("VI_1"), l.nodes[1].state("VI_1"); st != control.StateMaster || bst != control.StateBackup {
			t.Errorf("%v after the restart: n1 %v, n2 %v; want MASTER and BACKUP", time.Since(killed), st, bst)
		}
	})
}

func TestStatusJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, ""))
		}
		m := l.settle()
		// An advert with the wrong password reaches n1: counted by reason.
		adv := vrrp.Advertisement{Version: vrrp.Version2, VRID: 60, Priority: 100, Interval: time.Second,
			AuthType: vrrp.AuthSimple, AuthData: vrrp.AuthData("wrong"), Addresses: []netipAddr{simVIP.Addr()}}
		b, err := adv.Append(nil, simAddr(5), vrrp.Group)
		if err != nil {
			t.Fatal(err)
		}
		l.net.Segment("eth0").Inject(packet(simAddr(5), b))
		synctest.Wait()
		out, err := json.Marshal(m.d.Status())
		if err != nil {
			t.Fatal(err)
		}
		st, err := control.DecodeStatus(strings.NewReader(string(out)))
		if err != nil {
			t.Fatal(err)
		}
		in := st.Instances[0]
		if st.RouterID != "nginx-01" || st.VipdVersion != "test" || in.Name != "VI_1" || in.VRID != 60 ||
			in.Stats.AuthFailure != 1 || in.Stats.Drops["auth_failure"] != 1 || !in.VIPPresent ||
			in.VIPs[0] != "198.51.100.100/24" || !in.NoPreempt || in.AdverInt.Duration() != time.Second {
			t.Errorf("status %s", out)
		}
		if g := st.Nginx; g == nil || g.Name != "nginx" || g.URL != "http://127.0.0.1/" || g.Checks == 0 || g.LastCheck.IsZero() {
			t.Errorf("nginx guard %+v", g)
		}
	})
}

func TestMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, "    notify_master /bin/true\n"))
		}
		m := l.settle()
		out, fams := scrape(t, m.d)
		checkFamilies(t, fams)
		for _, want := range []string{
			"# TYPE vipd_vrrp_state gauge\n",
			`vipd_vrrp_state{instance="VI_1",state="MASTER"} 1` + "\n",
			`vipd_vrrp_state{instance="VI_1",state="BACKUP"} 0` + "\n",
			`vipd_vrrp_transitions_total{instance="VI_1"} 2` + "\n",
			`vipd_vrrp_drops_total{instance="VI_1",reason="auth_failure"} 0` + "\n",
			`vipd_vrrp_vip_present{instance="VI_1"} 1` + "\n",
			`vipd_guard_healthy{guard="nginx"} 1` + "\n",
			`vipd_guard_check_duration_seconds_bucket{guard="nginx",le="+Inf"} `,
			`vipd_guard_checks_total{guard="nginx",result="fail"} 0` + "\n",
			`vipd_notify_runs_total{hook="notify_master",result="ok"} 1` + "\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
		// Every sample line is NAME{LABELS} VALUE and every family is typed.
		typed := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
				typed[strings.Fields(f)[0]] = true
				continue
			}
			if strings.HasPrefix(line, "# HELP ") {
				continue
			}
			name, _, ok := strings.Cut(line, "{")
			if !ok || !strings.Contains(line, "} ") {
				t.Errorf("bad sample line %q", line)
				continue
			}
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
			if !typed[name] && !typed[base] {
				t.Errorf("sample of untyped family: %q", line)
			}
		}
	})
}

// TestReloadHazards: a reload that would give the VIP up by mistake (an
// empty file, a running instance moved to an interface this host lacks) is
// refused and the master keeps its VIP; a VIP change is applied, warned.
func TestReloadHazards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, ""))
		}
		m := l.settle()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, events, err := m.d.Watch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name, file, want string
		}{
			{"empty file", "", "the new file has no vrrp_instance: it would stop VI_1"},
			{"interface missing", strings.Replace(simConf(0, ""), "interface eth0", "interface nosuch0", 1),
				"vrrp_instance VI_1: interface nosuch0 not found on this host"},
		} {
			m.write(tt.file)
			err := m.d.Reload(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: reload = %v, want refused with %q", tt.name, err, tt.want)
			}
			time.Sleep(2 * time.Second)
			if st := m.state("VI_1"); st != control.StateMaster || !m.holds("eth0", simVIP) {
				t.Errorf("%s: n1 %v, VIP held %v after a refused reload; want MASTER with the VIP", tt.name, st, m.holds("eth0", simVIP))
			}
		}
		m.write(strings.Replace(simConf(0, ""), simVIP.String(), "198.51.100.101/24", 1))
		if err := m.d.Reload(ctx); err != nil {
			t.Fatalf("reload with a new VIP: %v", err)
		}
		time.Sleep(time.Second)
		warned := false
		for len(events) > 0 {
			if e := <-events; strings.Contains(e.Error, "its VIPs change from [198.51.100.100/24] to [198.51.100.101/24]: change the peer's file") {
				warned = true
			}
		}
		if !warned {
			t.Error("no event warned that the VIP set changed on this node only")
		}
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
