package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/console"
)

// Scenario is how the drill fails the MASTER over.
type Scenario string

// Scenarios: the three failover drills of the console.
const (
	ScenarioVipd  Scenario = "vipd"  // vipd stops gracefully: the seed's `killall keepalived`
	ScenarioNginx Scenario = "nginx" // nginx fails and cannot be restarted: the seed's check_nginx.sh giving up
	ScenarioFault Scenario = "fault" // forced give-up: vipd ctl fault --reason drill
)

// kinds are the scenarios' failover actions.
var kinds = map[Scenario]ui.ActionKind{ScenarioVipd: ui.ActionStopVipd, ScenarioNginx: ui.ActionFailNginx, ScenarioFault: ui.ActionFault}

// Plan is the seed's test section for scenario s (ui.DrillSteps).
func Plan(s Scenario) ([]ui.DrillStep, error) { return PlanFor(s, false) }

// PlanFor is Plan on a pair whose nodes run keepalived (keepalived) or
// vipd (ui.DrillStepsFor).
func PlanFor(s Scenario, keepalived bool) ([]ui.DrillStep, error) {
	if s == "" {
		s = ScenarioVipd
	}
	k, ok := kinds[s]
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q: want vipd, nginx or fault", s)
	}
	return ui.DrillStepsFor(k, keepalived)
}

// Options configure a drill. Zero values take the defaults.
type Options struct {
	Pair     string   // "" for the cluster's first pair
	Scenario Scenario // "" is ScenarioVipd
	// Keepalived: the pair runs keepalived (the drill's repairs are
	// those of what check_nginx.sh leaves: keepalived stopped).
	Keepalived bool
	// Yes runs every step at once, unattended and without a terminal,
	// confirming each by itself.
	Yes bool
	// Settle and StepTimeout are the console's post-check bounds (0:
	// per action).
	Settle, StepTimeout time.Duration
	// RestoreWait bounds restoring what an interrupted drill broke and
	// observing the pair after (default 90 s).
	RestoreWait time.Duration
	// Verify, if set, checks the VIP's new home another way than the
	// probe after each failover that passed (the demo's in-memory record;
	// in the lab, the nodes' interfaces and the client's ARP cache). Its
	// expectations join the step's; one that does not hold fails it.
	Verify func(ctx context.Context, master string) []ui.Expectation
	// VerifyHow says how Verify checks, for the report.
	VerifyHow string
	// Width and Height are the screen without a terminal (default 100x30).
	Width, Height int
	Logger        *slog.Logger
}

// runner runs one ui.Drill on a console and writes its report.
type runner struct {
	opts Options
	plan []ui.DrillStep

	mu       sync.Mutex
	last     ui.DrillReport
	verified map[int][]ui.Expectation // per step: Verify's verdicts
	done     chan struct{}            // closed when the console says the drill is over
	closed   bool
}

