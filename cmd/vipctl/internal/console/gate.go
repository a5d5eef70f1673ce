package console

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vipkit/vip/cmd/vipctl/internal/feed"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui"
)

// Commands are what the gate runs on a node for each action. Each entry is
// one simple command, run by itself over SSH (behind sudo -n when the pair
// uses sudo), so that a sudoers rule can name it; an action runs its
// entries in order and stops at the first that fails.
type Commands struct {
	NginxStop   []string // the restart check: vipd's guard must start nginx again
	NginxBreak  []string // nginx fails and is held down, so restarts fail
	NginxRepair []string // undo NginxBreak and start nginx
	NginxCheck  []string // exits 0 when nginx runs (used when vipd does not)
	VipdStop    []string // vipd stops gracefully
	VipdStart   []string
	VipdActive  []string // exits 0 when vipd runs, non-zero when it does not
}

// DefaultCommands are systemd's: nginx is held down by a runtime mask,
// which `systemctl start nginx` (vipd's start_command) cannot get past and
// which a reboot clears.
func DefaultCommands() Commands {
	return Commands{
		NginxStop:   []string{"systemctl stop nginx"},
		NginxBreak:  []string{"systemctl mask --runtime --now nginx"},
		NginxRepair: []string{"systemctl unmask --runtime nginx", "systemctl start nginx"},
		NginxCheck:  []string{"systemctl is-active --quiet nginx"},
		VipdStop:    []string{"systemctl stop vipd"},
		VipdStart:   []string{"systemctl start vipd"},
		VipdActive:  []string{"systemctl is-active --quiet vipd"},
	}
}

func (c *Commands) fields() []struct {
	name, usage string
	v           *[]string
} {
	return []struct {
		name, usage string
		v           *[]string
	}{
		{"nginx-stop", "stop nginx for the restart check (vipd must start it again)", &c.NginxStop},
		{"nginx-break", "make nginx fail so that it cannot be restarted", &c.NginxBreak},
		{"nginx-repair", "undo nginx-break and start nginx", &c.NginxRepair},
		{"nginx-check", "exit 0 when nginx runs", &c.NginxCheck},
		{"vipd-stop", "stop vipd gracefully", &c.VipdStop},
		{"vipd-start", "start vipd", &c.VipdStart},
		{"vipd-active", "exit 0 when vipd runs", &c.VipdActive},
	}
}

// Register defines a flag per command on fs, defaulting to c's: a value
// is one or more commands separated by ";".
func (c *Commands) Register(fs *flag.FlagSet) {
	for _, f := range c.fields() {
		fs.Func(f.name, f.usage+": `CMD[; CMD...]` run on the node (default \""+strings.Join(*f.v, "; ")+"\")", func(s string) error {
			var cmds []string
			for _, part := range strings.Split(s, ";") {
				if part = strings.TrimSpace(part); part != "" {
					cmds = append(cmds, part)
				}
			}
			if len(cmds) == 0 {
				return errors.New("no command")
			}
			*f.v = cmds
			return nil
		})
	}
}

func (c Commands) zero() bool {
	for _, f := range c.fields() {
		if len(*f.v) > 0 {
			return false
		}
	}
	return true
}

// GateOptions configure a Gate. Zero values take the defaults.
type GateOptions struct {
	Commands Commands // zero: DefaultCommands
	By       string   // who acts, in vipd's log; default feed.DefaultBy()
	ReadOnly bool     // refuse every action
	Wait     time.Duration
	Logger   *slog.Logger
}

// Gate runs the console's guarded actions on the nodes: it implements
// ui.Gate and ui.Planner. The console model decides whether an action
// runs; the Gate refuses everything itself when read-only, and remembers
// what drills broke until it is repaired, so that Restore can put the pair
// back.
type Gate struct {
	opts  GateOptions
	log   *slog.Logger
	nodes map[[2]string]*gateNode

	mu    sync.Mutex
	debts map[[2]string]*debt
}

var (
	_ ui.Gate    = (*Gate)(nil)
	_ ui.Planner = (*Gate)(nil)
)

