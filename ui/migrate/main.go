package migrate

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui/cluster"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/feed"
	"github.com/vipkit/vip/ui/report"
)

// Usage is the subcommand's synopsis.
const Usage = "usage: vipctl migrate --node NAME=[USER@]HOST --node NAME=[USER@]HOST --vip ADDR[:PORT] | -c FILE [--pair NAME] [--dry-run] [--yes] [flags]\n" +
	"       vipctl migrate --lab [--dry-run] [--yes]\n"

// Main is `vipctl migrate ARGS`; unit is the systemd unit a bare vipd is
// installed with (fixtures/configs/vipd.service). It returns the exit
// status: 0 migrated (or a dry run, or nothing to do), 1 refused, failed
// or rolled back, 2 a usage error, 130 interrupted.
func Main(unit []byte, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vipctl migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf cluster.Flags
	cf.Register(fs)
	lab := fs.Bool("lab", false, "migrate a namespace lab's keepalived pair (as vipctl demo --lab --keepalived runs it; root, Linux)")
	yes := fs.Bool("yes", false, "migrate without asking")
	dry := fs.Bool("dry-run", false, "print every file, command and script it would put or run on the nodes; change nothing")
	report := fs.String("report", "", "write the report to `PREFIX`.md and PREFIX.json (default: ./migrate-PAIR-TIME)")
	artifacts := fs.String("artifacts", "", "the `directory` with vipd_VERSION_ARCH.deb or vipd-linux-ARCH (default: beside vipctl)")
	l := DefaultLayout
	fs.StringVar(&l.KeepalivedConf, "keepalived-conf", l.KeepalivedConf, "the nodes' keepalived.conf (read, never edited)")
	fs.StringVar(&l.Conf, "vipd-conf", l.Conf, "vipd's own configuration file on the nodes")
	fs.StringVar(&l.Guard.URL, "nginx-url", l.Guard.URL, "the URL vipd's nginx guard GETs on each node")
	fs.StringVar(&l.Guard.PIDFile, "nginx-pidfile", l.Guard.PIDFile, "nginx's master pid file on the nodes")
	start := fs.String("nginx-start", strings.Join(l.Guard.Start, " "), "the command vipd's guard starts nginx with")
	fs.DurationVar(&l.Deadline, "deadline", l.Deadline, "how long a daemon has to come up on a node before its script goes back")
	baseline := fs.Duration("baseline", DefaultBaseline, "how long the VIP must answer cleanly before the first step")
	logFile := fs.String("log", "", "write a debug log to `file`")
	fs.Usage = func() {
		fmt.Fprint(stderr, Usage+"\nMoves a running keepalived pair to vipd one node at a time, the pair serving throughout:\n"+
			"pre-flight (vipctl check, both nodes healthy, vipd -t of each node's file with the nginx guard),\n"+
			"the BACKUP first, then a graceful handover; any failed step goes back to keepalived.\n"+
			"The login must be root, or sudo -n must allow it everything (the scripts run as root).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vipctl migrate: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	l.Guard.Start = strings.Fields(*start)
	if cf.Vipd != "" {
		l.Binary = cf.Vipd
	}
	log, closeLog, err := console.OpenLog(*logFile)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl migrate: %v\n", err)
		return 1
	}
	defer closeLog()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	opts := Options{Unit: unit, DryRun: *dry, Baseline: *baseline, Out: stderr, Logger: log}
	if *dry {
		opts.Out = stdout
	}
	opts.Artifacts = DefaultArtifacts()
	if *artifacts != "" {
		opts.Artifacts.Dir = *artifacts
	}
	var closeAll func()
	if *lab {
		setup, err := startLab(ctx, log, &opts)
		if err != nil {
			fmt.Fprintf(stderr, "vipctl migrate: %v\n", err)
			return 1
		}
		closeAll = setup
	} else {
		c, err := cf.Cluster()
		if err != nil {
			fmt.Fprintf(stderr, "vipctl migrate: %v (or --lab)\n", err)
			return 2
		}
		p := c.Pairs[0]
		if len(c.Pairs) > 1 && cf.Pair != "" {
			for _, q := range c.Pairs {
				if q.Name == cf.Pair {
					p = q
				}
			}
		}
		if len(p.Nodes) != 2 {
			fmt.Fprintf(stderr, "vipctl migrate: pair %s has %d nodes; a pair has two\n", p.Name, len(p.Nodes))
			return 2
		}
		prompt := &feed.Prompt{In: stdin, Out: stderr}
		opts.Pair, opts.VIP = p.Name, p.VIP
		var nodes []feed.ProbeNode
		for _, n := range p.Nodes {
			cfg := ssh.Config{Target: n.Target, Sudo: p.Sudo, KnownHosts: c.KnownHosts, Confirm: ssh.ConfirmOnce(prompt.Confirm),
				Logger: log.With("node", n.Name)}
			opts.Targets = append(opts.Targets, Target{Name: n.Name, Node: NewSSHNode(cfg), Layout: l})
			nodes = append(nodes, feed.ProbeNode{Name: n.Name, Host: hostOf(n.Target)})
		}
		opts.Probe = feed.NewProbe(feed.ProbeConfig{URL: "http://" + p.VIP.String() + "/", Timeout: ProbeTimeout, Nodes: nodes})
		closeAll = func() {
			for _, t := range opts.Targets {
				t.Node.Close()
			}
		}
	}
	defer closeAll()
	opts.Check = pairCheck(opts)

	if !*dry && !*yes && !confirm(ctx, opts, stdin, stderr) {
		fmt.Fprintln(stderr, "vipctl migrate: not confirmed; nothing was changed")
		return 1
	}
	rep, err := Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "vipctl migrate: %v\n", err)
		return 1
	}
	if *dry {
		if len(rep.Refused) > 0 {
			for _, x := range rep.Refused {
				fmt.Fprintf(stderr, "vipctl migrate: refused: %s\n", x)
			}
			return 1
		}
		return 0
	}
	if err := rep.Markdown(stdout); err != nil {
		fmt.Fprintf(stderr, "vipctl migrate: %v\n", err)
	}
	md, js, werr := write(rep, *report)
	if werr != nil {
		fmt.Fprintf(stderr, "vipctl migrate: %v\n", werr)
	} else {
		fmt.Fprintf(stderr, "report: %s and %s\n", md, js)
	}
	switch {
	case ctx.Err() != nil:
		return 130
	case !rep.Passed || werr != nil:
		return 1
	}
	return 0
}

// confirm asks the operator before anything changes.
func confirm(ctx context.Context, opts Options, in io.Reader, out io.Writer) bool {
	var names []string
	for _, t := range opts.Targets {
		names = append(names, t.Name)
	}
	fmt.Fprintf(out, "Migrate pair %s (%s) from keepalived to vipd, one node at a time? Type yes: ", opts.Pair, strings.Join(names, ", "))
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(in).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		return s == "yes"
	case <-ctx.Done():
		return false
	}
}

// hostOf is the host of an SSH target "[user@]host[:port]".
func hostOf(target string) string {
	if _, h, ok := strings.Cut(target, "@"); ok {
		target = h
	}
	if h, _, ok := strings.Cut(target, ":"); ok && !strings.Contains(h, "]") {
		return h
	}
	return target
}

// write writes the report as PREFIX.md and PREFIX.json.
func write(rep *Report, prefix string) (md, js string, err error) {
	if prefix == "" {
		prefix = fmt.Sprintf("migrate-%s-%s", rep.Pair, rep.Started.Format("20060102-150405"))
	}
	return report.Write(prefix, rep.Markdown, rep.JSON)
}
