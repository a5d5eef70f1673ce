package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/vipkit/vip/ui/console"
)

// Usage is `vipctl demo`'s synopsis.
const Usage = "usage: vipctl demo [--lab [--keepalived]] [--snapshot] [--for DURATION] [flags]\n"

// Main is `vipctl demo ARGS`, on the pair newPair makes (the lab aside);
// it returns the exit status: 0 when the demo ran (a snapshot: when it was
// printed), 1 when it could not, 2 for a usage error.
func Main(newPair NewPair, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vipctl demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	snapshot := fs.Bool("snapshot", false, "run without a terminal until a master is elected and answers, print the screen once and exit")
	dur := fs.Duration("for", 0, "stop the demo after `duration` (with --snapshot: give up after it; default 30s)")
	lab := fs.Bool("lab", false, "run the pair on a namespace lab with real nginx, sshd and vipd (root)")
	keepalived := fs.Bool("keepalived", false, "with --lab: run the seed's pair, keepalived with its keepalived.conf and check_nginx.sh, instead of vipd")
	seed := fs.String("seed", "", "with --lab --keepalived: the `directory` of the seed's keepalived.conf and check_nginx.sh (default: fixtures/configs of the module in the working directory)")
	vipd := fs.String("vipd", "", "with --lab: the vipd `binary` (default: next to vipctl, else built with go build)")
	audit := console.RegisterAudit(fs)
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
	if (*keepalived || *seed != "") && !*lab {
		fmt.Fprintln(stderr, "vipctl demo: --keepalived and --seed need --lab")
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
	auditor, err := console.OpenAudit(*audit, true)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl demo: %v (--audit)\n", err)
		return 1
	}
	defer auditor.Close(stderr)

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

	var d target
	if *lab {
		l, err := startLab(ctx, LabOptions{Vipd: *vipd, Keepalived: *keepalived, Seed: *seed, Logger: log})
		if err != nil {
			fmt.Fprintf(stderr, "vipctl demo --lab: %v\n", err)
			return 1
		}
		defer l.Close() // on every way out: the lab's namespaces and daemons go with it
		d = l
		daemon := "vipd"
		if *keepalived {
			daemon = "keepalived (the seed's)"
		}
		fmt.Fprintf(stderr, "lab up: nginx, sshd and %s on 2 nodes, %.2fs after start\n", daemon, time.Since(start).Seconds())
	} else {
		p, err := newPair(log)
		if err != nil {
			fmt.Fprintf(stderr, "vipctl demo: %v\n", err)
			return 1
		}
		dm, err := New(p, Options{Logger: log})
		if err != nil {
			fmt.Fprintf(stderr, "vipctl demo: %v\n", err)
			return 1
		}
		defer dm.Close()
		d = dm
	}
	pair := d.Cluster().Pairs[0]
	con := d.Console(console.Options{Logger: log, Audit: auditor})
	ui := func(ctx context.Context) error {
		if !*snapshot {
			return con.Run(ctx, stdin, stdout)
		}
		view, master, err := con.Snapshot(ctx, pair.Name, 100, 30)
		if err == nil {
			fmt.Fprintln(stdout, view)
			fmt.Fprintf(stderr, "%s is MASTER and answers on %s, %.2fs after start\n", master, pair.VIP, time.Since(start).Seconds())
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