type gateNode struct {
	pair, name, host string
	x                feed.Execer
	vipd             feed.Vipd
	ssh              *ssh.Config // for a fresh link when x's is down; nil: none
}

// debt is what drills broke on a node and nothing has repaired yet.
type debt struct {
	nginxHeld    bool // held down: only a repair brings it back
	nginxStopped bool // stopped for the restart check: vipd should have started it
	vipd         bool // stopped
	fault        bool // operator FAULT
}

// ErrReadOnly is the Gate's refusal when read-only.
var ErrReadOnly = ui.ErrReadOnly

// NewGate returns a gate with no nodes.
func NewGate(opts GateOptions) *Gate {
	if opts.Commands.zero() {
		opts.Commands = DefaultCommands()
	}
	if opts.By == "" {
		opts.By = feed.DefaultBy()
	}
	if opts.Wait <= 0 {
		opts.Wait = feed.DefaultActionWait
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Gate{opts: opts, log: log, nodes: map[[2]string]*gateNode{}, debts: map[[2]string]*debt{}}
}

// Add makes node of pair (at host) reachable through x; cfg, if not nil,
// dials it afresh when x's link is down (Restore, Observe).
func (g *Gate) Add(pair, node, host string, x feed.Execer, v feed.Vipd, cfg *ssh.Config) {
	g.nodes[[2]string{pair, node}] = &gateNode{pair: pair, name: node, host: host, x: x, vipd: v, ssh: cfg}
}

// By is who the gate says acts.
func (g *Gate) By() string { return g.opts.By }

// Run implements ui.Gate.
func (g *Gate) Run(a ui.Action) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), g.opts.Wait)
		defer cancel()
		steps, err := g.run(ctx, a)
		return ui.ActionResultMsg{Action: a, Steps: steps, Err: err}
	}
}

// Do runs a's commands at once, with no check: for tests and scripts
// that are their own gate.
func (g *Gate) Do(ctx context.Context, a ui.Action) error {
	_, err := g.run(ctx, a)
	return err
}

// Plan implements ui.Planner.
func (g *Gate) Plan(a ui.Action) []string {
	c := g.opts.Commands
	n := g.nodes[[2]string{a.Pair, a.Node}]
	var v feed.Vipd
	if n != nil {
		v = n.vipd
	}
	switch a.Kind {
	case ui.ActionRestartNginx:
		return c.NginxStop
	case ui.ActionFailNginx:
		return c.NginxBreak
	case ui.ActionStopVipd:
		return c.VipdStop
	case ui.ActionFault:
		return []string{v.Fault(a.Instance, reason(a), g.opts.By)}
	case ui.ActionRepair:
		return append(slices.Clone(c.NginxRepair), c.NginxCheck...)
	case ui.ActionResume:
		return append(slices.Clone(c.VipdActive),
			fmt.Sprintf("then %s if vipd is stopped, else %s", strings.Join(c.VipdStart, "; "), v.Resume(a.Instance, g.opts.By)))
	}
	return nil
}

func reason(a ui.Action) string {
	if a.Reason == "" {
		return "drill"
	}
	return a.Reason
}

// run runs an action's commands and records what they broke or repaired.
func (g *Gate) run(ctx context.Context, a ui.Action) ([]ui.Step, error) {
	if g.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	n, ok := g.nodes[[2]string{a.Pair, a.Node}]
	if !ok {
		return nil, fmt.Errorf("no node %s in pair %s", a.Node, a.Pair)
	}
	c := g.opts.Commands
	var steps []ui.Step
	exec := func(cmds []string, check bool) error {
		for _, line := range cmds {
			st, err := g.exec(ctx, n, line, check, false)
			steps = append(steps, st)
			if err != nil {
				return err
			}
		}
		return nil
	}
	g.log.Info("action", "kind", a.Kind, "pair", a.Pair, "node", a.Node, "by", g.opts.By)
	var err error
	switch a.Kind {
	case ui.ActionBaseline:
	case ui.ActionRestartNginx:
		g.owe(n, func(d *debt) { d.nginxStopped = true })
		err = exec(c.NginxStop, false)
	case ui.ActionFailNginx:
		g.owe(n, func(d *debt) { d.nginxHeld = true })
		err = exec(c.NginxBreak, false)
	case ui.ActionStopVipd:
		g.owe(n, func(d *debt) { d.vipd = true })
		err = exec(c.VipdStop, false)
	case ui.ActionFault:
		g.owe(n, func(d *debt) { d.fault = true })
		err = exec([]string{n.vipd.Fault(a.Instance, reason(a), g.opts.By)}, false)
	case ui.ActionRepair:
		if err = exec(c.NginxRepair, false); err == nil {
			g.owe(n, func(d *debt) { d.nginxHeld, d.nginxStopped = false, false })
			_ = exec(c.NginxCheck, true) // evidence; vipd's guard judges when it runs
		}
	case ui.ActionResume:
		err = g.resume(ctx, n, a, &steps)
	default:
		err = fmt.Errorf("unknown action %q", a.Kind)
	}
	if err != nil {
		return steps, fmt.Errorf("%s on %s: %w", a.Kind, a.Node, err)
	}
	return steps, nil
}

