package demopair

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vipkit/vip/node/cli"
)

// Exec runs one command line on the node as its login shell would for an
// SSH exec request: `vipd ...` and the demo's own `demo nginx|vipd ...`
// (see the package documentation), with `sudo -n` in front allowed. It
// returns the exit status.
func (p *Pair) Exec(ctx context.Context, node, line string, stdout, stderr io.Writer, _ io.Reader) int {
	n := p.node(node)
	if n == nil {
		fmt.Fprintf(stderr, "demo: no node %q\n", node)
		return 255
	}
	return n.shell(ctx, line, stdout, stderr)
}

// shell runs a command line on n.
func (n *pairNode) shell(ctx context.Context, line string, stdout, stderr io.Writer) int {
	args, err := splitWords(line)
	if err != nil {
		fmt.Fprintf(stderr, "sh: 1: %v\n", err)
		return 2
	}
	if len(args) >= 2 && args[0] == "sudo" && args[1] == "-n" {
		args = args[2:]
	}
	if len(args) == 0 {
		return 0
	}
	switch args[0] {
	case "vipd":
		return n.vipdCLI(ctx, args[1:], stdout, stderr)
	case "demo":
		return n.demo(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "sh: 1: %s: not found\n", args[0])
	return 127
}

// vipdCLI is vipd's client CLI (package node/cli, what cmd/vipd runs)
// against this node's control socket.
func (n *pairNode) vipdCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: vipd status --json | watch --json | ctl fault --reason TEXT [-i INSTANCE] | ctl resume [-i INSTANCE]")
		return 2
	}
	return cli.Run(ctx, args[0], args[1:], cli.Env{
		Stdout: stdout,
		Stderr: stderr,
		Socket: n.sock,
		By:     "operator via vipd ctl (demo)",
	})
}

// demo is `demo nginx stop|start|break|status` and `demo vipd
// stop|start|status`: what happens to nginx and vipd in drills, as
// systemctl would do it on a real node (status exits 3 when stopped, as
// `systemctl is-active` does).
func (n *pairNode) demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const usage = "usage: demo nginx stop|start|break|status | demo vipd stop|start|status"
	if len(args) != 2 || (args[0] != "nginx" && args[0] != "vipd") {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if args[0] == "vipd" {
		return n.demoVipd(ctx, args[1], stdout, stderr)
	}
	switch args[1] {
	case "stop":
		n.nginx.Stop()
		fmt.Fprintf(stdout, "%s: nginx stopped; vipd's guard will start it again\n", n.name)
	case "break":
		n.nginx.Break("broken by `demo nginx break`")
		fmt.Fprintf(stdout, "%s: nginx stopped and will not start: the node gives the VIP up\n", n.name)
	case "start":
		if err := n.nginx.Repair(); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", n.name, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: nginx running\n", n.name)
	case "status":
		if !n.nginx.Up() {
			fmt.Fprintln(stdout, "inactive")
			return 3
		}
		fmt.Fprintln(stdout, "active")
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	return 0
}

// demoVipd is `demo vipd stop|start|status`, systemctl's part for vipd.
func (n *pairNode) demoVipd(ctx context.Context, verb string, stdout, stderr io.Writer) int {
	switch verb {
	case "stop", "start":
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := n.svc.ask(ctx, verb == "start"); err != nil {
			fmt.Fprintf(stderr, "%s: vipd %s: %v\n", n.name, verb, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: vipd %s\n", n.name, map[string]string{"stop": "stopped", "start": "started"}[verb])
	case "status":
		if !n.svc.active() {
			fmt.Fprintln(stdout, "inactive")
			return 3
		}
		fmt.Fprintln(stdout, "active")
	default:
		fmt.Fprintln(stderr, "usage: demo vipd stop|start|status")
		return 2
	}
	return 0
}

// splitWords splits a command line as a POSIX shell would, for the
// quoting vipctl uses: blanks, '...', "..." and backslashes.
func splitWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated quoted string")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated quoted string")
			}
			in = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}
