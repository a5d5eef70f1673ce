package feed

import (
	"context"
	"os"
	"os/user"
	"strings"
	"time"
)

// DefaultActionWait bounds an action: vipd gives fault and resume 10 s.
const DefaultActionWait = 20 * time.Second

// Execer runs a command on a node, as *ssh.Conn does: the console's gate
// runs its actions through it, over the same links as the feeds.
type Execer interface {
	Exec(ctx context.Context, cmd string) ([]byte, error)
}

// DefaultBy is "USER via vipctl from HOST": who acts, in vipd's action
// event and log and in the audit log.
func DefaultBy() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	by := strings.TrimSpace(name + " via vipctl")
	if h, err := os.Hostname(); err == nil {
		by += " from " + h
	}
	return by
}
