package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/ui"
)

// localNode is a Node run by this machine's sh in a directory of its own:
// the node's / for its files, and stub daemons as files (keepalived,
// vipd, holds: the VIP) whose commands move the VIP as VRRP would.
type localNode struct {
	root, peer string
	stubs      string
}

func (n *localNode) Exec(ctx context.Context, cmd string) ([]byte, error) {
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	c.Dir = n.root
	c.Env = append(os.Environ(), "PATH="+n.stubs+":"+os.Getenv("PATH"), "NODE_DIR="+n.root, "PEER_DIR="+n.peer)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", cmd, err, stderr.String())
	}
	return out, nil
}
func (n *localNode) FS() fs.FS                            { return os.DirFS(n.root) }
func (n *localNode) Home(context.Context) (string, error) { return n.root, nil }
func (n *localNode) Put(_ context.Context, file string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, data, mode)
}
func (n *localNode) Remove(_ context.Context, files ...string) error {
	for _, f := range files {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
func (n *localNode) Close() error { return nil }

// The stubs' VRRP: a node that lets go of the VIP hands it to its peer,
// whose vipd (if it runs one) becomes MASTER; a daemon that starts with no
// holder anywhere takes it.
const (
	stubIP   = "#!/bin/sh\n[ -e \"$NODE_DIR/holds\" ] && echo \"2: eth0    inet 172.31.13.242/32 scope global eth0\"\nexit 0\n"
	stubVipd = `#!/bin/sh
case $1 in
-t) exit 0 ;;
status)
	[ -e "$NODE_DIR/vipd" ] || { echo "vipd is not running" >&2; exit 1; }
	st=BACKUP
	[ -e "$NODE_DIR/holds" ] && st=MASTER
	echo '{"contract":1,"vrrp":[{"iname":"VI_1","state":"'$st'","adver_int":1,"last_advert":"2026-01-01T00:00:00Z","last_advert_age_ms":200}]}'
	;;
esac
`
	letGo    = `if [ -e "$NODE_DIR/holds" ]; then rm -f "$NODE_DIR/holds"; if [ -e "$PEER_DIR/vipd" ] || [ -e "$PEER_DIR/keepalived" ]; then touch "$PEER_DIR/holds"; fi; fi`
	takeIdle = `[ -e "$NODE_DIR/holds" ] || [ -e "$PEER_DIR/holds" ] || touch "$NODE_DIR/holds"`
)

func stubCommands() Commands {
	return Commands{
		KeepalivedStop:   `rm -f "$NODE_DIR/keepalived"; ` + letGo,
		KeepalivedStart:  `touch "$NODE_DIR/keepalived"; ` + takeIdle,
		KeepalivedActive: `test -e "$NODE_DIR/keepalived"`,
		VipdStart:        `touch "$NODE_DIR/vipd"; ` + takeIdle,
		VipdStop:         `rm -f "$NODE_DIR/vipd"; ` + letGo,
	}
}

// fakeProbe answers while exactly one node holds the VIP.
type fakeProbe struct {
	dirs    map[string]string // node name: root
	updates chan ui.ProbeSample
}

func (p *fakeProbe) Updates() <-chan ui.ProbeSample { return p.updates }
func (p *fakeProbe) Dense(bool)                     {}
func (p *fakeProbe) Run(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			var holders []string
			for name, d := range p.dirs {
				if _, err := os.Stat(filepath.Join(d, "holds")); err == nil {
					holders = append(holders, name)
				}
			}
			s := ui.ProbeSample{Time: now, OK: len(holders) == 1, Pace: 5 * time.Millisecond, Latency: time.Millisecond}
			if s.OK {
				s.Backend = holders[0]
			} else {
				s.Err = fmt.Errorf("%d holders", len(holders))
			}
			select {
			case p.updates <- s:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// fakePair is two local nodes running stub keepalived, n1 the MASTER.
func fakePair(t *testing.T, conf string) (Options, map[string]string) {
	t.Helper()
	base := t.TempDir()
	stubs := filepath.Join(base, "stubs")
	os.MkdirAll(stubs, 0o755)
	os.WriteFile(filepath.Join(stubs, "ip"), []byte(stubIP), 0o755)
	vipd := filepath.Join(base, "vipd-linux-amd64")
	os.WriteFile(vipd, []byte(stubVipd), 0o755)
	dirs := map[string]string{"n1": filepath.Join(base, "n1"), "n2": filepath.Join(base, "n2")}
	opts := Options{Pair: "test", Baseline: 300 * time.Millisecond, Observe: 3 * time.Second,
		Artifacts: Artifacts{Binaries: map[string]string{"amd64": vipd, "arm64": vipd}}}
	for _, name := range []string{"n1", "n2"} {
		root := dirs[name]
		peer := dirs[map[string]string{"n1": "n2", "n2": "n1"}[name]]
		os.MkdirAll(filepath.Join(root, "etc/keepalived"), 0o755)
		os.WriteFile(filepath.Join(root, "etc/keepalived/keepalived.conf"), []byte(conf), 0o644)
		os.WriteFile(filepath.Join(root, "keepalived"), nil, 0o644)
		os.WriteFile(filepath.Join(root, "nginx.pid"), fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644)
		if name == "n1" {
			os.WriteFile(filepath.Join(root, "holds"), nil, 0o644)
		}
		l := Layout{Conf: root + "/etc/vipd/keepalived.conf", Binary: root + "/usr/local/sbin/vipd", Stage: root + "/stage",
			Guard: Guard{URL: "http://127.0.0.1/", PIDFile: root + "/nginx.pid", Start: []string{"true"}}, Commands: stubCommands(), Deadline: time.Second}
		opts.Targets = append(opts.Targets, Target{Name: name, Node: &localNode{root: root, peer: peer, stubs: stubs}, Layout: l})
	}
	opts.Probe = &fakeProbe{dirs: dirs, updates: make(chan ui.ProbeSample, 256)}
	return opts, dirs
}

func seedConf(t *testing.T) string {
	b, err := os.ReadFile("../../fixtures/configs/keepalived.conf")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func daemons(dirs map[string]string) string {
	var s []string
	for _, n := range []string{"n1", "n2"} {
		var d []string
		for _, f := range []string{"keepalived", "vipd", "holds"} {
			if _, err := os.Stat(filepath.Join(dirs[n], f)); err == nil {
				d = append(d, f)
			}
		}
		s = append(s, n+": "+strings.Join(d, "+"))
	}
	return strings.Join(s, "; ")
}

func steps(rep *Report) string {
	var s []string
	for _, st := range rep.Steps {
		s = append(s, st.Kind+" "+st.Node+" "+st.Result)
	}
	return strings.Join(s, ", ")
}

// TestRun migrates a pair of stub nodes, and rolls back when the second
// node's vipd does not start.
func TestRun(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid here")
	}
	tests := []struct {
		name   string
		edit   func(*Options)
		passed bool
		steps  string
		final  string
		rolled bool
		inMD   []string
	}{
		{name: "migrates", passed: true,
			steps: "baseline  pass, to-vipd n2 pass, handover n1 pass",
			final: "n1: vipd; n2: vipd+holds",
			inMD:  []string{"PASSED", "n2 (BACKUP) moves to vipd and joins as BACKUP", "keepalived stopped", "vipd up", "failed outside the handover: 0"}},
		{name: "second vipd does not start", edit: func(o *Options) { o.Targets[0].Layout.Commands.VipdStart = "false" },
			steps: "baseline  pass, to-vipd n2 pass, handover n1 fail, to-keepalived n2 pass",
			final: "n1: keepalived+holds; n2: keepalived", rolled: true,
			inMD: []string{"FAILED", "the script on n1 ended rolled-back: vipd did not start", "roll back: n2 returns to keepalived", "keepalived runs again"}},
		{name: "interrupted during the handover", passed: false,
			steps: "baseline  pass, to-vipd n2 pass, handover n1 pass",
			final: "n1: vipd; n2: vipd+holds",
			inMD:  []string{"INTERRUPTED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, dirs := fakePair(t, seedConf(t))
			if tt.edit != nil {
				tt.edit(&opts)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if strings.HasPrefix(tt.name, "interrupted") {
				opts.Launched = func(n int, node string) {
					if node == "n1" {
						cancel()
					}
				}
			}
			rep, err := Run(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			var md strings.Builder
			rep.Markdown(&md)
			if got := steps(rep); got != tt.steps {
				t.Errorf("steps %q, want %q\n%s", got, tt.steps, md.String())
			}
			if got := daemons(dirs); got != tt.final {
				t.Errorf("final %q, want %q", got, tt.final)
			}
			if rep.Passed != tt.passed || rep.RolledBack != tt.rolled {
				t.Errorf("passed %v rolled back %v, want %v %v: %s", rep.Passed, rep.RolledBack, tt.passed, tt.rolled, rep.Result)
			}
			for _, w := range tt.inMD {
				if !strings.Contains(md.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, md.String())
				}
			}
			if t.Failed() {
				t.Log(md.String())
			}
		})
	}
}

// TestRunRefuses: a file vipd cannot run changes nothing.
func TestRunRefuses(t *testing.T) {
	opts, dirs := fakePair(t, strings.Replace(seedConf(t), "auth_type PASS", "auth_type AH", 1))
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Refused) != 2 || !strings.Contains(rep.Refused[0], "/etc/keepalived/keepalived.conf:9: vrrp_instance VI_1: auth_type AH") {
		t.Errorf("refused %q", rep.Refused)
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "stage")); err == nil {
			t.Errorf("%s was staged", d)
		}
	}
	if got := daemons(dirs); got != "n1: keepalived+holds; n2: keepalived" {
		t.Errorf("final %q", got)
	}
}

// TestRunDryRun prints the scripts and commands and changes nothing.
func TestRunDryRun(t *testing.T) {
	opts, dirs := fakePair(t, seedConf(t))
	var out strings.Builder
	opts.DryRun, opts.Out = true, &out
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		t.Errorf("dry run: %s %q", rep.Result, rep.Refused)
	}
	for _, w := range []string{
		"1. n2 (BACKUP) moves to vipd and joins as BACKUP",
		"2. n1: keepalived stops, n2 (vipd) takes the VIP, n1 joins on vipd as BACKUP",
		"setsid nohup sh " + dirs["n2"] + "/stage/to-vipd.sh",
		"vipd_nginx_check nginx",
		"-t -f " + dirs["n1"] + "/stage/keepalived.conf",
		"back_to_keepalived()",
		"(rollback only)",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("dry run lacks %q", w)
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "stage")); err == nil {
			t.Errorf("%s was staged", d)
		}
	}
	if t.Failed() {
		t.Log(out.String())
	}
}

