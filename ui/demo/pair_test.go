package demo

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/node/demopair"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/console"
)

// Tests only: the pair with vipd is node/demopair's, which ui's code
// never imports (cmd/vipctl wires it in).

// The demo end to end, as `vipctl demo` runs it but without a terminal:
// the real console over real SSH to two vipd daemons on an in-memory
// segment. A master is elected and answers on the VIP; a fault drill sent
// through the console's gate (`vipd ctl fault` over SSH) moves the VIP;
// nginx stopped on the master is restarted by its guard; nginx broken on
// the master moves the VIP back.
func TestDemo(t *testing.T) {
	p, err := demopair.New(demopair.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := d.dir
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s left behind", dir)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	con := d.Console(console.Options{})
	err = d.RunWith(ctx, func(ctx context.Context) error {
		return con.RunHeadless(ctx, 100, 30, func(ctx context.Context, h *console.Headless) error {
			drill(t, ctx, d, p, con, h)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("RunWith = %v", err)
	}
}

func drill(t *testing.T, ctx context.Context, d *Demo, pair *demopair.Pair, con *console.Console, h *console.Headless) {
	step := func(what string, cond func(console.PairState) bool) console.PairState {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		start := time.Now()
		p, err := h.Wait(sctx, PairName, cond)
		if err != nil {
			t.Fatalf("%s: %v; the console shows %+v", what, err, p)
		}
		t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
		return p
	}
	settledOn := func(want string) func(console.PairState) bool {
		return func(p console.PairState) bool { m, ok := p.Settled(); return ok && (want == "" || m == want) }
	}
	screen := func(want ...string) string {
		t.Helper()
		v, err := h.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(v, w) {
				t.Errorf("the screen lacks %q:\n%s", w, v)
			}
		}
		return v
	}
	role := func(node string, st control.State) func(console.PairState) bool {
		return func(p console.PairState) bool { return p.Nodes[node].Roles["VI_1"] == st }
	}

	// A master is elected, holds the VIP, and answers on it.
	p := step("first master", settledOn(""))
	master, _ := p.Settled()
	other := "nginx-01"
	if master == other {
		other = "nginx-02"
	}
	if got := d.Holders(); !slices.Equal(got, []string{master}) {
		t.Errorf("the VIP is on %q, the console says %s", got, master)
	}
	screen("MASTER", "BACKUP", "held by "+master, master+" answers")

	// A fault drill through the console's gate: `vipd ctl fault` over SSH.
	gate := con.Executor()
	if err := gate.Do(ctx, ui.Action{Kind: ui.ActionFault, Pair: PairName, Node: master, Reason: "test drill"}); err != nil {
		t.Fatalf("fault %s: %v", master, err)
	}
	step(other+" takes over", func(p console.PairState) bool {
		return settledOn(other)(p) && role(master, control.StateFault)(p)
	})
	screen("FAULT", "held by "+other, other+" answers")
	if err := gate.Do(ctx, ui.Action{Kind: ui.ActionResume, Pair: PairName, Node: master}); err != nil {
		t.Fatalf("resume %s: %v", master, err)
	}
	step(master+" back as BACKUP", func(p console.PairState) bool {
		return settledOn(other)(p) && role(master, control.StateBackup)(p)
	})

	// nginx stopped on the master: the guard's start command brings it
	// back, and the VIP stays.
	run := func(node, cmd string) {
		t.Helper()
		cfg := d.SSH()
		for _, n := range d.Cluster().Pairs[0].Nodes {
			if n.Name == node {
				cfg.Target = n.Target
			}
		}
		c, err := ssh.Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if out, err := c.Exec(ctx, cmd); err != nil {
			t.Fatalf("%s on %s: %v (%s)", cmd, node, err, out)
		}
	}
	run(other, "demo nginx stop")
	restarted := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if pair.Nginx(other).Up() {
			restarted = true
			break
		}
	}
	if !restarted {
		t.Fatalf("%s's nginx was not started again by its guard", other)
	}
	if st, _ := pair.Status(other); st.Instances[0].State != control.StateMaster || st.Nginx.Restarts == 0 {
		t.Errorf("after the restart %s is %s with %d nginx restarts, want MASTER after one", other, st.Instances[0].State, st.Nginx.Restarts)
	}

	// nginx broken on the master: the restart fails and the VIP moves.
	run(other, "demo nginx break")
	step(master+" takes the VIP back", func(p console.PairState) bool {
		return settledOn(master)(p) && role(other, control.StateFault)(p)
	})
	screen("held by " + master)
	run(other, "demo nginx start")
	step(other+" recovers as BACKUP", role(other, control.StateBackup))
}
