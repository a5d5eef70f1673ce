package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sync/errgroup"

	"github.com/vipkit/vip/cmd/vipctl/internal/cluster"
	"github.com/vipkit/vip/cmd/vipctl/internal/console"
	"github.com/vipkit/vip/node"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ssh/sshtest"
	"github.com/vipkit/vip/vrrp/vrrptest"
)

// The demo pair, on TEST-NET-2 addresses that exist only in memory.
var (
	VIP     = netip.MustParseAddrPort("198.51.100.100:80")
	vipNet  = netip.PrefixFrom(VIP.Addr(), 24)
	primary = []netip.Addr{netip.MustParseAddr("198.51.100.11"), netip.MustParseAddr("198.51.100.12")}
)

// Names of the demo.
const (
	PairName  = "demo"
	Interface = "demo0"
	loginUser = "operator"
)

// Options adjust the demo. The zero value is the demo.
type Options struct {
	// Logger receives the daemons' and the servers' logs; nil discards.
	Logger *slog.Logger
}

// Demo is the embedded pair. New prepares it, Run runs it, Close removes
// its files.
type Demo struct {
	dir   string
	log   *slog.Logger
	net   *vrrptest.Network
	nodes []*demoNode
	key   string // the console's private key file
	known string // known_hosts trusting the nodes' host keys
}

// demoNode is one node: vipd, its control socket, its nginx and its sshd.
type demoNode struct {
	name  string
	addr  netip.Addr
	conf  string // keepalived.conf
	sock  string // vipd's control socket
	nginx *fakeNginx
	vipd  *node.Daemon // replaced when `demo vipd start` starts a new one (svc.mu)
	ctl   net.Listener
	sshd  *sshtest.Server
	svc   service // `demo vipd stop|start`
}

// New writes the demo's files in a new temporary directory and opens its
// sockets, all on 127.0.0.1 or in that directory. Nothing runs until Run;
// Close removes everything.
func New(opts Options) (_ *Demo, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "vipctl-demo-")
	if err != nil {
		return nil, fmt.Errorf("failed to make the demo's directory: %w", err)
	}
	d := &Demo{dir: dir, log: log, net: vrrptest.NewNetwork(1)}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()

	clientPub, err := d.writeClientKey()
	if err != nil {
		return nil, err
	}
	var known strings.Builder
	for i, addr := range primary {
		n := &demoNode{name: fmt.Sprintf("nginx-%02d", i+1), addr: addr, svc: service{reqs: make(chan serviceReq)}}
		d.nodes = append(d.nodes, n)
		n.sock = filepath.Join(dir, n.name+".sock")
		n.conf = filepath.Join(dir, n.name+".conf")
		if n.nginx, err = newFakeNginx(n.name, filepath.Join(dir, n.name+".start"), log); err != nil {
			return nil, err
		}
		if err := os.WriteFile(n.conf, []byte(keepalivedConf(n, i)), 0o600); err != nil {
			return nil, fmt.Errorf("failed to write %s: %w", n.conf, err)
		}
		n.vipd, err = node.New(node.Options{
			ConfigPath: n.conf, Version: "demo", Logger: log.With("vipd", n.name),
			System: &memSystem{net: d.net, ifname: Interface, addr: addr},
		})
		if err != nil {
			return nil, fmt.Errorf("failed to set up %s's vipd: %w", n.name, err)
		}
		if n.ctl, err = control.ListenUnix(n.sock); err != nil {
			return nil, err
		}
		hostKey, err := sshtest.NewSigner() // a throwaway host key, trusted below
		if err != nil {
			return nil, err
		}
		n.sshd, err = sshtest.Listen("127.0.0.1:0", sshtest.Options{
			Handler: n.shell, HostKeys: []gossh.Signer{hostKey}, User: loginUser,
			AuthorizedKeys: []gossh.PublicKey{clientPub}, Logger: log.With("sshd", n.name),
		})
		if err != nil {
			return nil, err
		}
		known.WriteString(n.sshd.KnownHostsLine())
	}
	d.known = filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(d.known, []byte(known.String()), 0o600); err != nil {
		return nil, fmt.Errorf("failed to write the demo's known_hosts: %w", err)
	}
	return d, nil
}

// writeClientKey makes the console's throwaway key.
func (d *Demo) writeClientKey() (gossh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to make the demo's client key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "vipctl demo")
	if err != nil {
		return nil, fmt.Errorf("failed to encode the demo's client key: %w", err)
	}
	d.key = filepath.Join(d.dir, "id_ed25519")
	if err := os.WriteFile(d.key, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("failed to write the demo's client key: %w", err)
	}
	return gossh.NewPublicKey(pub)
}

