package demo

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vipkit/vip/node/control"
)

// shell runs one SSH exec request on a demo node: what sshd and a shell
// would do with `vipd ...` there, and the demo's own `demo nginx ...`.
func (n *demoNode) shell(ctx context.Context, line string, stdout, stderr io.Writer, _ io.Reader) int {
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
		return n.demo(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "sh: 1: %s: not found\n", args[0])
	return 127
}

// vipd is vipd's client CLI (cmd/vipd) with --json, against this node's
// control socket: it prints vipd's documents one per line.
func (n *demoNode) vipdCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := "usage: vipd status --json | watch --json | ctl fault --reason TEXT [-i INSTANCE] | ctl resume [-i INSTANCE]"
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	var sub string
	if cmd == "ctl" {
		if len(args) == 0 || (args[0] != "fault" && args[0] != "resume") {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("vipd "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("socket", control.DefaultSocketPath, "control socket `path` (the demo uses its own)")
	jsonOut := fs.Bool("json", false, "print vipd's JSON documents")
	reason := fs.String("reason", "", "why")
	instance := fs.String("i", "", "the vrrp_instance")
	by := fs.String("by", "operator via vipd ctl (demo)", "who asks")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vipd %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	enc := json.NewEncoder(stdout)
	var err error
	switch cmd {
	case "status", "watch":
		if !*jsonOut {
			fmt.Fprintf(stderr, "vipd %s: the demo's vipd prints --json only\n", cmd)
			return 2
		}
		if cmd == "status" {
			err = n.status(ctx, enc)
		} else {
			err = n.watch(ctx, enc)
		}
	case "ctl":
		if sub == "fault" && *reason == "" {
			fmt.Fprintln(stderr, "vipd ctl: --reason is required: say why the VIP is given up")
			return 2
		}
		err = n.vipdCtl(ctx, sub, *instance, *reason, *by, stdout)
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0 // the console closed the session
		}
		fmt.Fprintf(stderr, "vipd %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func (n *demoNode) status(ctx context.Context, enc *json.Encoder) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cl, err := control.Dial(ctx, n.sock)
	if err != nil {
		return err
	}
	defer cl.Close()
	st, err := cl.Status(ctx)
	if err != nil {
		return err
	}
	return enc.Encode(st)
}

func (n *demoNode) watch(ctx context.Context, enc *json.Encoder) error {
	cl, err := control.Dial(ctx, n.sock)
	if err != nil {
		return err
	}
	for ev, err := range cl.Watch(ctx) {
		if err != nil {
			return err
		}
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("vipd ended the stream")
}

func (n *demoNode) vipdCtl(ctx context.Context, sub, instance, reason, by string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cl, err := control.Dial(ctx, n.sock)
	if err != nil {
		return err
	}
	defer cl.Close()
	cl.By = by
	what := instance
	if what == "" {
		what = "every instance"
	}
	if sub == "fault" {
		if err := cl.Fault(ctx, instance, reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: FAULT (VIP given up) until `vipd ctl resume`\n", what)
		return nil
	}
	if err := cl.Resume(ctx, instance); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: resumed as BACKUP\n", what)
	return nil
}

// demo is `demo nginx stop|start|break`: what happens to nginx in drills.
func (n *demoNode) demo(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "nginx" {
		fmt.Fprintln(stderr, "usage: demo nginx stop|start|break")
		return 2
	}
	switch args[1] {
	case "stop":
		n.nginx.Stop()
		fmt.Fprintf(stdout, "%s: nginx stopped; vipd's guard will start it again\n", n.name)
	case "break":
		n.nginx.Break()
		fmt.Fprintf(stdout, "%s: nginx stopped and will not start: the node gives the VIP up\n", n.name)
	case "start":
		if err := n.nginx.Start(true); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", n.name, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: nginx running\n", n.name)
	default:
		fmt.Fprintln(stderr, "usage: demo nginx stop|start|break")
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
