package feed

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vipkit/vip/ui"
)

// DefaultActionWait bounds an action: vipd gives fault and resume 10 s.
const DefaultActionWait = 20 * time.Second

// DefaultDrillReason is the reason of a fault drill that gave none.
const DefaultDrillReason = "drill from vipctl"

// Execer runs a command on a node, as *ssh.Conn does.
type Execer interface {
	Exec(ctx context.Context, cmd string) ([]byte, error)
}

// Gate runs the console's guarded actions on the nodes with `vipd ctl`,
// over the same links as the feeds. It implements ui.Gate.
type Gate struct {
	// By says who acts, in vipd's action event and log; default
	// "USER via vipctl from HOST".
	By string
	// Wait bounds one action; default DefaultActionWait.
	Wait time.Duration

	nodes map[[2]string]gateNode
}

type gateNode struct {
	host string
	x    Execer
	vipd Vipd
}

var _ ui.Gate = (*Gate)(nil)

// Add makes node of pair reachable through x. Call it before the console
// runs.
func (g *Gate) Add(pair, node, host string, x Execer, v Vipd) {
	if g.nodes == nil {
		g.nodes = map[[2]string]gateNode{}
	}
	g.nodes[[2]string{pair, node}] = gateNode{host: host, x: x, vipd: v}
}

// Run implements ui.Gate: the Cmd runs the action on the node and reports
// an ActionResultMsg.
func (g *Gate) Run(a ui.Action) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), orDefault(g.Wait, DefaultActionWait))
		defer cancel()
		return ui.ActionResultMsg{Action: a, Err: g.Do(ctx, a)}
	}
}

// Do runs a at once.
func (g *Gate) Do(ctx context.Context, a ui.Action) error {
	n, ok := g.nodes[[2]string{a.Pair, a.Node}]
	if !ok {
		return fmt.Errorf("no node %s in pair %s", a.Node, a.Pair)
	}
	by := g.By
	if by == "" {
		by = DefaultBy()
	}
	var line string
	switch a.Kind {
	case ui.ActionFault:
		reason := a.Reason
		if reason == "" {
			reason = DefaultDrillReason
		}
		line = n.vipd.Fault(a.Instance, reason, by)
	case ui.ActionResume:
		line = n.vipd.Resume(a.Instance, by)
	default:
		return fmt.Errorf("unknown action %q", a.Kind)
	}
	if _, err := n.x.Exec(ctx, line); err != nil {
		return fmt.Errorf("%s on %s failed: %w", a.Kind, a.Node, Explain(n.host, err))
	}
	return nil
}

// DefaultBy is "USER via vipctl from HOST".
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

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