// keepalivedConf is node i's configuration: the seed's shape (both BACKUP,
// nopreempt, an nginx guard tracked by the instance), on VRRPv3 at 0.1 s
// so that a master is elected within half a second and handovers take
// tens of milliseconds. nginx-01's higher priority makes it the first
// master, as the node an operator starts first.
func keepalivedConf(n *demoNode, i int) string {
	return fmt.Sprintf(`# vipctl demo: %[1]s
global_defs {
    router_id %[1]s
}
vipd_nginx_check nginx {
    url http://%[2]s/
    interval 0.2
    timeout 0.15
    start_command "/bin/sh -c 'echo start >>$0' %[3]s"
    restart_deadline 1
}
vrrp_instance VI_1 {
    state BACKUP
    interface %[4]s
    virtual_router_id 60
    priority %[5]d
    nopreempt
    version 3
    advert_int 0.1
    virtual_ipaddress {
        %[6]s
    }
    track_script {
        nginx
    }
}
`, n.name, n.nginx.addr, n.nginx.fifo, Interface, 150-50*i, vipNet)
}

// Run runs both nodes until ctx is done, then stops them (the master hands
// over as it would on SIGTERM) and returns nil.
func (d *Demo) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, n := range d.nodes {
		g.Go(func() error { return n.nginx.Run(ctx) })
		g.Go(func() error { return d.runService(ctx, n) }) // vipd and its socket
		g.Go(func() error { return n.sshd.Run(ctx) })
	}
	return g.Wait()
}

// Close removes the demo's files. Call it after Run returned.
func (d *Demo) Close() error {
	for _, n := range d.nodes {
		if n.nginx != nil {
			n.nginx.closeUnused()
		}
		if n.ctl != nil {
			n.ctl.Close()
		}
	}
	return os.RemoveAll(d.dir)
}

// Cluster is the demo pair as the console sees it.
func (d *Demo) Cluster() *cluster.Cluster {
	p := cluster.Pair{Name: PairName, VIP: VIP, Sudo: ssh.SudoNever}
	for _, n := range d.nodes {
		p.Nodes = append(p.Nodes, cluster.Node{Name: n.name, Target: loginUser + "@" + n.sshd.Addr()})
	}
	return &cluster.Cluster{Pairs: []cluster.Pair{p}, KnownHosts: d.known}
}

// SSH is the console's SSH configuration for the demo: its key, its
// known_hosts, and nothing of the user's ~/.ssh.
func (d *Demo) SSH() ssh.Config {
	return ssh.Config{
		ConfigFile:    "none",
		KnownHosts:    d.known,
		IdentityFiles: []string{d.key},
		AgentSocket:   "none",
		Home:          d.dir,
		Timeout:       5 * time.Second,
		Reconnect:     ssh.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second},
	}
}

// DialVIP connects to the VIP as a client on the segment would: to the
// fake nginx of whichever node holds it now. It is the console probe's
// dialer in the demo.
func (d *Demo) DialVIP(ctx context.Context, network, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || ap != VIP {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("the demo reaches only %s, not %s", VIP, addr)}
	}
	holders := d.net.Holders(vipNet)
	if len(holders) == 0 {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("no node holds the VIP")}
	}
	for _, n := range d.nodes {
		if n.addr == holders[0] { // two holders: a split brain, and ARP picks one
			var nd net.Dialer
			return nd.DialContext(ctx, "tcp", n.nginx.addr)
		}
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("the VIP is on %s, which is no demo node", holders[0])}
}

// Holders returns the nodes that hold the VIP, by name.
func (d *Demo) Holders() []string {
	var names []string
	for _, a := range d.net.Holders(vipNet) {
		for _, n := range d.nodes {
			if n.addr == a {
				names = append(names, n.name)
			}
		}
	}
	return names
}

// Console returns the real console over the demo: opts with the demo's
// SSH settings, its VIP dialer, and the guarded actions on.
func (d *Demo) Console(opts console.Options) *console.Console {
	opts.SSH = d.SSH()
	opts.ProbeDial = d.DialVIP
	return newConsole(d.Cluster(), opts, Commands(), "operator via vipctl demo")
}

// newConsole is the console of a demo pair, in process or on the lab:
// guarded actions on, run by cmds unless opts names commands, and a watch
// retried quickly enough to see a vipd started again at once.
func newConsole(c *cluster.Cluster, opts console.Options, cmds console.Commands, by string) *console.Console {
	opts.Actions = true
	if opts.Commands.NginxBreak == nil {
		opts.Commands = cmds
	}
	if opts.RetryMax == 0 {
		opts.RetryMax = time.Second
	}
	if opts.By == "" {
		opts.By = by
	}
	return console.New(c, opts)
}

// RunWith runs the demo and fn together until fn returns or ctx is done,
// then stops the demo. It returns fn's error, or the demo's.
func (d *Demo) RunWith(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.Run(gctx) })
	g.Go(func() error {
		defer cancel()
		return fn(gctx)
	})
	return g.Wait()
}