// TestProbeEntries: the timeline shows runs of lost requests, not slow
// answers.
func TestProbeEntries(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	slow := ui.ProbeTimeout{After: 10 * time.Millisecond}
	samples := []ui.ProbeSample{
		{Time: at(0), OK: true, Backend: "n1"},
		{Time: at(5), Err: slow, Followed: true}, // answered late below
		{Time: at(10), OK: true, Backend: "n1"},
		{Time: at(5), FollowUp: true, Err: ui.ProbeTimeout{After: 10 * time.Millisecond, Late: 30 * time.Millisecond}},
		{Time: at(15), Err: slow, Followed: true},
		{Time: at(20), Err: slow, Followed: true},
		{Time: at(15), FollowUp: true, Err: ui.ProbeTimeout{After: 200 * time.Millisecond}},
		{Time: at(20), FollowUp: true, Err: ui.ProbeTimeout{After: 200 * time.Millisecond}},
		{Time: at(615), OK: true, Backend: "n2"},
	}
	got := probeEntries(samples)
	var s []string
	for _, e := range got {
		s = append(s, e.Time.Sub(t0).String()+" "+e.Text)
	}
	want := "15ms request lost: no answer within 10ms (2 lost in a row)|615ms answered again after 600ms, by n2"
	if strings.Join(s, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(s, "|"), want)
	}
}