// resume starts vipd if it is stopped, else ends the operator's fault.
func (g *Gate) resume(ctx context.Context, n *gateNode, a ui.Action, steps *[]ui.Step) error {
	c := g.opts.Commands
	stopped := false
	for _, line := range c.VipdActive {
		st, err := g.exec(ctx, n, line, true, false)
		*steps = append(*steps, st)
		var exit *ssh.ExitError
		switch {
		case errors.As(err, &exit) && exit.Status > 0:
			stopped = true
		case err != nil:
			return err
		}
	}
	lines := []string{n.vipd.Resume(a.Instance, g.opts.By)}
	if stopped {
		lines = c.VipdStart
	}
	for _, line := range lines {
		st, err := g.exec(ctx, n, line, false, false)
		*steps = append(*steps, st)
		if err != nil {
			return err
		}
	}
	g.owe(n, func(d *debt) {
		d.fault = false
		if stopped {
			d.vipd = false
		}
	})
	return nil
}

// exec runs one command line on n; redial dials n afresh when its link is
// down.
func (g *Gate) exec(ctx context.Context, n *gateNode, line string, check, redial bool) (ui.Step, error) {
	st, _, err := g.execOut(ctx, n, line, check, redial)
	return st, err
}

// execOut is exec, with the command's whole output.
func (g *Gate) execOut(ctx context.Context, n *gateNode, line string, check, redial bool) (ui.Step, []byte, error) {
	st := ui.Step{Node: n.name, Command: line, Start: time.Now(), Check: check}
	out, err := n.x.Exec(ctx, line)
	if err != nil && redial && n.ssh != nil && errors.Is(err, ssh.ErrDisconnected) {
		var c *ssh.Client
		if c, err = ssh.Dial(ctx, *n.ssh); err == nil {
			out, err = c.Exec(ctx, line)
			c.Close()
		}
	}
	st.Duration = time.Since(st.Start)
	st.Output = shorten(string(bytes.TrimSpace(out)), 400)
	if err != nil {
		err = feed.Explain(n.host, err)
		st.Error = err.Error()
	}
	g.log.Info("ran", "node", n.name, "cmd", line, "err", err)
	return st, out, err
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (g *Gate) owe(n *gateNode, f func(*debt)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := [2]string{n.pair, n.name}
	d := g.debts[k]
	if d == nil {
		d = &debt{}
		g.debts[k] = d
	}
	f(d)
	if *d == (debt{}) {
		delete(g.debts, k)
	}
}

// Outstanding says what drills broke that nothing has repaired yet, one
// line per node and thing. nginx stopped for the restart check is not
// listed: vipd's guard starts it again (Restore makes sure).
func (g *Gate) Outstanding() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, k := range g.sortedDebts() {
		d := g.debts[k]
		if d.fault {
			out = append(out, fmt.Sprintf("%s is in operator FAULT", k[1]))
		}
		if d.vipd {
			out = append(out, fmt.Sprintf("vipd is stopped on %s", k[1]))
		}
		if d.nginxHeld {
			out = append(out, fmt.Sprintf("nginx is held down on %s", k[1]))
		}
	}
	return out
}

