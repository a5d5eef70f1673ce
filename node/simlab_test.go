package node

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/node/nodetest"
	"github.com/vipkit/vip/vrrp"
	"github.com/vipkit/vip/vrrp/vrrptest"
)

// The daemon tests run whole vipd nodes on vrrptest networks inside a
// synctest bubble: fake time, the real engine, guards and notify queue,
// with nginx, notify scripts and links replaced by fakes.

var simLog = flag.Bool("node.simlog", false, "log the simulated daemons to the test output")

var simVIP = netip.MustParsePrefix("198.51.100.100/24")

// simAddr is node i's primary address: 198.51.100.(11+i), as in the lab.
func simAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, byte(11 + i)}) }

// The fakes are node/nodetest's, as the in-process demo's.
var (
	_ System       = (*nodetest.System)(nil)
	_ NginxSystem  = (*nodetest.System)(nil)
	_ NotifyRunner = (*nodetest.Notify)(nil)
)

// brokenNginx is why a simulated node's nginx fails to start once broken.
const brokenNginx = "bind() to 0.0.0.0:80 failed (98: Address already in use)"

// simLab is a set of vipd nodes on in-memory networks, one per interface
// name.
type simLab struct {
	t     *testing.T
	net   *nodetest.Network
	nodes []*simNode
}

type simNode struct {
	lab    *simLab
	i      int
	name   string
	sys    *nodetest.System
	nginx  *nodetest.Nginx
	notify *nodetest.Notify
	path   string // its keepalived.conf
	d      *Daemon
	cancel context.CancelFunc
	done   chan error
}

// newSimLab makes n nodes (not started) on networks named by ifnames.
// Call it inside synctest.Test.
func newSimLab(t *testing.T, n int, ifnames ...string) *simLab {
	l := &simLab{t: t, net: nodetest.NewNetwork(ifnames...)}
	dir := t.TempDir()
	for i := range n {
		nd := &simNode{lab: l, i: i, name: fmt.Sprintf("n%d", i+1), notify: &nodetest.Notify{}}
		nd.nginx = nodetest.NewNginx(nd.name, "/run/nginx.pid", nil)
		nd.sys = l.net.System(simAddr(i))
		nd.sys.Nginx = nd.nginx
		nd.path = filepath.Join(dir, nd.name+".conf")
		l.nodes = append(l.nodes, nd)
	}
	t.Cleanup(l.stopAll)
	return l
}

func (l *simLab) stopAll() {
	for _, n := range l.nodes {
		if n.d != nil {
			n.stop()
		}
	}
}

// write replaces the node's configuration file.
func (n *simNode) write(conf string) {
	n.lab.t.Helper()
	if err := os.WriteFile(n.path, []byte(conf), 0o644); err != nil {
		n.lab.t.Fatal(err)
	}
}

// start runs a vipd on the node with its configuration file.
func (n *simNode) start() {
	t := n.lab.t
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if *simLog {
		log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", n.name)
	}
	d, err := New(Options{ConfigPath: n.path, Logger: log, Version: "test", System: n.sys, Notify: n.notify})
	if err != nil {
		t.Fatalf("%s: %v", n.name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.d, n.cancel, n.done = d, cancel, make(chan error, 1)
	go func() { n.done <- d.Run(ctx) }()
	synctest.Wait()
}

// stop stops the node's vipd gracefully, as SIGTERM does.
func (n *simNode) stop() {
	n.lab.t.Helper()
	n.cancel()
	if err := <-n.done; err != nil {
		n.lab.t.Errorf("%s: Run: %v", n.name, err)
	}
	n.d = nil
}

// status returns the node's status of its only (or first) instance.
func (n *simNode) inst(name string) control.Instance {
	n.lab.t.Helper()
	for _, in := range n.d.Status().Instances {
		if in.Name == name {
			return in
		}
	}
	n.lab.t.Fatalf("%s: no instance %s", n.name, name)
	return control.Instance{}
}

func (n *simNode) state(name string) control.State { return n.inst(name).State }

func (n *simNode) holds(ifname string, p netip.Prefix) bool { return n.sys.Holds(ifname, p) }

// simConf is a keepalived.conf in the seed's shape for node i, with vipd's
// nginx check. extra goes inside the instance.
func simConf(i int, extra string) string {
	return fmt.Sprintf(`global_defs {
    router_id nginx-0%d
}
vipd_nginx_check nginx {
    url http://127.0.0.1/
    start_command "/bin/false"
    restart_deadline 0.5
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 60
    nopreempt
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass qwert123
    }
    virtual_ipaddress {
        %s
    }
    track_script {
        nginx
    }
%s}
`, i+1, simVIP, extra)
}

// settle starts every node and waits until one is master: n1, started first.
func (l *simLab) settle() *simNode {
	l.t.Helper()
	for _, n := range l.nodes {
		n.start()
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(vrrp.MasterDownInterval(100, time.Second) + 2*time.Second)
	synctest.Wait()
	var masters []*simNode
	for _, n := range l.nodes {
		if n.state("VI_1") == control.StateMaster {
			masters = append(masters, n)
		}
	}
	if len(masters) != 1 {
		l.t.Fatalf("%d masters after settling, want 1", len(masters))
	}
	return masters[0]
}

type netipAddr = netip.Addr

func netipMust(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// packet is a VRRP message from src to the group, as a router would send it.
func packet(src netip.Addr, payload []byte) vrrptest.Packet {
	return vrrptest.Packet{Src: src, Dst: vrrp.Group, TTL: vrrp.TTL, Payload: payload}
}

// notifyFor returns notify scripts named after their speed: master,
// backup, fault, stop and the generic notify.
func notifyFor(master, backup, fault, stop, anyScript string) config.Notify {
	return config.Notify{
		Master: []string{master}, Backup: []string{backup}, Fault: []string{fault},
		Stop: []string{stop}, Any: []string{anyScript},
	}
}
