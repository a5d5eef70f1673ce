package drill

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/cluster"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
	"github.com/vipkit/vip/ui/feed"
	"github.com/vipkit/vip/ui/report"
)

// Usage is `vipctl drill`'s synopsis.
const Usage = "usage: vipctl drill --demo | --lab [--keepalived] [--yes] [--scenario vipd|nginx|fault] [flags]\n" +
	"       vipctl drill --node NAME=[USER@]HOST ... --vip ADDR[:PORT] | -c FILE [--yes] [flags]\n"

// Main is `vipctl drill ARGS`, with --demo on the pair newPair makes; it
// returns the exit status: 0 when every expectation held, 1 when one did
// not or the drill stopped early, 2 for a usage error, 130 when
// interrupted.
func Main(newPair demo.NewPair, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vipctl drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf cluster.Flags
	cf.Register(fs)
	onDemo := fs.Bool("demo", false, "drill the embedded demo pair (as vipctl demo runs it): no setup, nothing real is touched")
	onLab := fs.Bool("lab", false, "drill a namespace lab made for the drill (as vipctl demo --lab runs it): real nginx, sshd and vipd (root); "+
		"its vipd is --vipd, else the one next to vipctl, else one built with go build")
	keepalived := fs.Bool("keepalived", false, "with --lab: drill the seed's pair, keepalived with its keepalived.conf and check_nginx.sh, instead of vipd (scenario vipd stops keepalived)")
	yes := fs.Bool("yes", false, "run every step unattended, without a terminal, confirming each; exit 1 if an expectation fails")
	scenario := fs.String("scenario", string(ScenarioVipd), "how the MASTER fails over: `vipd` (stopped, as the seed kills keepalived), nginx (held down) or fault (vipd ctl fault)")
	report := fs.String("report", "", "write the report to `PREFIX`.md and PREFIX.json (default: drills/drill-TIME next to the audit log)")
	audit := console.RegisterAudit(fs)
	settle := fs.Duration("settle", 0, "how long a step's expectations must hold before it passes (default: 1s, 3s for baseline and re-enable)")
	timeout := fs.Duration("step-timeout", 0, "how long a step's expectations have to come true (default: 30s, a minute for re-enable)")
	logFile := fs.String("log", "", "write a debug log to `file`")
	cmds := ui.DefaultCommands()
	console.RegisterCommands(fs, &cmds)
	fs.Usage = func() {
		fmt.Fprint(stderr, Usage+"\nThe seed's test section, step by step: baseline, kill nginx and watch it come back,\n"+
			"failover, repair, re-enable without preemption; then a report and the pair restored.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vipctl drill: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *keepalived && !*onLab {
		fmt.Fprintln(stderr, "vipctl drill: --keepalived needs --lab")
		return 2
	}
	if _, err := PlanFor(Scenario(*scenario), *keepalived); err != nil {
		fmt.Fprintf(stderr, "vipctl drill: --scenario: %v\n", err)
		return 2
	}
	if *onDemo && *onLab {
		fmt.Fprintln(stderr, "vipctl drill: --demo or --lab, not both")
		return 2
	}
	var c *cluster.Cluster
	if !*onDemo && !*onLab {
		var err error
		if c, err = cf.Cluster(); err != nil {
			fmt.Fprintf(stderr, "vipctl drill: %v (or --demo, or --lab)\n", err)
			return 2
		}
	}
	log, closeLog, err := console.OpenLog(*logFile)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl drill: %v\n", err)
		return 1
	}
	defer closeLog()
	auditor, err := console.OpenAudit(*audit, *onDemo || *onLab)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl drill: %v (--audit)\n", err)
		return 1
	}
	defer auditor.Close(stderr)
	opts := Options{Scenario: Scenario(*scenario), Keepalived: *keepalived, Yes: *yes, Settle: *settle, StepTimeout: *timeout, Logger: log}
	copts := console.Options{Logger: log, Audit: auditor, Commands: cmds, ProbeInterval: 100 * time.Millisecond}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var rep *Report
	switch {
	case *onDemo:
		rep, err = runDemo(ctx, newPair, opts, copts, stdin, stdout)
	case *onLab:
		rep, err = runLab(ctx, demo.LabOptions{Vipd: cf.Vipd, Keepalived: *keepalived, Logger: log}, opts, copts, stdin, stdout, stderr)
	default:
		rep, err = runCluster(ctx, c, opts, copts, stdin, stdout, stderr)
	}
	if rep == nil {
		fmt.Fprintf(stderr, "vipctl drill: %v\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "vipctl drill: %v\n", err)
	}
	if err := rep.Markdown(stdout); err != nil {
		fmt.Fprintf(stderr, "vipctl drill: %v\n", err)
	}
	md, js, werr := write(rep, *report, auditor.Path)
	if werr != nil {
		fmt.Fprintf(stderr, "vipctl drill: %v\n", werr)
	} else {
		fmt.Fprintf(stderr, "report: %s and %s\n", md, js) // the audit log's name follows, on Close
	}
	switch {
	case ctx.Err() != nil:
		return 130
	case !rep.Passed || werr != nil:
		return 1
	}
	return 0
}

// runDemo drills the embedded pair. The demo outlives an interruption of
// the drill, so that what the drill broke is restored on it.
func runDemo(ctx context.Context, newPair demo.NewPair, opts Options, copts console.Options, in io.Reader, out io.Writer) (*Report, error) {
	p, err := newPair(opts.Logger)
	if err != nil {
		return nil, err
	}
	dm, err := demo.New(p, demo.Options{Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	defer dm.Close()
	opts.Pair = demo.PairName
	opts.Verify = func(_ context.Context, master string) []ui.Expectation {
		holders := dm.Holders()
		return []ui.Expectation{{Name: "the VIP resolves to " + master, OK: slices.Equal(holders, []string{master}),
			Detail: "the demo's record: held by " + orNone(strings.Join(holders, " and "))}}
	}
	opts.VerifyHow = "the demo's in-memory record of which node holds the VIP"
	copts.Commands = demo.Commands()
	life, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var rep *Report
	err = dm.RunWith(life, func(dctx context.Context) error {
		rctx, rcancel := context.WithCancelCause(ctx)
		defer rcancel(nil)
		defer context.AfterFunc(dctx, func() { rcancel(errors.New("the demo stopped")) })()
		var err error
		rep, err = Run(rctx, opts, func(o console.Options) (*console.Console, error) { return dm.Console(o), nil }, copts, in, out)
		return err
	})
	return rep, err
}

// runCluster drills the first pair of a real cluster over SSH.
func runCluster(ctx context.Context, c *cluster.Cluster, opts Options, copts console.Options, in io.Reader, out, prompts io.Writer) (*Report, error) {
	opts.Pair = c.Pairs[0].Name
	return Run(ctx, opts, func(o console.Options) (*console.Console, error) {
		con := console.New(c, o)
		// Unknown host keys are confirmed before the drill takes the terminal.
		con.CheckHostKeys(ctx, (&feed.Prompt{In: in, Out: prompts}).Confirm)
		return con, ctx.Err()
	}, copts, in, out)
}

// write writes the report as PREFIX.md and PREFIX.json.
func write(rep *Report, prefix, audit string) (md, js string, err error) {
	if prefix == "" {
		prefix = filepath.Join(filepath.Dir(audit), "drills", "drill-"+rep.Started.Format("20060102-150405"))
	}
	return report.Write(prefix, rep.Markdown, rep.JSON)
}
