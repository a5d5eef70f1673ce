package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sync/errgroup"

	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ssh/sshtest"
	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/cluster"
	"github.com/vipkit/vip/ui/console"
)

// VIP is the demo pair's virtual address, in memory and on the lab alike.
var (
	VIP    = netip.MustParseAddrPort("198.51.100.100:80")
	vipNet = netip.PrefixFrom(VIP.Addr(), 24)
)

// Names of the demo.
const (
	PairName  = "demo"
	loginUser = "operator"
)

// Pair is the in-memory pair of vipd nodes the demo shows: the daemons
// with their nginx, behind each node's shell. ui never runs vipd itself:
// cmd/vipctl passes node/demopair's.
type Pair interface {
	// Run runs the nodes until ctx is done, then stops them.
	Run(ctx context.Context) error
	// Close removes what the pair made, after Run returned.
	Close() error
	// Nodes names the nodes, in the order they start.
	Nodes() []string
	// Exec runs a command line on a node as its login shell would for an
	// SSH exec request (vipd's CLI, and the commands of Commands), and
	// returns its exit status.
	Exec(ctx context.Context, node, cmd string, stdout, stderr io.Writer, stdin io.Reader) int
	// VIP is the pair's virtual address and nginx's port on it.
	VIP() netip.AddrPort
	// DialVIP connects to the VIP as a client on the segment would.
	DialVIP(ctx context.Context, network, addr string) (net.Conn, error)
	// Holders names the nodes that hold the VIP.
	Holders() []string
}

// NewPair makes the demo's Pair, logging to log.
type NewPair func(log *slog.Logger) (Pair, error)

// Options adjust the demo. The zero value is the demo.
type Options struct {
	// Logger receives the servers' logs; nil discards.
	Logger *slog.Logger
}

// Demo is the pair as the console reaches it: an SSH server on 127.0.0.1
// for each node, whose sessions run the node's shell. New prepares it, Run
// runs it, Close removes it and its pair.
type Demo struct {
	pair  Pair
	dir   string
	log   *slog.Logger
	sshd  []*sshtest.Server // per node, in the pair's order
	key   string            // the console's private key file
	known string            // known_hosts trusting the nodes' host keys
}

// New makes the demo of p, which it owns from then on: a throwaway client
// key, and an SSH server per node with a throwaway host key, trusted
// through a temporary known_hosts. Nothing runs until Run; Close removes
// everything.
func New(p Pair, opts Options) (_ *Demo, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Demo{pair: p, log: log}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.dir, err = os.MkdirTemp("", "vipctl-demo-ssh-"); err != nil {
		return nil, fmt.Errorf("failed to make the demo's directory: %w", err)
	}
	clientPub, err := d.writeClientKey()
	if err != nil {
		return nil, err
	}
	var known strings.Builder
	for _, name := range p.Nodes() {
		hostKey, err := sshtest.NewSigner()
		if err != nil {
			return nil, err
		}
		shell := func(ctx context.Context, cmd string, stdout, stderr io.Writer, stdin io.Reader) int {
			return p.Exec(ctx, name, cmd, stdout, stderr, stdin)
		}
		sshd, err := sshtest.Listen("127.0.0.1:0", sshtest.Options{
			Handler: shell, HostKeys: []gossh.Signer{hostKey}, User: loginUser,
			AuthorizedKeys: []gossh.PublicKey{clientPub}, Logger: log.With("sshd", name),
		})
		if err != nil {
			return nil, err
		}
		d.sshd = append(d.sshd, sshd)
		known.WriteString(sshd.KnownHostsLine())
	}
	d.known = filepath.Join(d.dir, "known_hosts")
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

// Run runs the pair and the SSH servers until ctx is done, then stops
// them (the master hands over as it would on SIGTERM) and returns nil.
func (d *Demo) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.pair.Run(ctx) })
	for _, s := range d.sshd {
		g.Go(func() error { return s.Run(ctx) })
	}
	return g.Wait()
}

// Close removes the demo's files and its pair's. Call it after Run
// returned.
func (d *Demo) Close() error {
	err := d.pair.Close()
	if d.dir != "" {
		err = errors.Join(err, os.RemoveAll(d.dir))
	}
	return err
}

// Cluster is the demo pair as the console sees it.
func (d *Demo) Cluster() *cluster.Cluster {
	p := cluster.Pair{Name: PairName, VIP: d.pair.VIP(), Sudo: ssh.SudoNever}
	for i, name := range d.pair.Nodes() {
		p.Nodes = append(p.Nodes, cluster.Node{Name: name, Target: loginUser + "@" + d.sshd[i].Addr()})
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

// Holders names the nodes that hold the VIP.
func (d *Demo) Holders() []string { return d.pair.Holders() }

// VIP is the pair's virtual address and nginx's port on it.
func (d *Demo) VIP() netip.AddrPort { return d.pair.VIP() }

// Console returns the real console over the demo: opts with the demo's
// SSH settings, its VIP dialer, and the guarded actions on.
func (d *Demo) Console(opts console.Options) *console.Console {
	opts.SSH = d.SSH()
	opts.ProbeDial = d.pair.DialVIP // the console's probe: to whichever node holds the VIP
	return newConsole(d.Cluster(), opts, Commands(), "operator via vipctl demo")
}

// Commands are the console gate's commands in the demo: each node's shell
// answers `demo nginx stop|start|break|status` and `demo vipd
// stop|start|status` as systemctl would the real units.
func Commands() ui.Commands {
	return ui.Commands{
		NginxStop:   []string{"demo nginx stop"},
		NginxBreak:  []string{"demo nginx break"},
		NginxRepair: []string{"demo nginx start"},
		NginxCheck:  []string{"demo nginx status"},
		VipdStop:    []string{"demo vipd stop"},
		VipdStart:   []string{"demo vipd start"},
	}
}

// newConsole is the console of a demo pair, in process or on the lab:
// guarded actions on, run by cmds unless opts names commands, and a watch
// retried quickly enough to see a vipd started again at once.
func newConsole(c *cluster.Cluster, opts console.Options, cmds ui.Commands, by string) *console.Console {
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
