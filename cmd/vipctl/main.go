// Command vipctl is the operator console of vipd pairs: both nodes of each
// pair side by side, live over SSH, with who holds the VIP and who answers
// on it. See package ui for the screen and internal/feed for what it hears.
//
//	vipctl demo                                   a live pair in-process, no setup
//	vipctl demo --lab                             the same on a namespace lab: real nginx, sshd, vipd (root)
//	vipctl --node nginx-01=root@lb1 --node nginx-02=root@lb2 --vip 198.51.100.100:80
//	vipctl -c cluster.conf                        several pairs (vipctl -init prints a sample)
//	vipctl drill --demo --yes                     the seed's test section as a guided drill, with a report
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vipkit/vip/cmd/vipctl/internal/cluster"
	"github.com/vipkit/vip/cmd/vipctl/internal/console"
	"github.com/vipkit/vip/cmd/vipctl/internal/demo"
	"github.com/vipkit/vip/cmd/vipctl/internal/drill"
	"github.com/vipkit/vip/cmd/vipctl/internal/feed"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "drill" {
		return drill.Main(args[1:], stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("vipctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf cluster.Flags
	cf.Register(fs)
	sample := fs.Bool("init", false, "print a sample cluster file and exit")
	readOnly := fs.Bool("read-only", false, "refuse every action (drills, repair, re-enable): watch only")
	audit := fs.String("audit", console.DefaultAuditPath(), "append every action's verdict to `file`, as JSON lines")
	cmds := console.DefaultCommands() // what the actions run on the nodes
	cmds.Register(fs)
	logFile := fs.String("log", "", "write a debug log to `file`")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: vipctl --node NAME=[USER@]HOST[:PORT] ... --vip ADDR[:PORT] [flags]\n"+
			"       vipctl -c FILE [flags] | vipctl -init\n"+
			"       vipctl drill --demo | CLUSTER [--yes] [--scenario vipd|nginx|fault]\n"+
			"       vipctl demo [--lab] [--snapshot] [--for DURATION]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageCode(err)
	}
	if *sample {
		fmt.Fprint(stdout, cluster.Sample)
		return 0
	}
	c, err := cf.Cluster()
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "vipctl: %v\n", err)
		return 2
	}
	log, closeLog, err := openLog(*logFile)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl: %v\n", err)
		return 1
	}
	defer closeLog()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	con := console.New(c, console.Options{Logger: log, Actions: !*readOnly, Commands: cmds, Audit: &console.AuditFile{Path: *audit}})
	// Unknown host keys are confirmed here, while the terminal is ours.
	con.CheckHostKeys(ctx, (&feed.Prompt{In: stdin, Out: stderr}).Confirm)
	if ctx.Err() != nil {
		return 130
	}
	err = con.Run(ctx, stdin, stdout)
	for _, o := range con.Gate().Outstanding() { // the operator's to repair: say so
		fmt.Fprintf(stderr, "vipctl: left by a drill: %s\n", o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vipctl: %v\n", err)
		return 1
	}
	return 0
}

func runDemo(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vipctl demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	snapshot := fs.Bool("snapshot", false, "run without a terminal until a master is elected and answers, print the screen once and exit")
	dur := fs.Duration("for", 0, "stop the demo after `duration` (with --snapshot: give up after it; default 30s)")
	lab := fs.Bool("lab", false, "run the pair on a namespace lab with real nginx, sshd and vipd (root)")
	vipd := fs.String("vipd", "", "with --lab: the vipd `binary` (default: next to vipctl, else built with go build)")
	logFile := fs.String("log", "", "write a debug log to `file`")
	if err := fs.Parse(args); err != nil {
		return usageCode(err)
	}
	start := time.Now()
	log, closeLog, err := openLog(*logFile)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl demo: %v\n", err)
		return 1
	}
	defer closeLog()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *dur == 0 && *snapshot {
		*dur = 30 * time.Second
	}
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}

	var d interface {
		Console(console.Options) *console.Console
		RunWith(context.Context, func(context.Context) error) error
		Close() error
	}
	pair := demo.PairName
	if *lab {
		l, err := demo.NewLab(ctx, demo.LabOptions{Vipd: *vipd, Logger: log})
		if err != nil {
			fmt.Fprintf(stderr, "vipctl demo --lab: %v\n", err)
			return 1
		}
		defer l.Close() // on every way out: the lab's namespaces and daemons go with it
		d, pair = l, demo.LabPairName
		fmt.Fprintf(stderr, "lab up: nginx, sshd and vipd on 2 nodes, %.2fs after start\n", time.Since(start).Seconds())
	} else {
		dm, err := demo.New(demo.Options{Logger: log})
		if err != nil {
			fmt.Fprintf(stderr, "vipctl demo: %v\n", err)
			return 1
		}
		defer dm.Close()
		d = dm
	}
	con := d.Console(console.Options{Logger: log})
	ui := func(ctx context.Context) error {
		if !*snapshot {
			return con.Run(ctx, stdin, stdout)
		}
		view, master, err := con.Snapshot(ctx, pair, 100, 30)
		if err == nil {
			fmt.Fprintln(stdout, view)
			fmt.Fprintf(stderr, "%s is MASTER and answers on %s, %.2fs after start\n", master, demo.VIP, time.Since(start).Seconds())
		}
		return err
	}
	// --for ends the interactive demo on time; a snapshot must succeed.
	if err := d.RunWith(ctx, ui); err != nil && (*snapshot || !errors.Is(err, context.DeadlineExceeded)) {
		fmt.Fprintf(stderr, "vipctl demo: %v\n", err)
		return 1
	}
	return 0
}

// usageCode is the exit code of a flag error: -h is no error.
func usageCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// openLog opens a debug log; without a file, logs are discarded: the
// console owns the terminal.
func openLog(file string) (*slog.Logger, func(), error) {
	if file == "" {
		return slog.New(slog.DiscardHandler), func() {}, nil
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to open the log: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), func() { f.Close() }, nil
}