func TestProbeEntriesLateAtOnce(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got := probeEntries([]ui.ProbeSample{
		{Time: t0, OK: true, Backend: "n1"},
		{Time: t0.Add(5 * time.Millisecond), Err: ui.ProbeTimeout{After: 10 * time.Millisecond, Late: 11 * time.Millisecond}},
		{Time: t0.Add(10 * time.Millisecond), OK: true, Backend: "n1"},
	})
	if len(got) != 0 {
		t.Errorf("a slow answer in the timeline: %+v", got)
	}
}

// TestRunStagedCheckRefuses: vipd -t of the staged file says no: nothing
// runs, and what was staged is removed.
func TestRunStagedCheckRefuses(t *testing.T) {
	opts, dirs := fakePair(t, seedConf(t))
	bad := filepath.Join(t.TempDir(), "vipd-linux-amd64")
	os.WriteFile(bad, []byte("#!/bin/sh\n[ \"$1\" = -t ] && { echo \"$3:30: vrrp_instance VI_1: IPv6 VIPs are not carried\" >&2; exit 1; }\nexit 1\n"), 0o755)
	opts.Artifacts.Binaries = map[string]string{"amd64": bad, "arm64": bad}
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0], "-t -f "+dirs["n2"]+"/stage/keepalived.conf` failed") ||
		!strings.Contains(rep.Refused[0], "stage/keepalived.conf:30: vrrp_instance VI_1: IPv6 VIPs are not carried") {
		t.Errorf("refused %q", rep.Refused)
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "stage")); err == nil {
			t.Errorf("%s: the staging directory is left", d)
		}
	}
	if got := daemons(dirs); got != "n1: keepalived+holds; n2: keepalived" {
		t.Errorf("final %q", got)
	}
}
