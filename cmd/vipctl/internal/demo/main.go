package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vipkit/vip/cmd/vipctl/internal/console"
)

// Usage is `vipctl demo`'s synopsis.
const Usage = "usage: vipctl demo [--lab] [--snapshot] [--for DURATION] [flags]\n"

// Main is `vipctl demo ARGS`; it returns the exit status: 0 when the demo
// ran (a snapshot: when it was printed), 1 when it could not, 2 for a
// usage error.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vipctl demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	snapshot := fs.Bool("snapshot", false, "run without a terminal until a master is elected and answers, print the screen once and exit")
	dur := fs.Duration("for", 0, "stop the demo after `duration` (with --snapshot: give up after it; default 30s)")
	lab := fs.Bool("lab", false, "run the pair on a namespace lab with real nginx, sshd and vipd (root)")
	vipd := fs.String("vipd", "", "with --lab: the vipd `binary` (default: next to vipctl, else built with go build)")
	audit := fs.String("audit", "", "append every action's verdict to `file`, as JSON lines (default: a new file in "+os.TempDir()+", kept if an action ran)")
	logFile := fs.String("log", "", "write a debug log to `file`")
	fs.Usage = func() {
		fmt.Fprint(stderr, Usage+"\nA live pair and the console on it: in-process with no setup, or on a namespace lab (--lab).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vipctl demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	start := time.Now()
	log, closeLog, err := console.OpenLog(*logFile)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl demo: %v\n", err)
		return 1
	}
	defer closeLog()
	auditor, closeAudit, err := openAudit(*audit)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl demo: %v (--audit)\n", err)
		return 1
	}
	defer closeAudit(stderr)

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
	pair := PairName
	if *lab {
		l, err := NewLab(ctx, LabOptions{Vipd: *vipd, Logger: log})
		if err != nil {
			fmt.Fprintf(stderr, "vipctl demo --lab: %v\n", err)
			return 1
		}
		defer l.Close() // on every way out: the lab's namespaces and daemons go with it
		d, pair = l, LabPairName
		fmt.Fprintf(stderr, "lab up: nginx, sshd and vipd on 2 nodes, %.2fs after start\n", time.Since(start).Seconds())
	} else {
		dm, err := New(Options{Logger: log})
		if err != nil {
			fmt.Fprintf(stderr, "vipctl demo: %v\n", err)
			return 1
		}
		defer dm.Close()
		d = dm
	}
	con := d.Console(console.Options{Logger: log, Audit: auditor})
	ui := func(ctx context.Context) error {
		if !*snapshot {
			return con.Run(ctx, stdin, stdout)
		}
		view, master, err := con.Snapshot(ctx, pair, 100, 30)
		if err == nil {
			fmt.Fprintln(stdout, view)
			fmt.Fprintf(stderr, "%s is MASTER and answers on %s, %.2fs after start\n", master, VIP, time.Since(start).Seconds())
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

// openAudit opens the demo's audit log: file, or a new one in the
// temporary directory that is removed on close if no action was recorded
// in it, and named on close if one was.
func openAudit(file string) (*console.AuditFile, func(io.Writer), error) {
	if file != "" {
		a := &console.AuditFile{Path: file}
		if err := a.Check(); err != nil {
			return nil, nil, err
		}
		return a, func(w io.Writer) {
			if fi, err := os.Stat(file); err == nil && fi.Size() > 0 {
				fmt.Fprintf(w, "audit log of the demo's actions: %s\n", file)
			}
		}, nil
	}
	f, err := os.CreateTemp("", "vipctl-demo-audit-*.jsonl")
	if err != nil {
		return nil, nil, fmt.Errorf("failed to make the demo's audit log: %w", err)
	}
	f.Close()
	return &console.AuditFile{Path: f.Name()}, func(w io.Writer) {
		if fi, err := os.Stat(f.Name()); err == nil && fi.Size() > 0 {
			fmt.Fprintf(w, "audit log of the demo's actions: %s\n", f.Name())
			return
		}
		os.Remove(f.Name())
	}, nil
}
