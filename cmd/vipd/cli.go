package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"os/user"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/vipkit/vip/node/cli"
)

const usage = `usage: vipd [-f FILE] [-socket PATH] [-metrics ADDR] [-log-json]
       vipd -t -f FILE | -init | -version
       vipd status [--json] | watch [--json]
       vipd ctl fault --reason TEXT [-i INSTANCE] | ctl resume [-i INSTANCE]
`

// version is vipd's version; -ldflags "-X main.version=v1.2.3" sets it.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// client runs a client command (package node/cli) until it is done or
// interrupted.
func client(cmd string, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return cli.Run(ctx, cmd, args, cli.Env{Stdout: stdout, Stderr: stderr, By: defaultBy()})
}

// defaultBy says who runs the command: the user (the one behind sudo, if
// any) and, over SSH, where from.
func defaultBy() string {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	by := name + " via vipd ctl"
	if f := strings.Fields(os.Getenv("SSH_CONNECTION")); len(f) > 0 {
		by += " from " + f[0]
	}
	return by
}
