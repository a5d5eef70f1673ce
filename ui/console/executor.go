package console

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/feed"
)

// RegisterCommands defines a flag per command of c on fs: a value is one
// or more commands separated by ";".
func RegisterCommands(fs *flag.FlagSet, c *ui.Commands) {
	for _, f := range []struct {
		name, usage string
		v           *[]string
	}{
		{"nginx-stop", "stop nginx for the restart check (vipd must start it again)", &c.NginxStop},
		{"nginx-break", "make nginx fail so that it cannot be restarted", &c.NginxBreak},
		{"nginx-repair", "undo nginx-break and start nginx", &c.NginxRepair},
		{"nginx-check", "exit 0 when nginx runs", &c.NginxCheck},
		{"vipd-stop", "stop vipd gracefully", &c.VipdStop},
		{"vipd-start", "start vipd", &c.VipdStart},
		{"keepalived-stop", "stop keepalived gracefully (nodes that run keepalived)", &c.KeepalivedStop},
		{"keepalived-start", "start keepalived (nodes that run keepalived)", &c.KeepalivedStart},
	} {
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

// ExecutorOptions configure an Executor. Zero values take the defaults.
type ExecutorOptions struct {
	Commands ui.Commands // zero: ui.DefaultCommands
	By       string      // who acts, in vipd's log; default feed.DefaultBy()
	ReadOnly bool        // refuse every action
	Wait     time.Duration
	Logger   *slog.Logger
}

// Executor runs the console's guarded actions on the nodes over SSH: it
// implements ui.Executor. It runs what the action says (the action table
// in package ui fills in its commands) and decides nothing: the console
// model's gate decides whether an action runs. It refuses everything
// itself when read-only, and remembers what drills broke until it is
// repaired, so that Restore can put the pair back.
type Executor struct {
	opts  ExecutorOptions
	log   *slog.Logger
	nodes map[[2]string]*gateNode

	mu    sync.Mutex
	debts map[[2]string]ui.Debt
	// keepalived: the nodes an action found running keepalived.
	keepalived map[[2]string]bool
}

var _ ui.Executor = (*Executor)(nil)

type gateNode struct {
	pair, name, host string
	x                feed.Execer
	vipd             feed.Vipd
	ssh              *ssh.Config // for a fresh link when x's is down; nil: none
}

// ErrReadOnly is the Executor's refusal when read-only.
var ErrReadOnly = ui.ErrReadOnly

// NewExecutor returns an executor with no nodes.
func NewExecutor(opts ExecutorOptions) *Executor {
	if opts.Commands.Zero() {
		opts.Commands = ui.DefaultCommands()
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
	return &Executor{opts: opts, log: log, nodes: map[[2]string]*gateNode{}, debts: map[[2]string]ui.Debt{}, keepalived: map[[2]string]bool{}}
}

// Add makes node of pair (at host) reachable through x; cfg, if not nil,
// dials it afresh when x's link is down (Restore, Observe).
func (g *Executor) Add(pair, node, host string, x feed.Execer, v feed.Vipd, cfg *ssh.Config) {
	g.nodes[[2]string{pair, node}] = &gateNode{pair: pair, name: node, host: host, x: x, vipd: v, ssh: cfg}
}

// By is who the executor says acts.
func (g *Executor) By() string { return g.opts.By }

// Commands are what the actions run besides vipd's own commands.
func (g *Executor) Commands() ui.Commands { return g.opts.Commands }

// Run implements ui.Executor: it runs a.Commands on a.Node in order,
// stopping at the first that fails (a Check's failure is evidence, not an
// error), bounded by the executor's wait and by ctx.
func (g *Executor) Run(ctx context.Context, a ui.Action) ([]ui.Step, error) {
	ctx, cancel := context.WithTimeout(ctx, g.opts.Wait)
	defer cancel()
	return g.run(ctx, a)
}

// Do runs what a's kind runs at once, with no check: for tests and
// scripts that are their own gate. Where the console would know from its
// stream whether vipd runs (re-enable starts it or resumes it), Do asks
// `vipd status`.
func (g *Executor) Do(ctx context.Context, a ui.Action) error {
	if a.Commands == nil {
		n, ok := g.nodes[[2]string{a.Pair, a.Node}]
		if !ok {
			return fmt.Errorf("no node %s in pair %s", a.Node, a.Pair)
		}
		down := false
		if a.Kind == ui.ActionResume && !a.Keepalived {
			_, err := g.exec(ctx, n, n.vipd.Status(), true, false)
			var exit *ssh.ExitError
			down = errors.As(err, &exit)
		}
		a = ui.Resolve(a, g.opts.Commands, n.vipd, g.opts.By, down)
	}
	_, err := g.Run(ctx, a)
	return err
}

// run runs an action's commands and records what they broke or repaired.
func (g *Executor) run(ctx context.Context, a ui.Action) ([]ui.Step, error) {
	if g.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	n, ok := g.nodes[[2]string{a.Pair, a.Node}]
	if !ok {
		return nil, fmt.Errorf("no node %s in pair %s", a.Node, a.Pair)
	}
	g.log.Info("action", "kind", a.Kind, "pair", a.Pair, "node", a.Node, "by", g.opts.By)
	if a.Keepalived {
		g.mu.Lock()
		g.keepalived[[2]string{n.pair, n.name}] = true // for Restore: it starts keepalived there
		g.mu.Unlock()
	}
	g.owe(n, a.Leaves, 0) // owed before it runs: a command cut halfway may have done it
	var steps []ui.Step
	for _, c := range a.Commands {
		st, err := g.exec(ctx, n, c.Line, c.Check, false)
		steps = append(steps, st)
		if err != nil && !c.Check {
			return steps, fmt.Errorf("%s on %s: %w", a.Kind, a.Node, err)
		}
	}
	g.owe(n, 0, a.Clears)
	return steps, nil
}

// exec runs one command line on n; redial dials n afresh when its link is
// down.
func (g *Executor) exec(ctx context.Context, n *gateNode, line string, check, redial bool) (ui.Step, error) {
	st, _, err := g.execOut(ctx, n, line, check, redial)
	return st, err
}

// execOut is exec, with the command's whole output.
func (g *Executor) execOut(ctx context.Context, n *gateNode, line string, check, redial bool) (ui.Step, []byte, error) {
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

// owe records what n now owes: add broken, clear repaired.
func (g *Executor) owe(n *gateNode, add, clear ui.Debt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := [2]string{n.pair, n.name}
	d := (g.debts[k] | add) &^ clear
	if d == 0 {
		delete(g.debts, k)
		return
	}
	g.debts[k] = d
}

// Outstanding says what drills run by this console broke that nothing it
// ran has repaired, one line per node and thing. nginx stopped for the
// restart check is not listed: vipd's guard starts it again (Restore makes
// sure). Another console may have repaired it since: Confirmed says what
// the nodes still show.
func (g *Executor) Outstanding() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, k := range g.sortedDebts() {
		out = append(out, g.debts[k].Describe(k[1])...)
	}
	return out
}

// Confirmed is Outstanding, each debt checked against what its node says
// now (a fresh `vipd status`, dialled afresh where the link is down): a
// debt another console repaired is dropped, one that cannot be checked is
// said so.
func (g *Executor) Confirmed(ctx context.Context) []string {
	keys, debts := g.snapshot()
	var out []string
	for _, k := range keys {
		n, d := g.nodes[k], debts[k]
		_, raw, err := g.execOut(ctx, n, n.vipd.Status(), true, true)
		var st control.Status
		if err == nil {
			st, err = control.DecodeStatus(bytes.NewReader(raw))
		}
		for _, x := range []ui.Debt{ui.DebtNginxHeld, ui.DebtVipdStopped, ui.DebtFault} {
			if d&x == 0 {
				continue
			}
			text := x.Describe(k[1])[0]
			switch still := debtHolds(x, &st, err); {
			case still == nil:
				out = append(out, text+" (not confirmed: "+shortErr(err)+")")
			case *still:
				out = append(out, text)
			}
		}
	}
	return out
}

// debtHolds says whether debt x still shows in st (nil: cannot tell).
func debtHolds(x ui.Debt, st *control.Status, err error) *bool {
	yes, no := true, false
	var exit *ssh.ExitError
	switch {
	case x == ui.DebtVipdStopped && errors.As(err, &exit):
		return &yes // vipd status fails when vipd does not run
	case err != nil:
		return nil
	case x == ui.DebtVipdStopped:
		return &no
	case x == ui.DebtNginxHeld:
		if st.Nginx == nil {
			return nil
		}
		r := st.Nginx.Verdict != control.VerdictHealthy
		return &r
	case x == ui.DebtFault:
		for _, in := range st.Instances {
			if in.State == control.StateFault && strings.HasPrefix(in.FaultReason, "fault requested") {
				return &yes
			}
		}
		return &no
	}
	return nil
}

func shortErr(err error) string {
	if err == nil {
		return "no answer"
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return shorten(s, 120)
}

// snapshot is the debts now and their nodes in order.
func (g *Executor) snapshot() ([][2]string, map[[2]string]ui.Debt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sortedDebts(), maps.Clone(g.debts)
}

func (g *Executor) sortedDebts() [][2]string {
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
func (g *Executor) Restore(ctx context.Context) []Restored {
	if g.opts.ReadOnly {
		return nil
	}
	keys, debts := g.snapshot()
	var out []Restored
	for _, k := range keys {
		n := g.nodes[k]
		g.mu.Lock()
		ka := g.keepalived[k]
		g.mu.Unlock()
		for _, fix := range ui.Undo(debts[k], g.opts.Commands, n.vipd, g.opts.By, ka) {
			r := Restored{Pair: k[0], Node: k[1], What: fix.What}
			if len(fix.Skip) > 0 && g.retry(ctx, n, fix.Skip, &Restored{}) == nil {
				g.owe(n, 0, fix.Debt)
				if fix.Debt == ui.DebtNginxStopped {
					continue // vipd's guard started it again, as it should: nothing was left broken
				}
				r.What = "nginx already runs"
				r.Commands = fix.Skip
			} else {
				r.Err = g.retry(ctx, n, fix.Lines, &r)
			}
			if r.Err == nil {
				g.owe(n, 0, fix.Debt)
			}
			out = append(out, r)
		}
	}
	return out
}

// retry runs cmds on n, again while the node cannot be reached, until ctx
// ends.
func (g *Executor) retry(ctx context.Context, n *gateNode, cmds []string, r *Restored) error {
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
func (g *Executor) Observe(ctx context.Context, pair string) []NodeStatus {
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