// newRunner plans a drill.
func newRunner(opts Options) (*runner, error) {
	if opts.Scenario == "" {
		opts.Scenario = ScenarioVipd
	}
	plan, err := PlanFor(opts.Scenario, opts.Keepalived)
	if err != nil {
		return nil, err
	}
	if opts.RestoreWait <= 0 {
		opts.RestoreWait = 90 * time.Second
	}
	if opts.Width <= 0 || opts.Height <= 0 {
		opts.Width, opts.Height = 100, 30
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &runner{opts: opts, plan: plan, verified: map[int][]ui.Expectation{}, done: make(chan struct{})}, nil
}

// Title is the drill's title.
func (d *runner) Title() string {
	return fmt.Sprintf("the seed's test section (%s failover)", d.opts.Scenario)
}

// consoleOptions sets what the console needs to run the drill: the drill
// view, its report, the post-check bounds.
func (d *runner) consoleOptions(o console.Options) console.Options {
	o.Actions = true
	o.UI.Drill = &ui.Drill{Title: d.Title(), Pair: d.opts.Pair, Steps: d.plan, Auto: d.opts.Yes, Report: d.receive}
	o.UI.Settle, o.UI.ActionTimeout = d.opts.Settle, d.opts.StepTimeout
	if d.opts.Yes {
		o.UI.Refresh = -1 // no terminal to redraw
	}
	return o
}

// verifyWait bounds one Verify; abortWait bounds the console's report
// after an interruption.
const (
	verifyWait = 10 * time.Second
	abortWait  = 5 * time.Second
)

// receive takes the console's report, from its Cmds (one call at a
// time), and verifies each failover that passed, once, as soon as it has.
func (d *runner) receive(r ui.DrillReport) {
	d.mu.Lock()
	d.last = r
	var todo []int
	for i, s := range r.Steps {
		o := s.Outcome
		if d.opts.Verify == nil || o == nil || o.Result != ui.ResultPass || !o.Action.Kind.Failover() {
			continue
		}
		if _, seen := d.verified[i]; !seen {
			todo = append(todo, i)
		}
	}
	d.mu.Unlock()

	for _, i := range todo {
		ctx, cancel := context.WithTimeout(context.Background(), verifyWait)
		exps := d.opts.Verify(ctx, r.Steps[i].Outcome.Peer)
		cancel()
		d.mu.Lock()
		d.verified[i] = exps
		d.mu.Unlock()
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if r.Done && !d.closed {
		d.closed = true
		close(d.done)
	}
}

func orNone(s string) string {
	if s == "" {
		return "no node"
	}
	return s
}

// Run runs the drill on the console that open makes from base (with the
// drill's view, report and bounds set): unattended without a terminal
// (Yes), else on the terminal in and out. When it ends, however it ends, what it broke is
// restored and the pair observed. ctx interrupts the drill; restoring
// outlives it, bounded by RestoreWait. The error is the console's, or the
// interruption; the verdict is in the report.
func Run(ctx context.Context, opts Options, open func(console.Options) (*console.Console, error), base console.Options, in io.Reader, out io.Writer) (*Report, error) {
	d, err := newRunner(opts)
	if err != nil {
		return nil, err
	}
	con, err := open(d.consoleOptions(base))
	if err != nil {
		return nil, err
	}
	return d.run(ctx, con, in, out)
}

func (d *runner) run(ctx context.Context, con *console.Console, in io.Reader, out io.Writer) (*Report, error) {
	started := time.Now()
	var err error
	if d.opts.Yes {
		// The console outlives ctx by as much as it takes to abort the
		// drill as ctrl+c would, so that the step that was cut is in the
		// report with what it had done.
		hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		err = con.RunHeadless(hctx, d.opts.Width, d.opts.Height, func(_ context.Context, h *console.Headless) error {
			select {
			case <-d.done:
				return nil
			case <-ctx.Done():
			}
			h.Interrupt()
			select {
			case <-d.done:
			case <-time.After(abortWait):
			}
			return nil // the interruption is ctx's to report
		})
	} else {
		err = con.Run(ctx, in, out)
	}
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("drill interrupted: %w", context.Cause(ctx))
	}

	d.mu.Lock()
	last := d.last
	verified := maps.Clone(d.verified)
	d.mu.Unlock()
	rep := d.report(last, verified, started)
	if ctx.Err() != nil && (!last.Done || rep.Aborted != "") { // not once it was over
		why := "interrupted: " + context.Cause(ctx).Error()
		if at, ok := strings.CutPrefix(rep.Aborted, "the operator quit"); ok {
			why += at // " at step 3 (...)"
		}
		rep.Aborted, rep.Passed = why, false
		for i, s := range rep.Steps { // the step cut: ctx quit, not the operator
			if cut, ok := strings.CutPrefix(s.Why, "interrupted while it ran: the operator quit"); ok {
				rep.Steps[i].Why = "interrupted while it ran: " + context.Cause(ctx).Error() + cut
			}
		}
	}
	if !last.Done && rep.Aborted == "" {
		switch {
		case err != nil:
			rep.Aborted = "the console stopped: " + err.Error()
		default:
			rep.Aborted = "the console stopped before the drill ended"
		}
		rep.Passed = false
	}

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.RestoreWait)
	defer cancel()
	gate := con.Executor()
	for _, r := range gate.Restore(rctx) {
		rr := Restored{Node: r.Node, What: r.What, Commands: r.Commands}
		if r.Err != nil {
			rr.Error = r.Err.Error()
		}
		rep.Restored = append(rep.Restored, rr)
	}
	rep.Outstanding = gate.Outstanding()
	rep.Final = observe(rctx, gate, rep.Pair, d.opts.Logger)
	rep.Ended = time.Now()
	return rep, err
}

