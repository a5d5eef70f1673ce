//go:build linux

package migrate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/ui/demo"
)

// labPair is the keepalived lab pair (h1's demo.Lab) with Options on it.
func labPair(t *testing.T, ctx context.Context) (*demo.Lab, Options) {
	t.Helper()
	netns.Require(t)
	netns.RequireBinary(t, "keepalived")
	lab, err := demo.NewLab(ctx, demo.LabOptions{Keepalived: true})
	if err != nil {
		t.Fatal(err)
	}
	var opts Options
	LabOptions(lab, &opts)
	t.Cleanup(func() {
		for _, tg := range opts.Targets {
			tg.Node.Close()
		}
		if err := lab.Close(); err != nil {
			t.Error(err)
		}
	})
	return lab, opts
}

// daemonsOn names the live keepalived and vipd processes in the node's
// network namespace, read from /proc: what runs there, whatever vipctl
// and the SSH link say.
func daemonsOn(t *testing.T, n *netns.Node) []string {
	t.Helper()
	var want syscall.Stat_t
	if err := syscall.Stat(filepath.Join("/run/netns", n.NS), &want); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir("/proc")
	seen := map[string]bool{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &st) != nil || st.Ino != want.Ino || st.Dev != want.Dev {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		c := strings.TrimSpace(string(comm))
		if (c == "keepalived" || c == "vipd") && netns.Alive(pid) {
			seen[c] = true
		}
	}
	var out []string
	for _, c := range []string{"keepalived", "vipd"} {
		if seen[c] {
			out = append(out, c)
		}
	}
	return out
}

// serving waits for the pair to settle with a daemon on each node and the
// VIP on one, and returns what runs where.
func serving(t *testing.T, lab *demo.Lab) string {
	t.Helper()
	var got string
	deadline := time.Now().Add(20 * time.Second)
	for {
		var parts []string
		ok := true
		for _, n := range lab.Nodes() {
			d := daemonsOn(t, n.Net)
			ok = ok && len(d) == 1
			parts = append(parts, n.Name+": "+strings.Join(d, "+"))
		}
		h, err := lab.Holders()
		if err != nil {
			t.Fatal(err)
		}
		got = strings.Join(parts, ", ") + "; VIP on " + strings.Join(h, "+")
		if ok && len(h) == 1 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pair does not serve: %s", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func logReport(t *testing.T, rep *Report) string {
	t.Helper()
	var md strings.Builder
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	t.Log(md.String())
	if dir := os.Getenv("MIGRATE_REPORTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, t.Name()[strings.LastIndex(t.Name(), "/")+1:]+".md"), []byte(md.String()), 0o644)
	}
	return md.String()
}

// TestLabMigrate: `vipctl migrate --lab --yes` in a test: the keepalived
// pair ends on vipd, the only failed requests those of the handover,
// within Skew_Time + 50 ms.
func TestLabMigrate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	lab, opts := labPair(t, ctx)
	rep, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	if !rep.Passed {
		t.Fatalf("not migrated: %s", rep.Result)
	}
	if rep.FailedOutsideHandover != 0 {
		t.Errorf("%d requests failed outside the handover", rep.FailedOutsideHandover)
	}
	var ho *Step
	for _, s := range rep.Steps {
		if s.Kind == "handover" {
			ho = s
		}
	}
	if ho == nil || ho.Probe.LongestMS > ho.BoundMS || ho.Probe.OutageMS != ho.Probe.LongestMS {
		t.Errorf("handover: %+v", ho)
	} else {
		t.Logf("handover outage %dms (bound %dms), %s", ho.Probe.OutageMS, ho.BoundMS, ho.Probe.Counts)
	}
	if got := serving(t, lab); got != "n1: vipd, n2: vipd; VIP on n2" {
		t.Errorf("after the migration: %s", got)
	}
}

// TestLabRollback: the second node's vipd does not start: its script puts
// keepalived back, migrate rolls the first back too, and the keepalived
// pair serves.
func TestLabRollback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	lab, opts := labPair(t, ctx)
	// n1, the MASTER, migrates second: its vipd exits at once (a file it
	// cannot read), as a vipd that systemd cannot keep up would.
	l := &opts.Targets[0].Layout
	l.Commands.VipdStart = "setsid /etc/vipd/vipd -f /etc/vipd/missing.conf </dev/null >/dev/null 2>&1 &"
	l.Deadline = 5 * time.Second
	rep, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	md := logReport(t, rep)
	if rep.Passed || !rep.RolledBack || !strings.HasPrefix(rep.Result, "failed; rolled back") {
		t.Errorf("result %q, rolled back %v", rep.Result, rep.RolledBack)
	}
	for _, w := range []string{"the script on n1 ended rolled-back: vipd not up within 5s", "keepalived runs again", "roll back: n2 returns to keepalived: PASS"} {
		if !strings.Contains(md, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	if got := serving(t, lab); got != "n1: keepalived, n2: keepalived; VIP on n1" {
		t.Errorf("after the rollback: %s", got)
	}
}

// TestLabCut: a migration cut in the middle of the handover, by SIGTERM
// (the context Main cancels on it) or by a lost SSH link, never leaves a
// node without a running daemon: the script on the node ends by itself.
func TestLabCut(t *testing.T) {
	for _, cut := range []string{"SIGTERM", "lost link"} {
		t.Run(strings.ReplaceAll(cut, " ", "_"), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			lab, opts := labPair(t, ctx)
			rctx, interrupt := context.WithCancel(ctx)
			defer interrupt()
			opts.Wait = 20 * time.Second
			opts.Launched = func(step int, node string) {
				if node != "n1" { // the handover
					return
				}
				if cut == "SIGTERM" {
					interrupt()
					return
				}
				killed, err := lab.Nodes()[0].Net.KillAll("sshd")
				t.Logf("killed n1's sshd %v: %v", killed, err)
			}
			rep, err := Run(rctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			logReport(t, rep)
			if rep.Passed {
				t.Errorf("a cut migration passed: %s", rep.Result)
			}
			if len(rep.Steps) < 3 || rep.Steps[2].Kind != "handover" {
				t.Fatalf("the migration was not cut in the handover: %s", rep.Result)
			}
			got := serving(t, lab)
			t.Logf("after the cut: %s", got)
			if cut == "lost link" && (rep.RolledBack || !strings.Contains(rep.Result, "not rolled back")) {
				t.Errorf("with n1 unread: %s", rep.Result)
			}
		})
	}
}