func (g *Gate) sortedDebts() [][2]string {
	keys := make([][2]string, 0, len(g.debts))
	for k := range g.debts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	return keys
}

// Restored is one thing Restore did, or could not do.
type Restored struct {
	Pair, Node string
	What       string   // "started nginx"
	Commands   []string // what ran
	Err        error    // nil: done
}

// Restore puts back what drills broke and nothing repaired: nginx started
// (if it does not run), vipd started, operator faults ended; in that
// order, so that a node comes back as BACKUP with a healthy nginx. A link
// that is down is dialled afresh, and commands that cannot reach the node
// are retried until ctx ends. What it could not do stays outstanding.
func (g *Gate) Restore(ctx context.Context) []Restored {
	if g.opts.ReadOnly {
		return nil
	}
	g.mu.Lock()
	keys := g.sortedDebts()
	debts := map[[2]string]debt{}
	for _, k := range keys {
		debts[k] = *g.debts[k]
	}
	g.mu.Unlock()
	c := g.opts.Commands
	var out []Restored
	for _, k := range keys {
		n, d := g.nodes[k], debts[k]
		if d.nginxHeld || d.nginxStopped {
			r := Restored{Pair: k[0], Node: k[1], What: "nginx runs again"}
			if err := g.retry(ctx, n, c.NginxCheck, &r); err == nil {
				r.What = "nginx already runs"
			} else {
				r = Restored{Pair: k[0], Node: k[1], What: "started nginx", Commands: r.Commands}
				r.Err = g.retry(ctx, n, c.NginxRepair, &r)
			}
			if r.Err == nil {
				g.owe(n, func(d *debt) { d.nginxHeld, d.nginxStopped = false, false })
			}
			out = append(out, r)
		}
		if d.vipd {
			r := Restored{Pair: k[0], Node: k[1], What: "started vipd"}
			if r.Err = g.retry(ctx, n, c.VipdStart, &r); r.Err == nil {
				g.owe(n, func(d *debt) { d.vipd, d.fault = false, false }) // a new vipd has no operator fault
			}
			out = append(out, r)
			if r.Err == nil {
				continue
			}
		}
		if d.fault {
			r := Restored{Pair: k[0], Node: k[1], What: "ended the operator fault"}
			if r.Err = g.retry(ctx, n, []string{n.vipd.Resume("", g.opts.By)}, &r); r.Err == nil {
				g.owe(n, func(d *debt) { d.fault = false })
			}
			out = append(out, r)
		}
	}
	return out
}

// retry runs cmds on n, again while the node cannot be reached, until ctx
// ends.
func (g *Gate) retry(ctx context.Context, n *gateNode, cmds []string, r *Restored) error {
	for _, line := range cmds {
		r.Commands = append(r.Commands, line)
		for wait := 200 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
			_, err := g.exec(ctx, n, line, false, true)
			if err == nil {
				break
			}
			var exit *ssh.ExitError
			if errors.As(err, &exit) || ctx.Err() != nil {
				return err
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
			}
		}
	}
	return nil
}

// NodeStatus is a node's `vipd status --json`, or why there is none.
type NodeStatus struct {
	Node   string
	Status *control.Status
	Err    error
}

// Observe asks every node of pair for its status, dialling afresh where
// the console's link is down.
func (g *Gate) Observe(ctx context.Context, pair string) []NodeStatus {
	var names []string
	for k := range g.nodes {
		if k[0] == pair {
			names = append(names, k[1])
		}
	}
	slices.Sort(names)
	out := make([]NodeStatus, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		n := g.nodes[[2]string{pair, name}]
		wg.Go(func() {
			out[i].Node = name
			_, raw, err := g.execOut(ctx, n, n.vipd.Status(), true, true)
			if err != nil {
				out[i].Err = err
				return
			}
			s, err := control.DecodeStatus(bytes.NewReader(raw))
			if err != nil {
				out[i].Err = fmt.Errorf("failed to read vipd's status on %s: %w", name, err)
				return
			}
			out[i].Status = &s
		})
	}
	wg.Wait()
	return out
}
