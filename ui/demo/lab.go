//go:build linux

package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vipkit/vip/fixtures/bench"
	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui/cluster"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/feed"
)

// The lab's timings.
const (
	labSSHDial   = 5 * time.Second // one SSH connection attempt
	labProbeDial = time.Second     // one probe connection attempt, as the probe's timeout
	// labProbeDialers is how many probe connection attempts may be under
	// way at once: a dense probe keeps sending while SYNs lost in a
	// failover wait out their second, and a netns.Dialer makes one at a
	// time.
	labProbeDialers = 32
	labVipdReady    = 10 * time.Second
)

// Lab is `vipctl demo --lab`: the demo pair on a namespace lab
// (fixtures/netns) with a real nginx, a real OpenSSH sshd and a real vipd
// on each node, and the console's SSH and probe sockets made in the lab's
// client namespace. NewLab starts everything; Close removes everything.
type Lab struct {
	net  *netns.Lab
	dir  string
	log  *slog.Logger
	vipd string
	// keepalived: the nodes run the seed's keepalived, not vipd.
	keepalived bool
	nodes      []*labNode
	known      string   // known_hosts trusting every node's sshd
	keys       []string // a client key each sshd accepts

	ssh    map[string]*netns.Dialer // by node address "198.51.100.11:22"
	probes []*netns.Dialer          // every probe dialer, for Close
	free   chan *netns.Dialer       // the probe dialers not dialing
	neigh  *os.File                 // the client namespace, whose neighbour table the probe reads

	closeOnce sync.Once
	closeErr  error
}

// labNode is one node of the lab and what runs on it.
type labNode struct {
	net  *netns.Node
	dir  string
	run  string // seen at /run/vipd by its vipd and sshd: the control socket's directory
	ctl  string // seen at labCtlDir: its labctl
	conf string // vipd's configuration, on the host (vipd lab) or the node (keepalived lab)
	// etcKeepalived and etcVipd are seen at /etc/keepalived and /etc/vipd
	// on the node, in the keepalived lab only ("" otherwise).
	etcKeepalived, etcVipd string
	nginx                  *netns.Nginx
	sshd                   *netns.SSHD
	vipd                   *netns.Proc
}

