// Command vipctl is the operator console of vipd pairs: both nodes of each
// pair side by side, live over SSH, with who holds the VIP and who answers
// on it. See package ui for the screen and internal/feed for what it hears.
//
//	vipctl demo                                   a live pair in-process, no setup
//	vipctl demo --lab                             the same on a namespace lab: real nginx, sshd, vipd (root)
//	vipctl --node nginx-01=root@lb1 --node nginx-02=root@lb2 --vip 198.51.100.100:80
//	vipctl -c cluster.conf                        several pairs (vipctl -init prints a sample)
//	vipctl drill --demo --yes                     the seed's test section as a guided drill, with a report
//	vipctl drill --lab --yes --scenario nginx     the same on the namespace lab (root)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vipkit/vip/cmd/vipctl/internal/cluster"
	"github.com/vipkit/vip/cmd/vipctl/internal/console"
	"github.com/vipkit/vip/cmd/vipctl/internal/demo"
	"github.com/vipkit/vip/cmd/vipctl/internal/drill"
	"github.com/vipkit/vip/cmd/vipctl/internal/feed"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "demo" {
		return demo.Main(args[1:], stdin, stdout, stderr)
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
			"       vipctl drill --demo | --lab | CLUSTER [--yes] [--scenario vipd|nginx|fault]\n"+
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

// usageCode is the exit code of a flag error: -h is no error.
func usageCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
