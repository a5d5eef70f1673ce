package console

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"golang.org/x/sync/errgroup"

	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui"
	cfgcheck "github.com/vipkit/vip/ui/check"
	"github.com/vipkit/vip/ui/check/remote"
	"github.com/vipkit/vip/ui/cluster"
	"github.com/vipkit/vip/ui/feed"
)

// Options say how to reach the nodes and what the console may do. The zero
// value reaches them as ssh(1) would, with the user's keys and known_hosts.
type Options struct {
	// SSH is every node's client configuration but Target and Sudo (set
	// per node) and KnownHosts (the cluster's, if it names one). Confirm
	// is ignored: unknown keys are confirmed before the console starts
	// (CheckHostKeys), and while it runs only on a reconnect the operator
	// asked for, inside the console.
	SSH ssh.Config
	// ProbeDial replaces the probe's dialer (the lab's client namespace,
	// the demo's in-memory VIP).
	ProbeDial feed.DialFunc
	// ProbeInterval is the time between probes; default 200 ms. While an
	// action runs the probe is dense (feed.DefaultDenseInterval).
	ProbeInterval time.Duration
	// ProbeNeighbors is the neighbour table that says which node's MAC
	// answered on an on-link VIP (nil: feed.SystemNeighbors(); the lab's
	// is its client namespace's). ProbeMACs are nodes' MACs where known
	// (the lab's); the others are looked up by their SSH host.
	ProbeNeighbors feed.Neighbors
	ProbeMACs      map[string]net.HardwareAddr
	// StatusEvery is passed to every node feed (0: a status every
	// 100 ms, vipd's shortest, so that a silent node shows as unknown
	// within 400 ms).
	StatusEvery time.Duration
	// Actions enables the guarded actions (drills, repair, re-enable)
	// through an Executor on the same links; without it the console is
	// read-only, and its gate refuses every action.
	Actions bool
	// By says who acts, in vipd's log and the audit log; default
	// feed.DefaultBy().
	By string
	// Commands are what the actions run on the nodes (zero:
	// ui.DefaultCommands).
	Commands ui.Commands
	// Audit records the verdict on every action, refusals included (nil:
	// none are recorded).
	Audit ui.Auditor
	// RetryMax bounds the wait of a node's feed before it watches vipd
	// again after the watch ended (0: the feed's default), so that a vipd
	// started again is seen soon.
	RetryMax time.Duration
	// ConfigCheck compares each pair's configurations over the same links
	// (package ui/check) at start and every UI.CheckEvery: a mismatch is
	// a banner on the pair. Off, nothing but the feeds runs on the nodes.
	ConfigCheck bool
	// UI adjusts the console model; Gate and Keys are set here.
	UI ui.Options
	// Width and Height are the screen's size when Run's output is not a
	// terminal that says (tests).
	Width, Height int

	Logger *slog.Logger
}

// Console is a cluster's feeds and the model that shows them.
type Console struct {
	opts  Options
	pairs []ui.Pair
	tasks []task
	exec  *Executor
	ssh   []ssh.Config // one per node, for CheckHostKeys
}

// task is a feed's Run: long-lived, nil on cancel.
type task interface {
	Run(ctx context.Context) error
}

// New builds the feeds of c. Nothing runs until Run or RunHeadless.
func New(c *cluster.Cluster, opts Options) *Console {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.By == "" {
		opts.By = feed.DefaultBy()
	}
	if opts.Commands.Zero() {
		opts.Commands = ui.DefaultCommands()
	}
	con := &Console{opts: opts, exec: NewExecutor(ExecutorOptions{
		Commands: opts.Commands, By: opts.By, ReadOnly: !opts.Actions, Logger: log.With("gate", "actions"),
	})}
	for _, p := range c.Pairs {
		vipd := feed.Vipd{Command: p.Vipd, Socket: p.Socket}
		up := ui.Pair{Name: p.Name, VIP: p.VIP.Addr().String(), Vipd: vipd}
		var srcs []cfgcheck.Source
		for _, n := range p.Nodes {
			cfg := opts.SSH
			cfg.Target, cfg.Sudo, cfg.Confirm = n.Target, p.Sudo, nil
			if c.KnownHosts != "" {
				cfg.KnownHosts = c.KnownHosts
			}
			if cfg.Logger == nil {
				cfg.Logger = log.With("pair", p.Name, "node", n.Name)
			}
			conn := ssh.New(cfg)
			f := feed.NewNode(feed.NodeConfig{
				Name: n.Name, Host: n.Target, Remote: conn, Vipd: vipd, Keepalived: true,
				StatusEvery: opts.StatusEvery, RetryMax: opts.RetryMax, Logger: log.With("pair", p.Name),
			})
			srcs = append(srcs, remote.Source(conn, remote.Options{Name: n.Name, Vipd: vipd}))
			con.exec.Add(p.Name, n.Name, n.Target, conn, vipd, &cfg)
			con.ssh = append(con.ssh, cfg)
			con.tasks = append(con.tasks, f)
			up.Nodes = append(up.Nodes, f)
		}
		neigh := opts.ProbeNeighbors
		if neigh == nil {
			neigh = feed.SystemNeighbors()
		}
		var nodes []feed.ProbeNode
		for _, n := range p.Nodes {
			nodes = append(nodes, feed.ProbeNode{Name: n.Name, Host: targetHost(n.Target), MAC: opts.ProbeMACs[n.Name]})
		}
		pr := feed.NewProbe(feed.ProbeConfig{
			URL: "http://" + p.VIP.String() + "/", Interval: opts.ProbeInterval, Dial: opts.ProbeDial,
			Neighbors: neigh, Nodes: nodes,
		})
		con.tasks = append(con.tasks, pr)
		up.Probe = pr
		if opts.ConfigCheck && len(srcs) >= 2 {
			a, b, vip := srcs[0], srcs[1], p.VIP.Addr()
			up.Check = func(ctx context.Context) cfgcheck.Report {
				r, _ := cfgcheck.Pair(ctx, a, b) // a node's error is in the report
				return r.WithVIP(vip)
			}
		}
		con.pairs = append(con.pairs, up)
	}
	return con
}

