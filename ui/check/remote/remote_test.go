package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui/check"
	"github.com/vipkit/vip/ui/feed"
)

// local runs the file commands on this machine, as sshd would on a node,
// and answers the probe and vipd's status from the test.
type local struct {
	probe  string
	status string
}

func (l *local) Exec(ctx context.Context, cmd string) ([]byte, error) {
	switch {
	case cmd == "sh -c "+feed.Quote(probeScript):
		return []byte(l.probe), nil
	case cmd == (feed.Vipd{}).Status():
		if l.status == "" {
			return nil, &ssh.ExitError{Host: "n", Cmd: cmd, Status: 1, Stderr: "vipd is not running"}
		}
		return []byte(l.status), nil
	}
	var stderr strings.Builder
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	c.Stderr = &stderr
	out, err := c.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out, &ssh.ExitError{Host: "n", Cmd: cmd, Status: exit.ExitCode(), Stderr: stderr.String()}
	}
	return out, err
}

func needLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the node's commands are GNU coreutils' (stat -c): Linux only")
	}
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const instance = `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 60
    priority 254
    virtual_ipaddress {
        198.51.100.100/24
    }
}
`

// probeOut is the probe's answer: boot time, clock ticks, now, then the
// processes; start is the daemon's start.
func probeOut(boot, now time.Time, start time.Time, procs ...string) string {
	ticks := start.Sub(boot) / (10 * time.Millisecond)
	s := fmt.Sprintf("boot %d 100 %d\n", boot.Unix(), now.Unix())
	for _, p := range procs {
		s += strings.ReplaceAll(p, "TICKS", fmt.Sprint(int64(ticks)))
	}
	return s + "addr lo 127.0.0.1/8\naddr eth0 198.51.100.11/24\n"
}

func TestReadKeepalived(t *testing.T) {
	needLinux(t)
	dir := t.TempDir()
	main := filepath.Join(dir, "keepalived.conf")
	write(t, dir, map[string]string{
		"keepalived.conf":    "global_defs {\n    router_id n1\n}\ninclude conf.d/*.conf\n",
		"conf.d/10-vi1.conf": instance,
		"conf.d/README":      "not included",
	})
	boot := time.Now().Add(-time.Hour).Truncate(time.Second)
	procs := []string{
		"proc 100 1 keepalived TICKS\ncwd /\narg /usr/sbin/keepalived\narg --dont-fork\narg --use-file=" + main + "\n",
		// Its VRRP child: not the daemon.
		"proc 101 100 keepalived TICKS\ncwd /\narg /usr/sbin/keepalived\n",
	}
	for _, tt := range []struct {
		name  string
		start time.Time
		drift int
	}{
		{"started after the last change", time.Now().Add(time.Minute), 0},
		{"files changed since it started", boot.Add(time.Minute), 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &local{probe: probeOut(boot, time.Now(), tt.start, procs...)}
			n, err := Read(context.Background(), r, Options{Name: "nginx-01"})
			if err != nil {
				t.Fatal(err)
			}
			if n.Daemon != "keepalived" || n.Path != main || n.Config == nil || len(n.Config.Instances) != 1 {
				t.Fatalf("node %+v", n)
			}
			if got := n.Config.Instances[0].Pos.String(); got != filepath.Join(dir, "conf.d/10-vi1.conf")+":1" {
				t.Errorf("VI_1 at %s", got)
			}
			if got := n.Addrs["eth0"]; len(got) != 1 || got[0].String() != "198.51.100.11" {
				t.Errorf("addrs %v", n.Addrs)
			}
			if len(n.Drift) != tt.drift {
				t.Errorf("drift %+v, want %d", n.Drift, tt.drift)
			}
			for _, d := range n.Drift {
				if !strings.Contains(d.Msg, "after keepalived (pid 100) started") || !strings.Contains(d.Msg, "SIGHUP") {
					t.Errorf("drift %q", d.Msg)
				}
			}
		})
	}
}