// observe reads every node's status until the pair is settled (one MASTER
// with the VIP, every other node a BACKUP without it, nginx healthy
// everywhere) or ctx ends, and describes what it last saw.
func observe(ctx context.Context, g *console.Executor, pair string, log *slog.Logger) Final {
	var f Final
	for {
		f = judge(g.Observe(ctx, pair))
		if f.Safe || ctx.Err() != nil {
			return f
		}
		log.Debug("pair not settled yet", "state", f.Summary)
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return f
		}
	}
}

// judge says whether the pair is in a safe state, and what that state is.
func judge(nodes []console.NodeStatus) Final {
	var (
		f       Final
		masters []string
		trouble []string
	)
	for _, n := range nodes {
		fn := NodeFinal{Name: n.Node}
		if n.Err != nil {
			fn.Error = n.Err.Error()
			f.Nodes = append(f.Nodes, fn)
			trouble = append(trouble, fmt.Sprintf("%s: no status (%s)", n.Node, fn.Error))
			continue
		}
		var states []string
		for _, in := range n.Status.Instances {
			states = append(states, string(in.State))
			if in.VIPPresent {
				fn.VIP = true
			}
			switch {
			case in.State == control.StateMaster && in.VIPPresent:
				masters = append(masters, n.Node)
			case in.State == control.StateMaster:
				trouble = append(trouble, n.Node+" is MASTER without the VIP")
			case in.VIPPresent:
				trouble = append(trouble, fmt.Sprintf("%s is %s but holds the VIP", n.Node, in.State))
			case in.State != control.StateBackup:
				trouble = append(trouble, fmt.Sprintf("%s is %s", n.Node, in.State))
			}
		}
		fn.State = strings.Join(slices.Compact(states), "/")
		fn.Nginx = "no guard"
		if g := n.Status.Nginx; g != nil {
			fn.Nginx = string(g.Verdict)
			if g.Verdict != control.VerdictHealthy {
				trouble = append(trouble, fmt.Sprintf("nginx on %s is %s", n.Node, g.Verdict))
			}
		}
		f.Nodes = append(f.Nodes, fn)
	}
	switch {
	case len(masters) > 1:
		trouble = append(trouble, "SPLIT BRAIN: "+strings.Join(masters, " and ")+" both hold the VIP")
	case len(masters) == 0 && len(nodes) > 0:
		trouble = append(trouble, "no node holds the VIP")
	}
	var parts []string
	for _, n := range f.Nodes {
		switch {
		case n.Error != "":
			parts = append(parts, n.Name+" unknown")
		case n.VIP:
			parts = append(parts, fmt.Sprintf("%s %s with the VIP, nginx %s", n.Name, n.State, n.Nginx))
		default:
			parts = append(parts, fmt.Sprintf("%s %s, nginx %s", n.Name, n.State, n.Nginx))
		}
	}
	f.Safe = len(trouble) == 0 && len(nodes) > 0
	if f.Safe {
		f.Summary = "safe: " + strings.Join(parts, "; ")
	} else {
		f.Summary = "NOT SAFE: " + strings.Join(trouble, "; ") + " (" + strings.Join(parts, "; ") + ")"
	}
	return f
}

// ErrFailed is Main's error when the drill did not pass.
var ErrFailed = errors.New("the drill did not pass")