// startLab is NewLab as Main's pair.
func startLab(ctx context.Context, opts LabOptions) (target, error) {
	l, err := NewLab(ctx, opts)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// NewLab builds the lab and starts nginx, sshd and vipd (or keepalived:
// LabOptions.Keepalived) on both nodes.
// It needs root (see netns.Require's reasons). On error nothing of it
// remains; otherwise the caller must Close it, even after ctx ends.
func NewLab(ctx context.Context, opts LabOptions) (_ *Lab, err error) {
	if err := netns.Supported(); err != nil {
		return nil, fmt.Errorf("this machine cannot run the lab: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "vipctl-lab-")
	if err != nil {
		return nil, fmt.Errorf("failed to make the lab's directory: %w", err)
	}
	l := &Lab{dir: dir, log: log, vipd: opts.Vipd, keepalived: opts.Keepalived, ssh: map[string]*netns.Dialer{}}
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("the lab was not up yet: %w", context.Cause(ctx)) // not what a killed step says
		}
		if err != nil {
			err = errors.Join(err, l.Close())
		}
	}()
	if l.vipd == "" {
		start := time.Now()
		var built bool
		if l.vipd, built, err = FindVipd(ctx, dir); err != nil {
			return nil, err
		}
		log.Info("vipd found", "path", l.vipd, "built", built, "took", time.Since(start))
	}
	var seed bench.SeedFiles
	if l.keepalived {
		if seed, err = bench.LoadSeed(opts.Seed); err != nil {
			return nil, err
		}
	}
	if l.net, err = netns.Start(ctx, netns.Config{}); err != nil {
		return nil, fmt.Errorf("failed to start the lab: %w", err)
	}
	// The dialers' threads first: a thread that ends kills what it
	// spawned (netns.Spawn), and theirs end only at Close.
	l.free = make(chan *netns.Dialer, labProbeDialers)
	for range labProbeDialers {
		d, err := l.net.Client.NewDialer(labProbeDial)
		if err != nil {
			return nil, err
		}
		l.probes = append(l.probes, d)
		l.free <- d
	}
	if l.neigh, err = os.Open(filepath.Join("/run/netns", l.net.Client.NS)); err != nil {
		return nil, fmt.Errorf("failed to open the client's namespace: %w", err)
	}
	for _, n := range l.net.Nodes {
		d, err := l.net.Client.NewDialer(labSSHDial)
		if err != nil {
			return nil, err
		}
		l.ssh[net.JoinHostPort(n.Addr.String(), "22")] = d
	}

	var known strings.Builder
	for i, n := range l.net.Nodes {
		ln := &labNode{net: n, dir: filepath.Join(dir, n.Name)}
		ln.run = filepath.Join(ln.dir, "run")
		ln.ctl = filepath.Join(ln.dir, "ctl")
		ln.conf = filepath.Join(ln.dir, "keepalived.conf")
		dirs := []string{ln.dir, ln.run, ln.ctl, filepath.Join(ln.dir, "nginx"), filepath.Join(ln.dir, "sshd")}
		if l.keepalived {
			ln.conf = LabVipdConf
			ln.etcKeepalived, ln.etcVipd = filepath.Join(ln.dir, "etc-keepalived"), filepath.Join(ln.dir, "etc-vipd")
			dirs = append(dirs, ln.etcKeepalived, ln.etcVipd, ln.keepalivedTmp())
		}
		l.nodes = append(l.nodes, ln)
		for _, d := range dirs {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, fmt.Errorf("failed to make %s: %w", d, err)
			}
		}
		if ln.nginx, err = n.SpawnNginx(ctx, filepath.Join(ln.dir, "nginx")); err != nil {
			return nil, fmt.Errorf("failed to start nginx on %s: %w", n.Name, err)
		}
		script := filepath.Join(ln.ctl, filepath.Base(labCtl))
		if err := os.WriteFile(script, []byte(labCtlScript(ln, l.vipd)), 0o755); err != nil {
			return nil, fmt.Errorf("failed to write %s: %w", script, err)
		}
		if ln.sshd, _, err = n.SpawnSSHD(ctx, filepath.Join(ln.dir, "sshd"), ln.mounts()); err != nil {
			return nil, fmt.Errorf("failed to start sshd on %s: %w", n.Name, err)
		}
		b, err := os.ReadFile(ln.sshd.KnownHosts)
		if err != nil {
			return nil, err
		}
		known.Write(b)
		l.keys = append(l.keys, ln.sshd.ClientKey)
		if l.keepalived {
			if err := l.setupKeepalived(ctx, ln, seed); err != nil {
				return nil, err
			}
			continue
		}
		conf, err := labConfig(ln.net.Name, ln.net.Ifname, ln.nginx.PIDFile, filepath.Join(ln.ctl, filepath.Base(labCtl)), i).MarshalText()
		if err != nil {
			return nil, fmt.Errorf("failed to write %s's configuration: %w", n.Name, err)
		}
		if err := os.WriteFile(ln.conf, conf, 0o644); err != nil {
			return nil, fmt.Errorf("failed to write %s: %w", ln.conf, err)
		}
		if out, err := n.Output(ctx, l.vipd, "-t", "-f", ln.conf); err != nil {
			return nil, fmt.Errorf("vipd rejects %s: %w\n%s", ln.conf, err, out)
		}
	}
	l.known = filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(l.known, []byte(known.String()), 0o600); err != nil {
		return nil, fmt.Errorf("failed to write the lab's known_hosts: %w", err)
	}
	// One after the other, as an operator brings a pair up: the first
	// becomes MASTER.
	for i, ln := range l.nodes {
		if l.keepalived {
			if err := l.startKeepalived(ctx, ln, i == 0); err != nil {
				return nil, err
			}
			continue
		}
		if err := l.startVipd(ctx, ln); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// startVipd runs vipd on the node and waits for its control socket.
func (l *Lab) startVipd(ctx context.Context, ln *labNode) error {
	p, err := ln.net.Spawn(ln.mounts(), l.vipd, "-f", ln.conf)
	if err != nil {
		return fmt.Errorf("failed to start vipd on %s: %w", ln.net.Name, err)
	}
	ln.vipd = p
	// Its pid for `labctl vipd stop`: ip netns exec, unshare and sh each
	// exec the next, so this is vipd's.
	if err := os.WriteFile(ln.vipdPID(), []byte(fmt.Sprintln(p.Pid())), 0o644); err != nil {
		return err
	}
	sock := filepath.Join(ln.run, filepath.Base(control.DefaultSocketPath))
	deadline := time.Now().Add(labVipdReady)
	for {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			l.log.Info("vipd started", "node", ln.net.Name, "pid", p.Pid())
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("vipd on %s exited: %w\n%s", ln.net.Name, p.Wait(time.Second), p.Output())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vipd on %s has no control socket at %s after %v\n%s", ln.net.Name, sock, labVipdReady, p.Output())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// mounts are the node's own directories at common paths, for its sshd's
// sessions and its vipd: the nodes share this host's filesystem, yet each
// has its own /run/vipd, so that vipd and the console both use the default
// control socket as on real nodes, and its own labctl.
//
// In the keepalived lab each also has its own /etc/keepalived, with the
// seed's files, and /etc/vipd, empty until a migration fills it.
func (ln *labNode) mounts() netns.Mounts {
	m := netns.Mounts{filepath.Dir(control.DefaultSocketPath): ln.run, labCtlDir: ln.ctl}
	if ln.etcKeepalived != "" {
		m[keepalivedDir], m[vipdEtcDir] = ln.etcKeepalived, ln.etcVipd
	}
	return m
}

func (ln *labNode) vipdPID() string { return filepath.Join(ln.ctl, "vipd.pid") }

// labConfig is node i's configuration: the in-process demo's (the seed's
// shape on VRRPv3 at 0.1 s, vipd's defaults for the guard) on the node's
// interface, with the lab nginx's pid file, and labctl to start it (which
// fails while it is held down).
func labConfig(name, ifname, pidFile, labctl string, i int) *config.Config {
	return &config.Config{
		Global: config.Global{
			RouterID: name, VRRPVersion: config.DefaultVRRPVersion,
			GARPMasterDelay: config.DefaultGARPMasterDelay, GARPMasterRepeat: config.DefaultGARPRepeat,
		},
		NginxChecks: []config.NginxCheck{config.NginxCheck{
			Name: "nginx", URL: "http://127.0.0.1/", PIDFile: pidFile, StartCommand: []string{labctl, "nginx", "start"},
		}.WithDefaults()},
		Instances: []config.Instance{{
			Name: "VI_1", State: config.Backup, Interface: ifname, VRID: 60, Priority: 150 - 50*i,
			Version: 3, AdvertInt: 100 * time.Millisecond, Nopreempt: true,
			VIPs:            []config.VIP{{Prefix: vipNet, Dev: ifname}},
			Tracks:          []config.Track{{Name: "nginx", Nginx: true}},
			GARPMasterDelay: config.DefaultGARPMasterDelay, GARPRepeat: config.DefaultGARPRepeat,
		}},
	}
}

// Close stops everything in the lab and removes it and its files. It is
// safe to call more than once.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		var errs []error
		// The dialers' threads first: a thread in a namespace keeps it
		// alive after the lab deletes its name.
		for _, d := range l.probes {
			d.Close()
		}
		if l.neigh != nil {
			l.neigh.Close()
		}
		for _, d := range l.ssh {
			d.Close()
		}
		if l.net != nil {
			if err := l.net.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := os.RemoveAll(l.dir); err != nil {
			errs = append(errs, err)
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// Cluster is the lab pair as the console sees it: root on each node's
// sshd, vipd at its absolute path, on its default control socket.
func (l *Lab) Cluster() *cluster.Cluster {
	p := cluster.Pair{Name: LabPairName, VIP: VIP, Sudo: ssh.SudoNever, Vipd: l.vipd}
	for _, ln := range l.nodes {
		p.Nodes = append(p.Nodes, cluster.Node{Name: ln.net.Name, Target: "root@" + ln.sshd.Addr})
	}
	return &cluster.Cluster{Pairs: []cluster.Pair{p}, KnownHosts: l.known}
}

// SSH is the console's SSH configuration for the lab: the keys and
// known_hosts made for it, nothing of the user's ~/.ssh, and connections
// made in the client namespace.
func (l *Lab) SSH() ssh.Config {
	return ssh.Config{
		ConfigFile:    "none",
		KnownHosts:    l.known,
		IdentityFiles: l.keys,
		AgentSocket:   "none",
		Home:          l.dir,
		Timeout:       labSSHDial,
		KeepAlive:     2 * time.Second,
		KeepAliveMax:  2,
		Reconnect:     ssh.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second},
		DialContext:   l.dialSSH,
	}
}

// dialSSH connects to a node's sshd from the client namespace, each node
// through a dialer of its own: a node that does not answer holds up only
// its own link.
func (l *Lab) dialSSH(ctx context.Context, network, addr string) (net.Conn, error) {
	d, ok := l.ssh[addr]
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("%s is no sshd of the lab", addr)}
	}
	return d.DialContext(ctx, network, addr)
}

// DialVIP connects from the lab's client namespace, as a client on the
// segment: the console probe's dialer in the lab.
func (l *Lab) DialVIP(ctx context.Context, network, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !l.net.Subnet.Contains(ap.Addr()) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("the lab reaches only %s, not %s", l.net.Subnet, addr)}
	}
	var d *netns.Dialer
	select {
	case d = <-l.free:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { l.free <- d }()
	return d.DialContext(ctx, network, addr)
}

// Console returns the real console over the lab: opts with the lab's SSH
// settings, its VIP dialer, and the guarded actions on, run by labctl
// (LabCommands) unless opts says otherwise.
func (l *Lab) Console(opts console.Options) *console.Console {
	opts.SSH = l.SSH()
	opts.ProbeDial = l.DialVIP
	opts.ProbeNeighbors = l.Neighbors()
	opts.ProbeMACs = map[string]net.HardwareAddr{}
	for _, n := range l.net.Nodes {
		opts.ProbeMACs[n.Name] = n.MAC
	}
	return newConsole(l.Cluster(), opts, LabCommands(), "operator via vipctl demo --lab")
}

// Neighbors is the neighbour table of the lab's client, the console's
// host on the lab's segment.
func (l *Lab) Neighbors() feed.Neighbors { return feed.NeighborTable{NetNS: int(l.neigh.Fd())} }

// RunWith runs fn until it returns or ctx is done; the lab runs on its
// own until Close. It returns fn's error.
func (l *Lab) RunWith(ctx context.Context, fn func(context.Context) error) error {
	return fn(ctx)
}

// Net is the namespace lab under the pair.
func (l *Lab) Net() *netns.Lab { return l.net }

// Node returns the lab node the console calls name ("n1"), or nil.
func (l *Lab) Node(name string) *netns.Node {
	for _, ln := range l.nodes {
		if ln.net.Name == name {
			return ln.net
		}
	}
	return nil
}

// Holders returns the nodes that hold the VIP, read from their
// interfaces.
func (l *Lab) Holders() ([]string, error) {
	var names []string
	for _, ln := range l.nodes {
		held, err := ln.net.HasAddr(l.VIPPrefix())
		if err != nil {
			return nil, err
		}
		if held {
			names = append(names, ln.net.Name)
		}
	}
	return names, nil
}

// VipdOutput returns what vipd printed on the node so far (the
// keepalived lab: keepalived's log).
func (l *Lab) VipdOutput(name string) string {
	for _, ln := range l.nodes {
		if ln.net.Name != name {
			continue
		}
		if l.keepalived {
			b, _ := os.ReadFile(ln.keepalivedLog())
			return string(b)
		}
		if ln.vipd != nil {
			return ln.vipd.Output()
		}
	}
	return ""
}

// Running says whether nginx and vipd (the keepalived lab: keepalived)
// run on the node, from their pid files and /proc: what a drill must
// leave running, seen without vipd or SSH.
func (l *Lab) Running(name string) (nginx, vipd bool, err error) {
	for _, ln := range l.nodes {
		if ln.net.Name != name {
			continue
		}
		procs, err := ln.nginx.Procs()
		if err != nil {
			return false, false, fmt.Errorf("failed to find nginx on %s: %w", name, err)
		}
		pidFile := ln.vipdPID()
		if l.keepalived {
			pidFile = ln.keepalivedPID()
			if _, err := os.Stat(pidFile); errors.Is(err, os.ErrNotExist) {
				return len(procs) > 0, false, nil // keepalived removes it on exit
			}
		}
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return false, false, fmt.Errorf("failed to find vipd on %s: %w", name, err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return false, false, fmt.Errorf("failed to read vipd's pid on %s: %w", name, err)
		}
		return len(procs) > 0, netns.Alive(pid), nil
	}
	return false, false, fmt.Errorf("no node %q in the lab", name)
}

// Ctl runs the node's labctl from the host in the node's network and
// mount namespaces, as the console's gate runs it over SSH. Tests use it
// to act on a node without the console.
func (l *Lab) Ctl(ctx context.Context, name string, args ...string) (string, error) {
	for _, ln := range l.nodes {
		if ln.net.Name == name {
			return l.run(ctx, ln, ln.ctlPath(), args...)
		}
	}
	return "", fmt.Errorf("no node %q in the lab", name)
}

// ReloadVipd changes node name's vipd configuration with edit, checks the
// result (vipd -t) and reloads vipd with it (SIGHUP), as an operator does;
// it returns once the signal is sent, not when vipd has applied it. Not in
// the keepalived lab.
func (l *Lab) ReloadVipd(ctx context.Context, name string, edit func(*config.Config)) error {
	if l.keepalived {
		return errors.New("the keepalived lab runs no vipd to reload")
	}
	for _, ln := range l.nodes {
		if ln.net.Name != name {
			continue
		}
		cfg, err := config.Load(ln.conf)
		if err != nil {
			return err
		}
		edit(cfg)
		text, err := cfg.MarshalText()
		if err != nil {
			return fmt.Errorf("failed to write %s's configuration: %w", name, err)
		}
		if err := os.WriteFile(ln.conf, text, 0o644); err != nil {
			return fmt.Errorf("failed to write %s: %w", ln.conf, err)
		}
		if out, err := ln.net.Output(ctx, l.vipd, "-t", "-f", ln.conf); err != nil {
			return fmt.Errorf("vipd rejects %s: %w\n%s", ln.conf, err, out)
		}
		b, err := os.ReadFile(ln.vipdPID()) // labctl vipd start rewrites it
		if err != nil {
			return fmt.Errorf("failed to find vipd on %s: %w", name, err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return fmt.Errorf("failed to read vipd's pid on %s: %w", name, err)
		}
		if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
			return fmt.Errorf("failed to reload vipd on %s (pid %d): %w", name, pid, err)
		}
		return nil
	}
	return fmt.Errorf("no node %q in the lab", name)
}
