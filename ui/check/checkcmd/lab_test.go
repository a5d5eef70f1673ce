//go:build linux

package checkcmd_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/ui/check"
	"github.com/vipkit/vip/ui/check/checkcmd"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
)

// labTimeout bounds TestLabCheck; past it the test panics, naming itself.
const labTimeout = 3 * time.Minute

// lineOf is the 1-based line of the first line of file holding s.
func lineOf(t *testing.T, file, s string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no %q:\n%s", file, s, b)
	return 0
}

func find(r check.Report, topic string) *check.Finding {
	for i := range r.Findings {
		if r.Findings[i].Topic == topic {
			return &r.Findings[i]
		}
	}
	return nil
}

func lines(r check.Report) string { return strings.Join(r.Lines(), "\n") }

// vipctl check end to end on the namespace lab, over real OpenSSH sshd:
// two vipd nodes as the lab made them are consistent; a file changed on
// disk under a running vipd is a mismatch, and the check says vipd runs
// the old file; then the second node runs keepalived instead (its -f, an
// include), a VIP only it has is a mismatch at the include's line, and a
// file modified after keepalived started is said to be so.
func TestLabCheck(t *testing.T) {
	netns.Require(t)
	netns.RequireBinary(t, "nginx")
	netns.RequireBinary(t, "keepalived")
	netns.RequireBinary(t, "unshare")
	timer := time.AfterFunc(labTimeout, func() { panic(fmt.Sprintf("%s did not finish within %v", t.Name(), labTimeout)) })
	defer timer.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), labTimeout-10*time.Second)
	defer cancel()

	l, err := demo.NewLab(ctx, demo.LabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("failed to close the lab: %v", err)
		}
	})
	c, base := l.Cluster(), l.SSH()
	pair := func() check.Report {
		t.Helper()
		return checkcmd.Pair(ctx, c, c.Pairs[0], base)[0]
	}

	// Two vipd nodes, as the lab made them.
	start := time.Now()
	r := pair()
	t.Logf("check of two vipd nodes in %v:\n%s", time.Since(start).Round(time.Millisecond), lines(r))
	if r.ExitCode() != check.ExitConsistent || r.A.Daemon != "vipd" || r.B.Daemon != "vipd" || len(r.A.Drift)+len(r.B.Drift) != 0 {
		t.Fatalf("exit %d:\n%s", r.ExitCode(), lines(r))
	}
	var out bytes.Buffer
	if code := checkcmd.Run(ctx, c, base, &out); code != check.ExitConsistent {
		t.Errorf("Run: exit %d\n%s", code, out.String())
	}

	// n2's file changed under its running vipd.
	n1File, n2File := r.A.Path, r.B.Path
	orig, err := os.ReadFile(n2File)
	if err != nil {
		t.Fatal(err)
	}
	advert := lineOf(t, n2File, "advert_int")
	changed := strings.Replace(string(orig), "advert_int 0.1", "advert_int 0.2", 1)
	if changed == string(orig) {
		t.Fatalf("no advert_int 0.1 in %s:\n%s", n2File, orig)
	}
	if err := os.WriteFile(n2File, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	r = pair()
	t.Logf("after editing %s:\n%s", n2File, lines(r))
	f := find(r, "advert_int")
	if r.ExitCode() != check.ExitMismatch || f == nil ||
		f.A.Pos.String() != fmt.Sprintf("%s:%d", n1File, lineOf(t, n1File, "advert_int")) || f.B.Pos.String() != fmt.Sprintf("%s:%d", n2File, advert) {
		t.Errorf("want the advert_int mismatch at both files' lines")
	}
	if d := find(r, "loaded"); d == nil || !strings.Contains(d.Msg, "changed on disk since vipd loaded it") || d.B.Pos.File != n2File {
		t.Errorf("want n2's file said to differ from what its vipd loaded")
	}
	if code := checkcmd.Run(ctx, c, base, &out); code != check.ExitMismatch {
		t.Errorf("Run: exit %d, want %d", code, check.ExitMismatch)
	}
	if err := os.WriteFile(n2File, orig, 0o644); err != nil {
		t.Fatal(err)
	}

	// n2 runs keepalived instead, its instance split over an include,
	// with one VIP more.
	if out, err := l.Ctl(ctx, "n2", "vipd", "stop"); err != nil {
		t.Fatalf("stopping vipd on n2: %v\n%s", err, out)
	}
	node := l.Node("n2")
	dir := t.TempDir()
	inc := filepath.Join(dir, "vi1.conf")
	vips := fmt.Sprintf("    virtual_ipaddress {\n        198.51.100.100/24 dev %[1]s\n        198.51.100.101/24 dev %[1]s\n    }\n", node.Ifname)
	if err := os.WriteFile(inc, []byte(vips), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`global_defs {
    router_id n2
    enable_script_security
    script_user root
}
vrrp_script chk_nginx {
    script "/usr/bin/pgrep nginx"
    interval 1
    weight 0
}
vrrp_instance VI_1 {
    state BACKUP
    interface %s
    virtual_router_id 60
    priority 100
    version 3
    advert_int 0.1
    nopreempt
    include %s
    track_script {
        chk_nginx
    }
}
`, node.Ifname, inc)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, vipd, err := l.Running("n2"); err == nil && !vipd {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("vipd on n2 still running: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ka := l.Net().StartKeepalived(t, node, conf)
	var kaFile string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r = pair()
		if r.B.Daemon == "keepalived" || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("n2 on keepalived:\n%s", lines(r))
	kaFile = r.B.Path
	if r.B.Daemon != "keepalived" || !strings.HasSuffix(kaFile, "/keepalived.conf") {
		t.Fatalf("n2 read as %q from %q; keepalived output:\n%s", r.B.Daemon, kaFile, ka.Output())
	}
	f = find(r, "virtual_ipaddress")
	if r.ExitCode() != check.ExitMismatch || f == nil || !strings.Contains(f.Msg, "VIP 198.51.100.101/24 only on n2") ||
		f.B.Pos.String() != inc+":3" || f.A.Pos.String() != fmt.Sprintf("%s:%d", n1File, lineOf(t, n1File, "virtual_ipaddress")) {
		t.Errorf("want the extra VIP at %s:3 and n1's virtual_ipaddress block", inc)
	}
	for _, ff := range r.Findings {
		if ff.Kind == check.Mismatch && ff.Topic != "virtual_ipaddress" {
			t.Errorf("unexpected mismatch %v (the nginx guard and a script checking nginx are one check)", ff)
		}
	}
	if len(r.B.Drift) != 0 {
		t.Errorf("drift before any change: %+v", r.B.Drift)
	}

	// The console on the same pair: its banner says so.
	con := l.Console(console.Options{ConfigCheck: true})
	err = con.RunHeadless(ctx, 120, 30, func(ctx context.Context, h *console.Headless) error {
		var screen string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if screen, err = h.View(ctx); err != nil {
				return err
			}
			if strings.Contains(screen, "CONFIG MISMATCH lab (1): VI_1 (VRID 60 on eth0): VIP 198.51.100.101/24 only on n2") {
				return nil
			}
		}
		h.Send(tea.KeyPressMsg{Code: '?', Text: "?"})
		time.Sleep(200 * time.Millisecond)
		details, _ := h.View(ctx)
		return fmt.Errorf("no config banner on the console:\n%s\n%s", screen, details)
	})
	if err != nil {
		t.Error(err)
	}

	// The include modified after keepalived started.
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(inc, later, later); err != nil {
		t.Fatal(err)
	}
	r = pair()
	if d := find(r, "loaded"); d == nil || d.B.Pos.File != inc || !strings.Contains(d.Msg, "after keepalived (pid") || !strings.Contains(d.Msg, "no trace") {
		t.Errorf("want the include said to be modified after keepalived started:\n%s", lines(r))
	}
}
