//go:build linux

package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
)

// runLab drills a namespace lab made for it (demo.Lab: real nginx, sshd
// and vipd), removed when the drill has restored what it broke. Progress
// goes to prompts.
func runLab(ctx context.Context, lopts demo.LabOptions, opts Options, copts console.Options, in io.Reader, out, prompts io.Writer) (_ *Report, err error) {
	start := time.Now()
	daemon := "vipd"
	if lopts.Keepalived {
		daemon = "keepalived (the seed's)"
	}
	fmt.Fprintf(prompts, "starting the lab: namespaces, then nginx, sshd and %s on 2 nodes...\n", daemon)
	l, err := demo.NewLab(ctx, lopts)
	if err != nil {
		return nil, fmt.Errorf("failed to start the lab: %w", err)
	}
	defer func() {
		if cerr := l.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("failed to remove the lab: %w", cerr))
		}
	}()
	fmt.Fprintf(prompts, "lab up after %.2fs\n", time.Since(start).Seconds())
	return drillLab(ctx, l, opts, copts, in, out)
}

// drillLab drills the lab l, which outlives the drill.
func drillLab(ctx context.Context, l *demo.Lab, opts Options, copts console.Options, in io.Reader, out io.Writer) (*Report, error) {
	opts.Pair = demo.LabPairName
	opts.Keepalived = l.Keepalived()
	opts.Verify = labVerify(l)
	opts.VerifyHow = "each node's interfaces (`ip addr`) and, from the lab's client namespace as a third host, " +
		"its ARP entry for the VIP (`ip neigh show " + demo.VIP.Addr().String() + "`) against the new MASTER's MAC"
	copts.Commands = demo.LabCommands()
	return Run(ctx, opts, func(o console.Options) (*console.Console, error) { return l.Console(o), nil }, copts, in, out)
}

// labVerify checks where the VIP went after a failover as the network
// sees it: only the new MASTER's interface holds it, and a third host (the
// lab's client) resolves it to the new MASTER's MAC. A stale ARP cache
// there is the classic hidden outage: every node looks right and clients
// still send to the old one.
func labVerify(l *demo.Lab) func(context.Context, string) []ui.Expectation {
	return func(ctx context.Context, master string) []ui.Expectation {
		var exps []ui.Expectation
		e := ui.Expectation{Name: "only " + master + "'s interface holds the VIP"}
		switch holders, err := l.Holders(); {
		case err != nil:
			e.Detail = "failed to read the nodes' addresses: " + err.Error()
		default:
			e.OK = slices.Equal(holders, []string{master})
			e.Detail = "`ip addr` on each node: held by " + orNone(strings.Join(holders, " and "))
		}
		exps = append(exps, e)

		e = ui.Expectation{Name: "the VIP resolves to " + master + " from a third host"}
		n := l.Node(master)
		if n == nil {
			e.Detail = master + " is no node of the lab"
			return append(exps, e)
		}
		// The probe's requests from the client keep its entry fresh, and
		// have reached master already: the entry is read a few times only
		// to ride out a read racing the kernel's update.
		mac, state, err := l.Net().Client.Neighbor(demo.VIP.Addr())
		for try := 1; try < 5 && !(err == nil && slices.Equal(mac, n.MAC)) && sleep(ctx, 200*time.Millisecond); try++ {
			mac, state, err = l.Net().Client.Neighbor(demo.VIP.Addr())
		}
		how := "`ip neigh show " + demo.VIP.Addr().String() + "` in the lab's client namespace: "
		switch {
		case err != nil:
			e.Detail = how + "failed: " + err.Error()
		case mac == nil:
			e.Detail = how + "no entry"
		case slices.Equal(mac, n.MAC):
			e.OK = true
			e.Detail = fmt.Sprintf("%s%s (%s), %s's MAC", how, mac, state, master)
		default:
			e.Detail = fmt.Sprintf("%s%s (%s), %s, not %s's %s: a stale ARP cache", how, mac, state, macOwner(l, mac), master, n.MAC)
		}
		return append(exps, e)
	}
}

// macOwner names the lab host with mac.
func macOwner(l *demo.Lab, mac net.HardwareAddr) string {
	for _, n := range append(slices.Clone(l.Net().Nodes), l.Net().Client) {
		if slices.Equal(n.MAC, mac) {
			return n.Name + "'s MAC"
		}
	}
	return "no lab host's MAC"
}

// sleep waits for d, or less if ctx ends: then it returns false.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
