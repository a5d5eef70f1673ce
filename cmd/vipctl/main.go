// Command vipctl is the operator console of vipd pairs: both nodes of each
// pair side by side, live over SSH, with who holds the VIP and who answers
// on it. See package ui for the screen and ui/feed for what it hears.
//
//	vipctl demo                                   a live pair in-process, no setup
//	vipctl demo --lab                             the same on a namespace lab: real nginx, sshd, vipd (root)
//	vipctl --node nginx-01=root@lb1 --node nginx-02=root@lb2 --vip 198.51.100.100:80
//	vipctl -c cluster.conf                        several pairs (vipctl -init prints a sample)
//	vipctl drill --demo --yes                     the seed's test section as a guided drill, with a report
//	vipctl drill --lab --yes --scenario nginx     the same on the namespace lab (root)
//	vipctl check --node ... --vip ... | -c FILE   compare the pair's loaded configs: exit 0 consistent, 1 mismatch, 2 unreadable
//	vipctl migrate --node ... --vip ... --dry-run a keepalived pair to vipd, one node at a time
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
	"strings"
	"syscall"
	"time"

	"github.com/vipkit/vip/fixtures/configs"
	"github.com/vipkit/vip/node/demopair"
	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/check/checkcmd"
	"github.com/vipkit/vip/ui/cluster"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
	"github.com/vipkit/vip/ui/drill"
	"github.com/vipkit/vip/ui/feed"
	"github.com/vipkit/vip/ui/migrate"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "demo" {
		return demo.Main(newDemoPair, args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "drill" {
		return drill.Main(newDemoPair, args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "check" {
		return checkcmd.Main(args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "migrate" {
		return migrate.Main(configs.VipdService, args[1:], stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("vipctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf cluster.Flags
	cf.Register(fs)
	sample := fs.Bool("init", false, "print a sample cluster file and exit")
	readOnly := fs.Bool("read-only", false, "refuse every action (drills, repair, re-enable): watch only")
	audit := console.RegisterAudit(fs)
	cmds := ui.DefaultCommands() // what the actions run on the nodes
	console.RegisterCommands(fs, &cmds)
	logFile := fs.String("log", "", "write a debug log to `file`")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: vipctl --node NAME=[USER@]HOST[:PORT] ... --vip ADDR[:PORT] [flags]\n"+
			"       vipctl -c FILE [flags] | vipctl -init\n"+
			"       vipctl drill --demo | --lab | CLUSTER [--yes] [--scenario vipd|nginx|fault]\n"+
			"       vipctl check CLUSTER | --lab\n"+
			"       vipctl migrate CLUSTER | --lab [--dry-run] [--yes]\n"+
			"       "+strings.TrimPrefix(demo.Usage, "usage: "))
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
	log, closeLog, err := console.OpenLog(*logFile)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl: %v\n", err)
		return 1
	}
	defer closeLog()
	auditor, err := console.OpenAudit(*audit, false)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl: %v (--audit)\n", err)
		return 1
	}
	defer auditor.Close(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	con := console.New(c, console.Options{Logger: log, Actions: !*readOnly, Commands: cmds, Audit: auditor, ConfigCheck: true})
	// Unknown host keys are confirmed here, while the terminal is ours.
	con.CheckHostKeys(ctx, (&feed.Prompt{In: stdin, Out: stderr}).Confirm)
	if ctx.Err() != nil {
		return 130
	}
	err = con.Run(ctx, stdin, stdout)
	// The operator's to repair: say so, as the nodes show it now (another
	// console may have repaired it meanwhile).
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, o := range con.Executor().Confirmed(cctx) {
		fmt.Fprintf(stderr, "vipctl: left by a drill: %s\n", o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vipctl: %v\n", err)
		return 1
	}
	return 0
}

// newDemoPair is the in-process demo's pair of vipd nodes: the daemon is
// wired into the console here, which never imports it itself.
func newDemoPair(log *slog.Logger) (demo.Pair, error) {
	return demopair.New(demopair.Options{Logger: log})
}

// usageCode is the exit code of a flag error: -h is no error.
func usageCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
