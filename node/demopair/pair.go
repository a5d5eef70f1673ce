package demopair

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vipkit/vip/node"
	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/node/nodetest"
)

// The pair, on TEST-NET-2 addresses that exist only in memory.
var (
	VIP     = netip.MustParseAddrPort("198.51.100.100:80")
	vipNet  = netip.PrefixFrom(VIP.Addr(), 24)
	primary = []netip.Addr{netip.MustParseAddr("198.51.100.11"), netip.MustParseAddr("198.51.100.12")}
)

// Names of the pair.
const (
	Interface = "demo0"
	pidFile   = "/run/nginx.pid" // each node's own, as on its own host
)

// Options adjust the pair. The zero value is the demo's.
type Options struct {
	// Logger receives the daemons' and the stand-ins' logs; nil discards.
	Logger *slog.Logger
}

// Pair is the pair of nodes. New prepares it, Run runs it, Close removes
// its files.
type Pair struct {
	dir   string
	log   *slog.Logger
	net   *nodetest.Network
	nodes []*pairNode
}

// pairNode is one node: vipd, its control socket and its nginx.
type pairNode struct {
	name  string
	sys   *nodetest.System
	nginx *nodetest.Nginx
	conf  string // keepalived.conf
	sock  string // vipd's control socket
	svc   service
}

// New writes the pair's configuration files in a new temporary directory
// and opens its sockets, all on 127.0.0.1 or in that directory. Nothing
// runs until Run; Close removes everything.
func New(opts Options) (_ *Pair, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "vipctl-demo-")
	if err != nil {
		return nil, fmt.Errorf("failed to make the demo's directory: %w", err)
	}
	p := &Pair{dir: dir, log: log, net: nodetest.NewNetwork(Interface)}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	for i, addr := range primary {
		n := &pairNode{name: fmt.Sprintf("nginx-%02d", i+1), sys: p.net.System(addr), svc: service{reqs: make(chan serviceReq)}}
		p.nodes = append(p.nodes, n)
		n.sock = filepath.Join(dir, n.name+".sock")
		n.conf = filepath.Join(dir, n.name+".conf")
		n.nginx = nodetest.NewNginx(n.name, pidFile, log)
		n.sys.Nginx = n.nginx
		if err := n.nginx.Listen("127.0.0.1:0"); err != nil {
			return nil, err
		}
		text, err := nodeConfig(n.name, i, n.nginx.URL()).MarshalText()
		if err != nil {
			return nil, fmt.Errorf("failed to write %s's configuration: %w", n.name, err)
		}
		if err := os.WriteFile(n.conf, text, 0o600); err != nil {
			return nil, fmt.Errorf("failed to write %s: %w", n.conf, err)
		}
		if err := p.newVipd(n); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// nodeConfig is node i's configuration: the seed's shape (both BACKUP,
// nopreempt, an nginx guard tracked by the instance, with vipd's defaults
// for everything but its URL and pid file, as on a real node) on
// VRRPv3 at 0.1 s, so that a master is elected within half a second and
// handovers take tens of milliseconds. nginx-01's higher priority makes it
// the first master, as the node an operator starts first.
func nodeConfig(name string, i int, url string) *config.Config {
	return &config.Config{
		Global: config.Global{
			RouterID: name, VRRPVersion: config.DefaultVRRPVersion,
			GARPMasterDelay: config.DefaultGARPMasterDelay, GARPMasterRepeat: config.DefaultGARPRepeat,
		},
		NginxChecks: []config.NginxCheck{config.NginxCheck{Name: "nginx", URL: url, PIDFile: pidFile}.WithDefaults()},
		Instances: []config.Instance{{
			Name: "VI_1", State: config.Backup, Interface: Interface, VRID: 60, Priority: 150 - 50*i,
			Version: 3, AdvertInt: 100 * time.Millisecond, Nopreempt: true,
			VIPs:            []config.VIP{{Prefix: vipNet}},
			Tracks:          []config.Track{{Name: "nginx", Nginx: true}},
			GARPMasterDelay: config.DefaultGARPMasterDelay, GARPRepeat: config.DefaultGARPRepeat,
		}},
	}
}

// Run runs both nodes until ctx is done, then stops them (the master hands
// over as it would on SIGTERM) and returns nil.
func (p *Pair) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, n := range p.nodes {
		g.Go(func() error { return n.nginx.Run(ctx) })
		g.Go(func() error { return p.runService(ctx, n) }) // vipd and its socket
	}
	return g.Wait()
}

// Close removes the pair's files. Call it after Run returned.
func (p *Pair) Close() error {
	for _, n := range p.nodes {
		n.nginx.Close()
		n.svc.mu.Lock()
		if n.svc.ctl != nil {
			n.svc.ctl.Close()
		}
		n.svc.mu.Unlock()
	}
	return os.RemoveAll(p.dir)
}

// Nodes names the nodes, nginx-01 first.
func (p *Pair) Nodes() []string {
	var names []string
	for _, n := range p.nodes {
		names = append(names, n.name)
	}
	return names
}

// VIP is the pair's virtual address and nginx's port on it.
func (p *Pair) VIP() netip.AddrPort { return VIP }

// DialVIP connects to the VIP as a client on the segment would: to the
// stand-in nginx of whichever node holds it now.
func (p *Pair) DialVIP(ctx context.Context, network, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || ap != VIP {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("the demo reaches only %s, not %s", VIP, addr)}
	}
	holders := p.net.Segment(Interface).Holders(vipNet)
	if len(holders) == 0 {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("no node holds the VIP")}
	}
	for _, n := range p.nodes {
		if n.sys.Addr() == holders[0] { // two holders: a split brain, and ARP picks one
			var nd net.Dialer
			return nd.DialContext(ctx, "tcp", n.nginx.Addr())
		}
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("the VIP is on %s, which is no demo node", holders[0])}
}

// Holders names the nodes that hold the VIP.
func (p *Pair) Holders() []string {
	var names []string
	for _, n := range p.nodes {
		if n.sys.Holds(Interface, vipNet) {
			names = append(names, n.name)
		}
	}
	return names
}

// Nginx returns the node's stand-in nginx, or nil.
func (p *Pair) Nginx(name string) *nodetest.Nginx {
	if n := p.node(name); n != nil {
		return n.nginx
	}
	return nil
}

// Status returns the status of the node's vipd; false when it is stopped
// or there is no such node.
func (p *Pair) Status(name string) (control.Status, bool) {
	n := p.node(name)
	if n == nil || !n.svc.active() {
		return control.Status{}, false
	}
	n.svc.mu.Lock()
	vipd := n.svc.vipd
	n.svc.mu.Unlock()
	return vipd.Status(), true
}

func (p *Pair) node(name string) *pairNode {
	for _, n := range p.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// newVipd makes a fresh vipd for n on its configuration, and opens its
// control socket.
func (p *Pair) newVipd(n *pairNode) error {
	vipd, err := node.New(node.Options{
		ConfigPath: n.conf, Version: "demo", Logger: p.log.With("vipd", n.name), System: n.sys,
	})
	if err != nil {
		return fmt.Errorf("failed to set up %s's vipd: %w", n.name, err)
	}
	ln, err := control.ListenUnix(n.sock)
	if err != nil {
		return err
	}
	n.svc.mu.Lock()
	n.svc.vipd, n.svc.ctl = vipd, ln
	n.svc.mu.Unlock()
	return nil
}
