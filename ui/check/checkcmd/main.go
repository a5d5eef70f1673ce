package checkcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui/check"
	"github.com/vipkit/vip/ui/check/remote"
	"github.com/vipkit/vip/ui/cluster"
	"github.com/vipkit/vip/ui/feed"
)

// Usage is `vipctl check`'s synopsis.
const Usage = "usage: vipctl check --node NAME=[USER@]HOST ... --vip ADDR[:PORT] | -c FILE | --lab [flags]\n"

// DefaultTimeout bounds reading every node, SSH connections included.
const DefaultTimeout = time.Minute

// Main is `vipctl check ARGS`; it returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vipctl check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf cluster.Flags
	cf.Register(fs)
	lab := fs.Bool("lab", false, "check the namespace lab's pair (as vipctl demo --lab runs it; root, Linux)")
	timeout := fs.Duration("timeout", DefaultTimeout, "how long reading the nodes may take, SSH included")
	fs.Usage = func() {
		fmt.Fprint(stderr, Usage+"\nCompares the configuration each node's running daemon (vipd or keepalived) loaded\n"+
			"and prints every mismatch that breaks the pair, with file:line on each side.\n"+
			"Exit status: 0 consistent (warnings allowed), 1 a mismatch, 2 a node that cannot be read.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return check.ExitUnreadable
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vipctl check: unexpected argument %q\n", fs.Arg(0))
		return check.ExitUnreadable
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	var c *cluster.Cluster
	var base ssh.Config
	if *lab {
		l, err := startLab(ctx, cf.Vipd)
		if err != nil {
			fmt.Fprintf(stderr, "vipctl check: %v\n", err)
			return check.ExitUnreadable
		}
		defer l.Close()
		c, base = l.Cluster(), l.SSH()
	} else {
		var err error
		if c, err = cf.Cluster(); err != nil {
			fmt.Fprintf(stderr, "vipctl check: %v (or --lab)\n", err)
			return check.ExitUnreadable
		}
		base.Confirm = (&feed.Prompt{In: stdin, Out: stderr}).Confirm
	}
	return Run(ctx, c, base, stdout)
}

// Run checks every pair of c and prints the reports on w; base is every
// node's SSH configuration but Target, Sudo and (when c names one)
// KnownHosts. It returns the worst exit status.
func Run(ctx context.Context, c *cluster.Cluster, base ssh.Config, w io.Writer) int {
	worst := check.ExitConsistent
	for i, p := range c.Pairs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "pair %s:\n", p.Name)
		for _, r := range Pair(ctx, c, p, base) {
			r.WriteTo(w)
			worst = max(worst, r.ExitCode())
		}
	}
	return worst
}

// Pair checks the first node of p against each other one (a pair has two).
func Pair(ctx context.Context, c *cluster.Cluster, p cluster.Pair, base ssh.Config) []check.Report {
	if len(p.Nodes) < 2 {
		name := ""
		if len(p.Nodes) == 1 {
			name = p.Nodes[0].Name
		}
		err := fmt.Errorf("pair %s has %d node: nothing to compare it with", p.Name, len(p.Nodes))
		return []check.Report{{A: check.Node{Name: name}, ErrA: err, B: check.Node{Name: "(none)"}, ErrB: err}}
	}
	vipd := feed.Vipd{Command: p.Vipd, Socket: p.Socket}
	srcs := make([]check.Source, len(p.Nodes))
	for i, n := range p.Nodes {
		cfg := base
		cfg.Target, cfg.Sudo = n.Target, p.Sudo
		if c.KnownHosts != "" {
			cfg.KnownHosts = c.KnownHosts
		}
		srcs[i] = dialed(ctx, cfg, remote.Options{Name: n.Name, Vipd: vipd})
	}
	var out []check.Report
	for _, s := range srcs[1:] {
		r, _ := check.Pair(ctx, srcs[0], s) // the errors are in the report
		out = append(out, r.WithVIP(p.VIP.Addr()))
	}
	return out
}

// dialed connects now, one node after the other so that host-key questions
// do not interleave, and reads when asked.
func dialed(ctx context.Context, cfg ssh.Config, opts remote.Options) check.Source {
	client, err := ssh.Dial(ctx, cfg)
	if err != nil {
		err = fmt.Errorf("failed to connect to %s: %w", opts.Name, feed.Explain(cfg.Target, err))
		return check.SourceFunc(func(context.Context) (check.Node, error) { return check.Node{Name: opts.Name}, err })
	}
	context.AfterFunc(ctx, func() { client.Close() })
	return remote.Source(client, opts)
}
