//go:build linux

package console_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
)

// labTimeout bounds TestLabConsole; past it the test panics, naming
// itself, rather than wait for go test's global timeout.
const labTimeout = 3 * time.Minute

// The console end to end on the namespace lab: real nginx, real OpenSSH
// sshd and real vipd on two nodes, the console headless with its SSH and
// probe sockets in the lab's client namespace (demo.Lab, as `vipctl demo
// --lab` runs it). A master is elected and the console, the nodes'
// interfaces and the probe agree on it; a fault drill through the
// console's gate (`vipd ctl fault` over SSH) moves the VIP and the console
// follows; sshd crashing on the master leaves its panel disconnected
// while the other node's stays live.
func TestLabConsole(t *testing.T) {
	netns.Require(t)
	netns.RequireBinary(t, "nginx")
	netns.RequireBinary(t, "unshare")
	timer := time.AfterFunc(labTimeout, func() { panic(fmt.Sprintf("%s did not finish within %v", t.Name(), labTimeout)) })
	defer timer.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), labTimeout-10*time.Second)
	defer cancel()

	start := time.Now()
	l, err := demo.NewLab(ctx, demo.LabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("failed to close the lab: %v", err)
		}
	})
	t.Logf("lab up (vipd, nginx, sshd on 2 nodes) after %v", time.Since(start).Round(time.Millisecond))
	con := l.Console(console.Options{})
	err = con.RunHeadless(ctx, 100, 30, func(ctx context.Context, h *console.Headless) error {
		return labDrill(t, ctx, l, con, h)
	})
	if err != nil || t.Failed() {
		for _, n := range []string{"n1", "n2"} {
			t.Logf("vipd on %s:\n%s", n, l.VipdOutput(n))
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("whole test %v", time.Since(start).Round(time.Millisecond))
}

// labDrill runs on the console's goroutine: it reports with t.Errorf and
// returns an error to stop.
func labDrill(t *testing.T, ctx context.Context, l *demo.Lab, con *console.Console, h *console.Headless) error {
	began := time.Now()
	step := func(what string, timeout time.Duration, cond func(console.PairState) bool) (console.PairState, error) {
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		start := time.Now()
		p, err := h.Wait(sctx, demo.LabPairName, cond)
		if err != nil {
			v, _ := h.View(ctx)
			return p, fmt.Errorf("%s: %w; the console shows %+v:\n%s", what, err, p, v)
		}
		t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
		return p, nil
	}
	settledOn := func(want string) func(console.PairState) bool {
		return func(p console.PairState) bool { m, ok := p.Settled(); return ok && (want == "" || m == want) }
	}
	role := func(node string, st control.State) func(console.PairState) bool {
		return func(p console.PairState) bool { return p.Nodes[node].Roles["VI_1"] == st }
	}
	both := func(a, b func(console.PairState) bool) func(console.PairState) bool {
		return func(p console.PairState) bool { return a(p) && b(p) }
	}
	screen := func(want ...string) string {
		v, err := h.View(ctx)
		if err != nil {
			t.Errorf("view: %v", err)
			return ""
		}
		for _, w := range want {
			if !strings.Contains(v, w) {
				t.Errorf("the screen lacks %q:\n%s", w, v)
			}
		}
		return v
	}
	holders := func(want string) {
		got, err := l.Holders()
		if err != nil || !slices.Equal(got, []string{want}) {
			t.Errorf("the nodes' interfaces hold the VIP on %q (%v); the console says %s", got, err, want)
		}
	}
	gate := con.Executor()
	act := func(kind ui.ActionKind, node string) error {
		a := ui.Action{Kind: kind, Pair: demo.LabPairName, Node: node, Reason: "lab test drill"}
		if err := gate.Do(ctx, a); err != nil {
			return fmt.Errorf("%s %s: %w", kind, node, err)
		}
		return nil
	}

	// A master is elected; the nodes, the console and the probe agree.
	p, err := step("MASTER and BACKUP on the console, the probe answered by the master", 30*time.Second, settledOn(""))
	if err != nil {
		return err
	}
	t.Logf("first master on the console %v after the console started", time.Since(began).Round(time.Millisecond))
	master, _ := p.Settled()
	other := "n1"
	if master == other {
		other = "n2"
	}
	holders(master)
	screen("MASTER", "BACKUP", "held by "+master, master+" answers")

	// A fault drill through the console's gate: `vipd ctl fault` over SSH.
	if err := act(ui.ActionFault, master); err != nil {
		return err
	}
	if _, err := step(other+" takes over from the drilled "+master, 15*time.Second,
		both(settledOn(other), role(master, control.StateFault))); err != nil {
		return err
	}
	holders(other)
	screen("FAULT", "held by "+other, other+" answers")
	if err := act(ui.ActionResume, master); err != nil {
		return err
	}
	if _, err := step(master+" back as BACKUP", 15*time.Second, both(settledOn(other), role(master, control.StateBackup))); err != nil {
		return err
	}

	// The other drills, run by labctl on the real daemons: nginx held
	// down on the master moves the VIP, and repair brings the node back
	// as BACKUP; vipd stopped on the master hands the VIP over, and
	// re-enabling starts it again as BACKUP; nginx stopped on the master
	// is restarted by its guard and the VIP stays.
	if err := act(ui.ActionFailNginx, other); err != nil {
		return err
	}
	if _, err := step(master+" takes over from "+other+" whose nginx is held down", 15*time.Second,
		both(settledOn(master), role(other, control.StateFault))); err != nil {
		return err
	}
	holders(master)
	if err := act(ui.ActionRepair, other); err != nil {
		return err
	}
	if _, err := step(other+" repaired, BACKUP", 15*time.Second, both(settledOn(master), role(other, control.StateBackup))); err != nil {
		return err
	}
	if err := act(ui.ActionStopVipd, master); err != nil {
		return err
	}
	if _, err := step(other+" takes over from "+master+" whose vipd stopped", 15*time.Second, func(p console.PairState) bool {
		n := p.Nodes[other]
		return n.Roles["VI_1"] == control.StateMaster && n.VIP["VI_1"] && p.Probe.OK && p.Probe.Backend == other
	}); err != nil {
		return err
	}
	holders(other)
	if err := act(ui.ActionResume, master); err != nil { // vipd is stopped: labctl vipd start
		return err
	}
	if _, err := step(master+"'s vipd started again, BACKUP", 15*time.Second,
		both(settledOn(other), role(master, control.StateBackup))); err != nil {
		return err
	}
	// Restarted: a restart attempted, then a check passed since, while
	// MASTER all along.
	restarted := func(since time.Time, before uint64) (bool, uint64) {
		for _, st := range gate.Observe(ctx, demo.LabPairName) {
			if st.Node != other || st.Status == nil || st.Status.Nginx == nil || len(st.Status.Instances) == 0 {
				continue
			}
			g, h := st.Status.Nginx, st.Status.Nginx.History
			ok := g.Restarts > before && g.Healthy && len(h) > 0 && h[len(h)-1].OK && h[len(h)-1].Time.After(since)
			if st.Status.Instances[0].State != control.StateMaster {
				t.Errorf("%s is %s during the nginx restart check", other, st.Status.Instances[0].State)
			}
			return ok, g.Restarts
		}
		return false, 0
	}
	_, before := restarted(time.Now(), 0)
	began = time.Now()
	if err := act(ui.ActionRestartNginx, other); err != nil {
		return err
	}
	done := false
	for end := time.Now().Add(10 * time.Second); !done && time.Now().Before(end) && ctx.Err() == nil; {
		if done, _ = restarted(began, before); !done {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !done {
		return fmt.Errorf("%s's nginx was not restarted by its guard", other)
	}
	t.Logf("%s's nginx restarted by its guard %v after it was stopped", other, time.Since(began).Round(time.Millisecond))
	back := time.Now()
	if _, err := step(other+" answers again, still MASTER", 10*time.Second, func(p console.PairState) bool {
		return settledOn(other)(p) && p.Probe.Time.After(back)
	}); err != nil {
		return err
	}
	holders(other)

	// sshd crashes on the master (the listener and every session): its
	// panel shows the link down; vipd and the VIP carry on.
	killed, err := l.Node(other).KillAll("sshd")
	if err != nil {
		return err
	}
	t.Logf("killed sshd on %s: pids %v", other, killed)
	p, err = step(other+" disconnected", 15*time.Second, func(p console.PairState) bool {
		return !p.Nodes[other].Connected
	})
	if err != nil {
		return err
	}
	if n := p.Nodes[master]; !n.Connected || n.Err != nil {
		t.Errorf("%s's panel: connected %v, error %v; want live", master, n.Connected, n.Err)
	}
	// The other panel is live: a drill on it shows through its own link.
	if err := act(ui.ActionFault, master); err != nil {
		return err
	}
	if _, err := step(master+" FAULT through its live link", 15*time.Second, role(master, control.StateFault)); err != nil {
		return err
	}
	if err := act(ui.ActionResume, master); err != nil {
		return err
	}
	p, err = step(master+" BACKUP again", 15*time.Second, both(role(master, control.StateBackup), func(p console.PairState) bool {
		return p.Probe.OK && p.Probe.Backend == other
	}))
	if err != nil {
		return err
	}
	if p.Nodes[other].Connected {
		t.Errorf("%s reconnected without an sshd", other)
	}
	holders(other)
	v := screen("DISCONNECTED", other+" answers")
	if c := strings.Count(v, "DISCONNECTED"); c != 1 {
		t.Errorf("%d panels DISCONNECTED, want 1:\n%s", c, v)
	}
	// An action on the node without sshd fails, and says so at once.
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	a := ui.Action{Kind: ui.ActionFault, Pair: demo.LabPairName, Node: other, Reason: "lab test drill"}
	if err := gate.Do(actx, a); err == nil || actx.Err() != nil {
		t.Errorf("a drill on %s without its sshd: %v; want an error at once", other, err)
	} else {
		t.Logf("a drill on %s without its sshd: %v", other, err)
	}
	return nil
}
