package migrate

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stubNode is a node's daemons as files in a directory: keepalived runs
// while dir/keepalived exists, vipd while dir/vipd exists; a stub vipd
// answers status from it.
func stubNode(t *testing.T, vipdState string, tOK bool) (dir string, c Commands, vipd string) {
	t.Helper()
	dir = t.TempDir()
	vipd = filepath.Join(dir, "vipd-bin")
	check := "exit 0"
	if !tOK {
		check = "echo 'vipd.conf:3: bad' >&2; exit 1"
	}
	stub := "#!/bin/sh\ncase $1 in\n-t) " + check + " ;;\nstatus) [ -e " + dir + "/vipd ] || exit 1; echo '{\"vrrp\":[{\"state\":\"" + vipdState + "\"}]}' ;;\nesac\n"
	if err := os.WriteFile(vipd, []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keepalived"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c = Commands{
		KeepalivedStop:    "rm -f " + dir + "/keepalived",
		KeepalivedStart:   "touch " + dir + "/keepalived",
		KeepalivedActive:  "test -e " + dir + "/keepalived",
		VipdStart:         "touch " + dir + "/vipd",
		VipdStop:          "rm -f " + dir + "/vipd",
		VipdPersist:       "touch " + dir + "/vipd-at-boot",
		KeepalivedPersist: "rm -f " + dir + "/vipd-at-boot",
	}
	return dir, c, vipd
}

// TestScript runs the node-side scripts with sh on stub daemons: each ends
// with a daemon running, whatever fails.
func TestScript(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid here")
	}
	tests := []struct {
		name      string
		kind      kind
		state     string // what the stub vipd reports
		tOK       bool
		edit      func(*Commands)
		result    string
		keepalive bool // keepalived runs at the end
		vipd      bool
		lines     []string
	}{
		{name: "to vipd", kind: toVipd, state: "BACKUP", tOK: true, result: "ok", vipd: true,
			lines: []string{"vipd installed; vipd -t accepts", "keepalived stopped", "vipd up"}},
		{name: "handover", kind: handover, state: "BACKUP", tOK: true, result: "ok", vipd: true,
			lines: []string{"keepalived stopped", "the VIP has left this node", "waited 0.1 for the peer", "vipd up"}},
		{name: "vipd does not start", kind: toVipd, state: "BACKUP", tOK: true, edit: func(c *Commands) { c.VipdStart = "false" },
			result: "rolled-back", keepalive: true, lines: []string{"vipd did not come up: vipd did not start", "keepalived runs again"}},
		{name: "vipd stays in FAULT", kind: handover, state: "FAULT", tOK: true, result: "rolled-back", keepalive: true,
			lines: []string{"vipd did not come up: vipd not up within 1s"}},
		{name: "vipd -t refuses", kind: toVipd, state: "BACKUP", tOK: false, result: "failed", keepalive: true,
			lines: []string{"end failed vipd -t rejects"}},
		{name: "install fails", kind: toVipd, state: "BACKUP", tOK: true, result: "failed", keepalive: true,
			edit: func(c *Commands) {}, lines: []string{"could not install vipd (false); keepalived untouched"}},
		{name: "neither starts", kind: toVipd, state: "FAULT", tOK: true, edit: func(c *Commands) { c.KeepalivedStart = "false" },
			result: "failed", vipd: true, lines: []string{"keepalived did not start (attempt 3)", "neither keepalived nor vipd would start"}},
		{name: "back to keepalived", kind: toKeepalived, state: "BACKUP", result: "ok", keepalive: true,
			lines: []string{"vipd stopped", "keepalived runs again"}},
		{name: "keepalived will not come back", kind: toKeepalived, state: "BACKUP", edit: func(c *Commands) { c.KeepalivedStart = "false" },
			result: "failed", vipd: true, lines: []string{"keepalived would not start; vipd runs again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, c, vipd := stubNode(t, tt.state, tt.tOK)
			if tt.kind == toKeepalived {
				os.Remove(filepath.Join(dir, "keepalived"))
				os.WriteFile(filepath.Join(dir, "vipd"), nil, 0o644)
			}
			if tt.edit != nil {
				tt.edit(&c)
			}
			s := &script{Node: "n1", Title: "test", Kind: tt.kind, Stage: dir, Name: "step", Vipd: vipd, Conf: dir + "/vipd.conf",
				VIPs: []netip.Prefix{netip.MustParsePrefix("198.51.100.250/32")}, Settle: 100 * time.Millisecond, Deadline: time.Second, Commands: c}
			if tt.name == "install fails" {
				s.Install = []string{"false"}
			}
			if err := os.WriteFile(s.path("sh"), []byte(s.Text()), 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("sh", "-c", s.Launch()).CombinedOutput(); err != nil {
				t.Fatalf("launch: %v: %s", err, out)
			}
			var p progress
			for deadline := time.Now().Add(20 * time.Second); !p.Ended; time.Sleep(20 * time.Millisecond) {
				b, _ := os.ReadFile(s.path("status"))
				if p = parseProgress(b); !p.Ended && time.Now().After(deadline) {
					log, _ := os.ReadFile(s.path("log"))
					t.Fatalf("the script did not end: %s\n%s", b, log)
				}
			}
			b, _ := os.ReadFile(s.path("status"))
			if p.Result != tt.result {
				t.Errorf("result %q (%s), want %q\n%s", p.Result, p.Why, tt.result, b)
			}
			_, ka := os.Stat(filepath.Join(dir, "keepalived"))
			_, vd := os.Stat(filepath.Join(dir, "vipd"))
			if (ka == nil) != tt.keepalive || (vd == nil) != tt.vipd {
				t.Errorf("keepalived runs %v, vipd %v; want %v, %v\n%s", ka == nil, vd == nil, tt.keepalive, tt.vipd, b)
			}
			for _, l := range tt.lines {
				if !strings.Contains(string(b), l) {
					t.Errorf("status lacks %q:\n%s", l, b)
				}
			}
		})
	}
}

func TestParseProgress(t *testing.T) {
	p := parseProgress([]byte("1700000000000 start: keepalived -> vipd\n1700000000500 end rolled-back vipd did not start\n"))
	if !p.Ended || p.Result != "rolled-back" || p.Why != "vipd did not start" || len(p.Lines) != 2 || p.Lines[1].Time.UnixMilli() != 1700000000500 {
		t.Errorf("%+v", p)
	}
}