func TestReadVipd(t *testing.T) {
	needLinux(t)
	dir := t.TempDir()
	main := filepath.Join(dir, "vipd.conf")
	text := "include vi1.conf\n"
	write(t, dir, map[string]string{"vipd.conf": text, "vi1.conf": instance})
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	boot := time.Now().Add(-time.Hour)
	procs := "proc 200 1 vipd TICKS\ncwd " + dir + "\narg vipd\narg -f\narg other.conf\n"
	status := func(files ...control.ConfigFile) string {
		st := control.Status{RouterID: "n2", Config: &control.LoadedConfig{Path: main, LoadedAt: time.Now(), Files: files}}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tt := range []struct {
		name   string
		status string
		path   string
		drift  []string
	}{
		{"as loaded", status(control.ConfigFile{Path: main, SHA256: sum(text)}, control.ConfigFile{Path: filepath.Join(dir, "vi1.conf"), SHA256: sum(instance)}),
			main, nil},
		{"an include changed since", status(control.ConfigFile{Path: main, SHA256: sum(text)}, control.ConfigFile{Path: filepath.Join(dir, "vi1.conf"), SHA256: sum("old")}),
			main, []string{"vi1.conf changed on disk since vipd loaded it"}},
		{"a file no longer included", status(control.ConfigFile{Path: main, SHA256: sum(text)}, control.ConfigFile{Path: filepath.Join(dir, "vi1.conf"), SHA256: sum(instance)},
			control.ConfigFile{Path: filepath.Join(dir, "gone.conf"), SHA256: sum("")}),
			main, []string{"the files on disk no longer include it"}},
		{"an older vipd: its -f, relative to its directory", `{"contract":1,"router_id":"n2","vrrp":[]}`,
			filepath.Join(dir, "other.conf"), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path != main {
				write(t, dir, map[string]string{"other.conf": instance})
			}
			r := &local{probe: probeOut(boot, time.Now(), boot.Add(time.Minute), procs), status: tt.status}
			n, err := Read(context.Background(), r, Options{Name: "nginx-02"})
			if err != nil {
				t.Fatal(err)
			}
			if n.Daemon != "vipd" || n.Path != tt.path || len(n.Config.Instances) != 1 {
				t.Fatalf("node %+v", n)
			}
			var got []string
			for _, d := range n.Drift {
				got = append(got, d.Msg)
			}
			if tt.path != main {
				if len(got) != 1 || !strings.Contains(got[0], "does not say which configuration it loaded") {
					t.Errorf("drift %q", got)
				}
				return
			}
			if len(got) != len(tt.drift) {
				t.Fatalf("drift %q, want %q", got, tt.drift)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.drift[i]) {
					t.Errorf("drift %q, want %q", got[i], tt.drift[i])
				}
			}
		})
	}
}

func TestReadUnreadable(t *testing.T) {
	needLinux(t)
	boot := time.Now().Add(-time.Hour)
	ka := func(file string) string {
		return "proc 100 1 keepalived TICKS\ncwd /\narg keepalived\narg -f\narg " + file + "\n"
	}
	for _, tt := range []struct {
		name, probe, want string
	}{
		{"no daemon", probeOut(boot, time.Now(), boot), "neither vipd nor keepalived runs in nginx-01's network namespace"},
		{"both", probeOut(boot, time.Now(), boot, ka("/x"), "proc 300 1 vipd TICKS\narg vipd\n"), "both vipd (pid 300) and keepalived (pid 100)"},
		{"two keepalived", probeOut(boot, time.Now(), boot, ka("/x"), "proc 400 1 keepalived TICKS\n"), "2 keepalived daemons"},
		{"main file missing", probeOut(boot, time.Now(), boot, ka(filepath.Join(t.TempDir(), "none.conf"))), "none.conf: file does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(context.Background(), &local{probe: tt.probe}, Options{Name: "nginx-01"})
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.want)) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	// Through Pair: exit code 2.
	src := Source(&local{probe: probeOut(boot, time.Now(), boot)}, Options{Name: "nginx-01"})
	r, err := check.Pair(context.Background(), src, src)
	if err == nil || r.ExitCode() != check.ExitUnreadable {
		t.Errorf("Pair: %v, exit %d", err, r.ExitCode())
	}
}

