package console

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"golang.org/x/sync/errgroup"

	"github.com/vipkit/vip/cmd/vipctl/internal/cluster"
	"github.com/vipkit/vip/cmd/vipctl/internal/feed"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui"
)

// Options say how to reach the nodes and what the console may do. The zero
// value reaches them as ssh(1) would, with the user's keys and known_hosts.
type Options struct {
	// SSH is every node's client configuration but Target and Sudo (set
	// per node) and KnownHosts (the cluster's, if it names one). Confirm
	// is ignored: unknown keys are confirmed before the console starts
	// (CheckHostKeys), and refused while it runs.
	SSH ssh.Config
	// ProbeDial replaces the probe's dialer (the lab's client namespace,
	// the demo's in-memory VIP).
	ProbeDial feed.DialFunc
	// ProbeInterval is the time between probes; default 200 ms.
	ProbeInterval time.Duration
	// StatusEvery is passed to every node feed.
	StatusEvery time.Duration
	// Actions enables the guarded actions (drills, repair, re-enable)
	// through a Gate on the same links; without it the console is
	// read-only, and its gate refuses every action.
	Actions bool
	// By says who acts, in vipd's log and the audit log; default
	// feed.DefaultBy().
	By string
	// Commands are what the gate runs on the nodes (zero: DefaultCommands).
	Commands Commands
	// Audit records the verdict on every action, refusals included (nil:
	// none are recorded).
	Audit ui.Auditor
	// RetryMax bounds the wait of a node's feed before it watches vipd
	// again after the watch ended (0: the feed's default), so that a vipd
	// started again is seen soon.
	RetryMax time.Duration
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
	gate  *Gate
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
	con := &Console{opts: opts, gate: NewGate(GateOptions{
		Commands: opts.Commands, By: opts.By, ReadOnly: !opts.Actions, Logger: log.With("gate", "actions"),
	})}
	for _, p := range c.Pairs {
		up := ui.Pair{Name: p.Name, VIP: p.VIP.Addr().String()}
		vipd := feed.Vipd{Command: p.Vipd, Socket: p.Socket}
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
				Name: n.Name, Host: n.Target, Remote: conn, Vipd: vipd,
				StatusEvery: opts.StatusEvery, RetryMax: opts.RetryMax, Logger: log.With("pair", p.Name),
			})
			con.gate.Add(p.Name, n.Name, n.Target, conn, vipd, &cfg)
			con.ssh = append(con.ssh, cfg)
			con.tasks = append(con.tasks, f)
			up.Nodes = append(up.Nodes, f)
		}
		pr := feed.NewProbe(feed.ProbeConfig{
			URL: "http://" + p.VIP.String() + "/", Interval: opts.ProbeInterval, Dial: opts.ProbeDial,
		})
		con.tasks = append(con.tasks, pr)
		up.Probe = pr
		con.pairs = append(con.pairs, up)
	}
	return con
}

// Gate is the console's gate: guarded actions over the nodes' links. It
// works while the console runs; Restore and Observe dial afresh after.
func (c *Console) Gate() *Gate { return c.gate }

// CheckHostKeys connects to every node once, asking confirm about host
// keys known_hosts does not hold. Call it before Run, while the terminal
// is still a terminal.
func (c *Console) CheckHostKeys(ctx context.Context, confirm func(context.Context, ssh.HostKeyPrompt) bool) []error {
	cfgs := make([]ssh.Config, len(c.ssh))
	for i, cfg := range c.ssh {
		cfg.Confirm = confirm
		cfgs[i] = cfg
	}
	return feed.CheckHostKeys(ctx, cfgs)
}

func (c *Console) model() *ui.Model {
	opts := c.opts.UI
	opts.Gate = c.gate // the model's gate is the only caller
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
	m := c.model()
	pctx, kill := context.WithCancel(context.WithoutCancel(ctx))
	defer kill()
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