// targetHost is the host of an SSH target "[user@]host[:port]": the
// address whose neighbour entry may give the node's MAC. An alias of
// ~/.ssh/config resolves to nothing, and that node is known by no MAC.
func targetHost(t string) string {
	t = strings.TrimPrefix(t, "ssh://")
	if i := strings.LastIndexByte(t, '@'); i >= 0 {
		t = t[i+1:]
	}
	if h, _, err := net.SplitHostPort(t); err == nil {
		return h
	}
	return strings.Trim(t, "[]")
}

// Executor runs the console's guarded actions over the nodes' links. It
// works while the console runs; Restore and Observe dial afresh after.
func (c *Console) Executor() *Executor { return c.exec }

// CheckHostKeys connects to every node once, asking confirm about host
// keys known_hosts does not hold. Call it before Run, while the terminal
// is still a terminal.
func (c *Console) CheckHostKeys(ctx context.Context, confirm func(context.Context, ssh.HostKeyPrompt) bool) []error {
	return feed.CheckHostKeys(ctx, c.ssh, confirm)
}

// model is the console's model; ctx is the program's, so that quitting
// cancels a running action's commands.
func (c *Console) model(ctx context.Context) *ui.Model {
	opts := c.opts.UI
	opts.Executor = c.exec // the model's gate is the only caller
	opts.Context = ctx
	opts.Commands = c.opts.Commands
	opts.ReadOnly = opts.ReadOnly || !c.opts.Actions
	if opts.Audit == nil {
		opts.Audit = c.opts.Audit
	}
	if opts.Operator == "" {
		opts.Operator = c.opts.By
	}
	return ui.New(c.pairs, opts)
}

// quitGrace bounds how long the console may take to quit after ctx ends.
const quitGrace = 5 * time.Second

// Run runs the feeds and draws the console on out, reading keys from in,
// until the operator quits or ctx is done. It returns nil then.
//
// ctx ending (vipctl's SIGINT or SIGTERM) quits as ctrl+c does, not by
// killing the program: a drill aborts the step it is in and reports what
// that step had done. Bubble Tea's own signal handler would quit without
// the model's say, so it is off; a console that has not quit within
// quitGrace is killed.
func (c *Console) Run(ctx context.Context, in io.Reader, out io.Writer) error {
	if f, ok := in.(*os.File); ok && !term.IsTerminal(f.Fd()) {
		return errors.New("the console needs a terminal, and standard input is not one (`vipctl demo --snapshot` prints the demo's screen as text)")
	}
	pctx, kill := context.WithCancel(context.WithoutCancel(ctx))
	defer kill()
	m := c.model(pctx)
	return c.run(pctx, c.tasks, func(pctx context.Context) error {
		opts := []tea.ProgramOption{tea.WithContext(pctx), tea.WithInput(in), tea.WithOutput(out), tea.WithoutSignalHandler()}
		if c.opts.Width > 0 && c.opts.Height > 0 {
			opts = append(opts, tea.WithWindowSize(c.opts.Width, c.opts.Height))
		}
		p := tea.NewProgram(m, opts...)
		stop := context.AfterFunc(ctx, func() {
			p.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
			t := time.AfterFunc(quitGrace, kill)
			context.AfterFunc(pctx, func() { t.Stop() })
		})
		defer stop()
		_, err := p.Run()
		return err
	})
}

// run runs tasks and the program; the program ending (the operator quit)
// stops the tasks.
func (c *Console) run(ctx context.Context, tasks []task, program func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range tasks {
		g.Go(func() error { return t.Run(gctx) })
	}
	g.Go(func() error {
		defer cancel()
		err := program(gctx)
		switch {
		case errors.Is(err, tea.ErrProgramKilled) && gctx.Err() != nil:
			return nil // stopped from outside
		case errors.Is(err, tea.ErrInterrupted):
			return nil // SIGINT: as good as q
		}
		return err
	})
	return g.Wait()
}
