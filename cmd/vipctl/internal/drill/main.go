package drill

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vipkit/vip/cmd/vipctl/internal/cluster"
	"github.com/vipkit/vip/cmd/vipctl/internal/console"
	"github.com/vipkit/vip/cmd/vipctl/internal/demo"
	"github.com/vipkit/vip/cmd/vipctl/internal/feed"
	"github.com/vipkit/vip/ui"
)

// Usage is `vipctl drill`'s synopsis.
const Usage = "usage: vipctl drill --demo | --lab [--yes] [--scenario vipd|nginx|fault] [flags]\n" +
	"       vipctl drill --node NAME=[USER@]HOST ... --vip ADDR[:PORT] | -c FILE [--yes] [flags]\n"

// Main is `vipctl drill ARGS`; it returns the exit status: 0 when every
// expectation held, 1 when one did not or the drill stopped early, 2 for a
// usage error, 130 when interrupted.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vipctl drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf cluster.Flags
	cf.Register(fs)
	onDemo := fs.Bool("demo", false, "drill the embedded demo pair (as vipctl demo runs it): no setup, nothing real is touched")
	onLab := fs.Bool("lab", false, "drill a namespace lab made for the drill (as vipctl demo --lab runs it): real nginx, sshd and vipd (root); "+
		"its vipd is --vipd, else the one next to vipctl, else one built with go build")
	yes := fs.Bool("yes", false, "run every step unattended, without a terminal, confirming each; exit 1 if an expectation fails")
	scenario := fs.String("scenario", string(ScenarioVipd), "how the MASTER fails over: `vipd` (stopped, as the seed kills keepalived), nginx (held down) or fault (vipd ctl fault)")
	report := fs.String("report", "", "write the report to `PREFIX`.md and PREFIX.json (default: drills/drill-TIME next to the audit log)")
	audit := fs.String("audit", console.DefaultAuditPath(), "append every action's verdict to `file`, as JSON lines")
	settle := fs.Duration("settle", 0, "how long a step's expectations must hold before it passes (default: 1s, 3s for baseline and re-enable)")
	timeout := fs.Duration("step-timeout", 0, "how long a step's expectations have to come true (default: 30s, a minute for re-enable)")
	logFile := fs.String("log", "", "write a debug log to `file`")
	cmds := console.DefaultCommands()
	cmds.Register(fs)
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
	if _, err := Plan(Scenario(*scenario)); err != nil {
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
	auditor := &console.AuditFile{Path: *audit}
	if err := auditor.Check(); err != nil { // no action without its record
		fmt.Fprintf(stderr, "vipctl drill: %v (--audit)\n", err)
		return 1
	}
	opts := Options{Scenario: Scenario(*scenario), Yes: *yes, Settle: *settle, StepTimeout: *timeout, Logger: log}
	copts := console.Options{Logger: log, Audit: auditor, Commands: cmds, ProbeInterval: 100 * time.Millisecond}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var rep *Report
	switch {
	case *onDemo:
		rep, err = runDemo(ctx, opts, copts, stdin, stdout)
	case *onLab:
		rep, err = runLab(ctx, demo.LabOptions{Vipd: cf.Vipd, Logger: log}, opts, copts, stdin, stdout, stderr)
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
	md, js, werr := write(rep, *report, *audit)
	if werr != nil {
		fmt.Fprintf(stderr, "vipctl drill: %v\n", werr)
	} else {
		fmt.Fprintf(stderr, "report: %s and %s; audit log: %s\n", md, js, *audit)
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
func runDemo(ctx context.Context, opts Options, copts console.Options, in io.Reader, out io.Writer) (*Report, error) {
	dm, err := demo.New(demo.Options{Logger: opts.Logger})
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
	d, err := New(opts)
	if err != nil {
		return nil, err
	}
	copts.Commands = demo.Commands()
	con := dm.Console(d.ConsoleOptions(copts))
	life, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var rep *Report
	err = dm.RunWith(life, func(dctx context.Context) error {
		rctx, rcancel := context.WithCancelCause(ctx)
		defer rcancel(nil)
		defer context.AfterFunc(dctx, func() { rcancel(errors.New("the demo stopped")) })()
		var err error
		rep, err = d.Run(rctx, con, in, out)
		return err
	})
	return rep, err
}

// runCluster drills the first pair of a real cluster over SSH.
func runCluster(ctx context.Context, c *cluster.Cluster, opts Options, copts console.Options, in io.Reader, out, prompts io.Writer) (*Report, error) {
	opts.Pair = c.Pairs[0].Name
	d, err := New(opts)
	if err != nil {
		return nil, err
	}
	con := console.New(c, d.ConsoleOptions(copts))
	// Unknown host keys are confirmed before the drill takes the terminal.
	con.CheckHostKeys(ctx, (&feed.Prompt{In: in, Out: prompts}).Confirm)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return d.Run(ctx, con, in, out)
}

// write writes the report as PREFIX.md and PREFIX.json.
func write(rep *Report, prefix, audit string) (md, js string, err error) {
	if prefix == "" {
		prefix = filepath.Join(filepath.Dir(audit), "drills", "drill-"+rep.Started.Format("20060102-150405"))
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o700); err != nil {
		return "", "", fmt.Errorf("failed to create the report's directory: %w", err)
	}
	md, js = prefix+".md", prefix+".json"
	for _, f := range []struct {
		path  string
		write func(io.Writer) error
	}{{md, rep.Markdown}, {js, rep.JSON}} {
		fd, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return "", "", fmt.Errorf("failed to write the report: %w", err)
		}
		err = f.write(fd)
		if cerr := fd.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", "", fmt.Errorf("failed to write %s: %w", f.path, err)
		}
	}
	return md, js, nil
}
