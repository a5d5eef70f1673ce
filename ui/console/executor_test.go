package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/feed"
)

// fakeExec is a node's shell: it records commands and answers as told.
type fakeExec struct {
	mu    sync.Mutex
	ran   []string
	fails map[string]error // by command
	down  int              // the next calls fail as disconnected
}

func (f *fakeExec) Exec(_ context.Context, cmd string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down > 0 {
		f.down--
		return nil, ssh.ErrDisconnected
	}
	f.ran = append(f.ran, cmd)
	if err := f.fails[cmd]; err != nil {
		return nil, err
	}
	return []byte("ok"), nil
}

func (f *fakeExec) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ran)
}

func inactive(cmd string) error { return &ssh.ExitError{Host: "lb1", Cmd: cmd, Status: 3} }

func newTestGate(readOnly bool) (*Executor, map[string]*fakeExec) {
	g := NewExecutor(ExecutorOptions{By: "alice", ReadOnly: readOnly})
	xs := map[string]*fakeExec{}
	for _, n := range []string{"nginx-01", "nginx-02"} {
		x := &fakeExec{fails: map[string]error{}}
		xs[n] = x
		g.Add("web", n, "root@"+n, x, feed.Vipd{}, nil)
	}
	return g, xs
}

func TestExecutorRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		readOnly bool
		a        ui.Action
		vipdDown bool
		fails    map[string]error
		ran      []string
		checks   []bool
		err      string
		owed     []string
	}{
		{name: "nginx fails", a: ui.Action{Kind: ui.ActionFailNginx}, ran: []string{"systemctl mask --runtime --now nginx"},
			owed: []string{"nginx is held down on nginx-01"}},
		{name: "vipd stops", a: ui.Action{Kind: ui.ActionStopVipd}, ran: []string{"systemctl stop vipd"},
			owed: []string{"vipd is stopped on nginx-01"}},
		{name: "forced give-up", a: ui.Action{Kind: ui.ActionFault, Instance: "VI_1"},
			ran: []string{"vipd ctl fault --reason drill -i VI_1 --by alice"}, owed: []string{"nginx-01 is in operator FAULT"}},
		{name: "restart check", a: ui.Action{Kind: ui.ActionRestartNginx}, ran: []string{"systemctl stop nginx"}},
		{name: "a check that fails is evidence", a: ui.Action{Kind: ui.ActionRepair},
			fails:  map[string]error{"systemctl is-active --quiet nginx": inactive("systemctl is-active --quiet nginx")},
			ran:    []string{"systemctl unmask --runtime nginx", "systemctl start nginx", "systemctl is-active --quiet nginx"},
			checks: []bool{false, false, true}},
		{name: "repair", a: ui.Action{Kind: ui.ActionRepair},
			ran:    []string{"systemctl unmask --runtime nginx", "systemctl start nginx", "systemctl is-active --quiet nginx"},
			checks: []bool{false, false, true}},
		{name: "re-enable a stopped vipd", a: ui.Action{Kind: ui.ActionResume}, vipdDown: true,
			ran: []string{"systemctl start vipd"}},
		{name: "re-enable a running vipd", a: ui.Action{Kind: ui.ActionResume},
			ran: []string{"vipd ctl resume --by alice"}},
		{name: "re-enable, node unreachable", a: ui.Action{Kind: ui.ActionResume},
			fails: map[string]error{"vipd ctl resume --by alice": ssh.ErrDisconnected},
			ran:   []string{"vipd ctl resume --by alice"}, err: "resume on nginx-01: not connected"},
		{name: "a command fails", a: ui.Action{Kind: ui.ActionRepair},
			fails: map[string]error{"systemctl start nginx": errors.New("Job for nginx.service failed")},
			ran:   []string{"systemctl unmask --runtime nginx", "systemctl start nginx"},
			err:   "repair on nginx-01: Job for nginx.service failed"},
		{name: "read-only", readOnly: true, a: ui.Action{Kind: ui.ActionFailNginx}, err: ui.ErrReadOnly.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, xs := newTestGate(tc.readOnly)
			x := xs["nginx-01"]
			for k, v := range tc.fails {
				x.fails[k] = v
			}
			a := tc.a
			a.Pair, a.Node = "web", "nginx-01"
			a = ui.Resolve(a, g.Commands(), feed.Vipd{}, g.By(), tc.vipdDown)
			steps, err := g.Run(context.Background(), a)
			if got := x.commands(); !slices.Equal(got, tc.ran) {
				t.Errorf("ran %q, want %q", got, tc.ran)
			}
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
			if len(steps) != len(tc.ran) {
				t.Fatalf("%d steps for %d commands", len(steps), len(tc.ran))
			}
			for i, c := range tc.checks {
				if steps[i].Check != c {
					t.Errorf("step %d (%s): check %v, want %v", i, steps[i].Command, steps[i].Check, c)
				}
			}
			if got := g.Outstanding(); !slices.Equal(got, tc.owed) {
				t.Errorf("outstanding %q, want %q", got, tc.owed)
			}
			if len(xs["nginx-02"].commands()) > 0 {
				t.Error("the gate ran something on the other node")
			}
		})
	}
}