func TestConfigFlag(t *testing.T) {
	for _, tt := range []struct {
		comm string
		args []string
		cwd  string
		want string
	}{
		{"keepalived", []string{"keepalived"}, "/", DefaultKeepalivedConf},
		{"keepalived", []string{"keepalived", "-D", "-f", "/etc/k.conf"}, "/", "/etc/k.conf"},
		{"keepalived", []string{"keepalived", "-f/etc/k.conf"}, "/", "/etc/k.conf"},
		{"keepalived", []string{"keepalived", "--use-file", "/etc/k.conf", "-n"}, "/", "/etc/k.conf"},
		{"keepalived", []string{"keepalived", "--use-file=k.conf"}, "/etc/keepalived", "/etc/keepalived/k.conf"},
		{"vipd", []string{"/usr/sbin/vipd", "-f", "/etc/vipd/keepalived.conf"}, "/", "/etc/vipd/keepalived.conf"},
		{"vipd", []string{"vipd", "--f=/etc/vipd/x.conf"}, "/", "/etc/vipd/x.conf"},
		{"vipd", []string{"vipd", "-socket", "/run/s"}, "/", DefaultKeepalivedConf},
	} {
		if got := (proc{Comm: tt.comm, Args: tt.args, Cwd: tt.cwd}).configFlag(); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.args, got, tt.want)
		}
	}
}

// The probe script runs as it is, and finds nothing here: no daemon runs
// in this test's namespace under those names (or the test says which).
func TestProbeScriptRuns(t *testing.T) {
	needLinux(t)
	out, err := exec.Command("sh", "-c", probeScript).Output()
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	p, err := parseProbe(out)
	if err != nil || p.now.IsZero() || len(p.addrs["lo"]) == 0 {
		t.Errorf("probe %+v, %v:\n%s", p, err, out)
	}
	for _, pr := range p.procs {
		if pr.Start.IsZero() || pr.Start.After(time.Now()) || !slices.Contains([]string{"vipd", "keepalived"}, pr.Comm) {
			t.Errorf("process %+v", pr)
		}
	}
}

// The daemon is told from the commands of the same program running beside
// it: the console's vipd watch and status, keepalived's signal and test
// runs, keepalived's own children.
func TestDaemons(t *testing.T) {
	p := probe{procs: []proc{
		{PID: 1, PPID: 0, Comm: "vipd", Args: []string{"/usr/sbin/vipd", "-f", "/etc/vipd/k.conf"}},
		{PID: 2, PPID: 9, Comm: "vipd", Args: []string{"vipd", "watch", "--json", "--status-every", "100ms"}},
		{PID: 3, PPID: 9, Comm: "vipd", Args: []string{"/usr/local/sbin/vipd", "status", "--json"}},
		{PID: 4, PPID: 9, Comm: "vipd", Args: []string{"vipd", "-t", "-f", "/etc/vipd/k.conf"}},
		{PID: 10, PPID: 1, Comm: "keepalived", Args: []string{"keepalived", "--dont-fork"}},
		{PID: 11, PPID: 10, Comm: "keepalived", Args: []string{"keepalived", "--dont-fork"}},
		{PID: 12, PPID: 9, Comm: "keepalived", Args: []string{"keepalived", "--signum=JSON"}},
		{PID: 13, PPID: 9, Comm: "keepalived", Args: []string{"keepalived", "-t", "-f", "x"}},
	}}
	vipd, ka := p.daemons()
	if len(vipd) != 1 || vipd[0].PID != 1 || len(ka) != 1 || ka[0].PID != 10 {
		t.Errorf("vipd %+v, keepalived %+v", vipd, ka)
	}
}
