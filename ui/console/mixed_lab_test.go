//go:build linux

package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
)

// A mixed pair is one pair on the screen: the seed's keepalived pair with
// its BACKUP moved to vipd by hand (keepalived stopped, vipd started on
// the node's own keepalived.conf, copied to /etc/vipd), as a migration
// leaves it halfway. The console finds keepalived on one node and vipd on
// the other, over the same links, shows them as one settled pair, and
// follows the VIP when keepalived stops on the MASTER and vipd takes over.
func TestLabMixedPair(t *testing.T) {
	netns.Require(t)
	netns.RequireBinary(t, "keepalived")
	netns.RequireBinary(t, "unshare")
	timer := time.AfterFunc(labTimeout, func() { panic(fmt.Sprintf("%s did not finish within %v", t.Name(), labTimeout)) })
	defer timer.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), labTimeout-10*time.Second)
	defer cancel()
	l, err := demo.NewLab(ctx, demo.LabOptions{Keepalived: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("failed to close the lab: %v", err)
		}
	})
	n2 := l.Nodes()[1]
	ctl := func(node string, args ...string) {
		t.Helper()
		if out, err := l.Ctl(ctx, node, args...); err != nil {
			t.Fatalf("labctl %v on %s: %v\n%s", args, node, err, out)
		}
	}
	ctl("n2", "keepalived", "stop")
	conf, err := os.ReadFile(n2.KeepalivedConfHost)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n2.VipdEtcHost, filepath.Base(n2.VipdConf)), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	ctl("n2", "vipd", "start")

	con := l.Console(console.Options{})
	err = con.RunHeadless(ctx, 100, 30, func(ctx context.Context, h *console.Headless) error {
		wait := func(what string, cond func(console.PairState) bool) error {
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			start := time.Now()
			if _, err := h.Wait(sctx, demo.LabPairName, cond); err != nil {
				v, _ := h.View(ctx)
				return fmt.Errorf("%s: %w\n%s", what, err, v)
			}
			t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
			return nil
		}
		if err := wait("settled on n1 (keepalived), n2 (vipd) BACKUP", func(p console.PairState) bool {
			m, ok := p.Settled()
			return ok && m == "n1" && p.Nodes["n2"].Roles["VI_1"] == control.StateBackup
		}); err != nil {
			return err
		}
		v, err := h.View(ctx)
		if err != nil {
			return err
		}
		t.Logf("the mixed pair:\n%s", v)
		for _, w := range []string{"watching Keepalived v2.2.7", "watching vipd", "held by n1"} {
			if !strings.Contains(v, w) {
				t.Errorf("the screen lacks %q", w)
			}
		}
		ctl("n1", "keepalived", "stop")
		return wait("n2 (vipd) MASTER after keepalived stopped on n1", func(p console.PairState) bool {
			return p.Nodes["n2"].Roles["VI_1"] == control.StateMaster && p.Nodes["n2"].VIP["VI_1"] && p.Nodes["n1"].Err != nil
		})
	})
	if err != nil {
		t.Logf("n2's vipd: %s", l.VipdOutput("n2"))
		t.Fatal(err)
	}
}