// The executor runs what the action table plans.
func TestExecutorPlan(t *testing.T) {
	g, _ := newTestGate(false)
	for _, tc := range []struct {
		k        ui.ActionKind
		vipdDown bool
		want     string
	}{
		{ui.ActionFailNginx, false, "systemctl mask --runtime --now nginx"},
		{ui.ActionFault, false, "vipd ctl fault --reason drill --by alice"},
		{ui.ActionRepair, false, "systemctl unmask --runtime nginx; systemctl start nginx; systemctl is-active --quiet nginx"},
		{ui.ActionResume, false, "vipd ctl resume --by alice"},
		{ui.ActionResume, true, "systemctl start vipd"},
		{ui.ActionBaseline, false, ""},
	} {
		var lines []string
		for _, c := range ui.Plan(ui.Action{Kind: tc.k, Pair: "web", Node: "nginx-01"}, g.Commands(), feed.Vipd{}, g.By(), tc.vipdDown) {
			lines = append(lines, c.Line)
		}
		if got := strings.Join(lines, "; "); got != tc.want {
			t.Errorf("%s (vipd down %v): plan %q, want %q", tc.k, tc.vipdDown, got, tc.want)
		}
	}
}

// Restore repairs what drills broke, in an order that brings each node
// back as a BACKUP with nginx up, and retries while a node is unreachable.
func TestExecutorRestore(t *testing.T) {
	g, xs := newTestGate(false)
	ctx := context.Background()
	for _, a := range []ui.Action{
		{Kind: ui.ActionFailNginx, Node: "nginx-01"},
		{Kind: ui.ActionStopVipd, Node: "nginx-01"},
		{Kind: ui.ActionFault, Node: "nginx-02"},
		{Kind: ui.ActionRestartNginx, Node: "nginx-02"},
	} {
		a.Pair = "web"
		if err := g.Do(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	x1, x2 := xs["nginx-01"], xs["nginx-02"]
	x1.fails["systemctl is-active --quiet nginx"] = inactive("systemctl is-active --quiet nginx")
	x1.down = 2 // the link to nginx-01 is down for a moment
	x1.ran, x2.ran = nil, nil
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var got []string
	for _, r := range g.Restore(rctx) {
		if r.Err != nil {
			t.Errorf("%s %s: %v", r.Node, r.What, r.Err)
		}
		got = append(got, r.Node+": "+r.What)
	}
	// nginx-02's nginx, stopped for the restart check, runs again: not listed.
	want := []string{"nginx-01: started nginx", "nginx-01: started vipd", "nginx-02: ended the operator fault"}
	if !slices.Equal(got, want) {
		t.Errorf("restored %q, want %q", got, want)
	}
	if want := []string{"systemctl is-active --quiet nginx", "systemctl unmask --runtime nginx", "systemctl start nginx", "systemctl start vipd"}; !slices.Equal(x1.commands(), want) {
		t.Errorf("nginx-01 ran %q, want %q", x1.commands(), want)
	}
	if want := []string{"systemctl is-active --quiet nginx", "vipd ctl resume --by alice"}; !slices.Equal(x2.commands(), want) {
		t.Errorf("nginx-02 ran %q, want %q", x2.commands(), want)
	}
	if o := g.Outstanding(); len(o) > 0 {
		t.Errorf("still outstanding: %q", o)
	}

	// A node that stays unreachable is given up on when ctx ends, and
	// stays outstanding.
	if err := g.Do(ctx, ui.Action{Kind: ui.ActionStopVipd, Pair: "web", Node: "nginx-02"}); err != nil {
		t.Fatal(err)
	}
	x2.down = 1 << 20
	sctx, scancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer scancel()
	r := g.Restore(sctx)
	if len(r) != 1 || r[0].Err == nil || !errors.Is(r[0].Err, ssh.ErrDisconnected) {
		t.Errorf("restore %+v, want it to fail as disconnected", r)
	}
	if o := g.Outstanding(); !slices.Equal(o, []string{"vipd is stopped on nginx-02"}) {
		t.Errorf("outstanding %q", o)
	}
}

func TestCommandsFlags(t *testing.T) {
	c := ui.DefaultCommands()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	RegisterCommands(fs, &c)
	if err := fs.Parse([]string{"--nginx-break", "pkill -STOP nginx ;  touch /run/nginx.held", "--vipd-stop", "kill $(pidof vipd)"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.NginxBreak, []string{"pkill -STOP nginx", "touch /run/nginx.held"}) || !slices.Equal(c.VipdStop, []string{"kill $(pidof vipd)"}) {
		t.Errorf("commands %+v", c)
	}
	if !slices.Equal(c.NginxStop, ui.DefaultCommands().NginxStop) {
		t.Error("an unset flag changed its command")
	}
	if err := fs.Parse([]string{"--vipd-start", " ; "}); err == nil {
		t.Error("an empty command was accepted")
	}
}

func TestAuditFile(t *testing.T) {
	dir := t.TempDir()
	a := &AuditFile{Path: filepath.Join(dir, "state", "vipctl", "audit.jsonl")}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range []ui.AuditEntry{
		{Time: t0, Who: "alice", Action: ui.ActionFailNginx, Pair: "web", Node: "nginx-01", Result: ui.ResultPass, Commands: []string{"systemctl mask --runtime --now nginx"}, OutageMS: 812},
		{Time: t0, Who: "bob", Action: ui.ActionFault, Pair: "web", Result: ui.ResultRefused, Detail: ui.ErrReadOnly.Error(), ReadOnly: true},
	} {
		if err := a.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[0]["who"] != "alice" || lines[0]["node"] != "nginx-01" || lines[0]["result"] != "pass" ||
		lines[0]["time"] != "2025-01-02T03:04:05Z" || lines[1]["result"] != "refused" || lines[1]["read_only"] != true {
		t.Errorf("audit log %v", lines)
	}
	for path, mode := range map[string]os.FileMode{a.Path: 0o600, filepath.Dir(a.Path): 0o700 | os.ModeDir} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode(), err, mode)
		}
	}
}
