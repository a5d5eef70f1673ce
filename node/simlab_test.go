package node

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/node/guard"
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

// simSystem is one node's System: an interface name is a vrrptest.Network
// shared by every node of the lab.
type simSystem struct {
	lab  *simLab
	addr netip.Addr

	mu   sync.Mutex
	down map[string]bool
}

func (s *simSystem) host(ifname string) (*vrrptest.Host, error) {
	n := s.lab.net(ifname)
	if n == nil {
		return nil, fmt.Errorf("failed to look up interface %q: no such network interface", ifname)
	}
	return n.Host(s.addr), nil
}

func (s *simSystem) Listen(ifname string, _ vrrp.ListenConfig) (vrrp.Conn, error) {
	h, err := s.host(ifname)
	if err != nil {
		return nil, err
	}
	return h.Restart(), nil
}

func (s *simSystem) Addresser(ifname string, _ map[netip.Prefix]string) (vrrp.Addresser, error) {
	h, err := s.host(ifname)
	if err != nil {
		return nil, err
	}
	return h.Addresser(), nil
}

func (s *simSystem) Announcer(ifname string) (vrrp.Announcer, error) {
	h, err := s.host(ifname)
	if err != nil {
		return nil, err
	}
	return h.Announcer(), nil
}

func (s *simSystem) PrimaryAddr(ifname string, _ []netip.Addr) (netip.Addr, error) {
	if _, err := s.host(ifname); err != nil {
		return netip.Addr{}, err
	}
	return s.addr, nil
}

func (s *simSystem) LinkUp(ifname string) (bool, error) {
	if _, err := s.host(ifname); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.down[ifname], nil
}

func (s *simSystem) setLink(ifname string, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down == nil {
		s.down = map[string]bool{}
	}
	s.down[ifname] = !up
}

// fakeNginx answers the guard's probe while up; its start command fails.
type fakeNginx struct {
	mu sync.Mutex
	up bool
}

func (f *fakeNginx) set(up bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = up
}

func (f *fakeNginx) Probe(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.up {
		return errors.New("GET http://fake/: connect: connection refused")
	}
	return nil
}

func (f *fakeNginx) Check(context.Context) error { return nil }

func (f *fakeNginx) Run(context.Context, guard.Command) error {
	return errors.New("exit status 1: nginx: [emerg] bind() failed")
}

// notifyRun is one notify script run by fakeNotify.
type notifyRun struct {
	argv       []string
	start, end time.Time
}

// fakeNotify records notify scripts; each takes took(argv) to run.
type fakeNotify struct {
	took func(argv []string) time.Duration

	mu   sync.Mutex
	runs []notifyRun
}

func (f *fakeNotify) Run(ctx context.Context, argv []string, _ string) (int, []byte, error) {
	start := time.Now()
	var d time.Duration
	if f.took != nil {
		d = f.took(argv)
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return -1, nil, ctx.Err()
	}
	f.mu.Lock()
	f.runs = append(f.runs, notifyRun{argv: argv, start: start, end: time.Now()})
	f.mu.Unlock()
	return 0, []byte("ok"), nil
}

func (f *fakeNotify) list() []notifyRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.runs)
}

// simLab is a set of vipd nodes on in-memory networks, one per interface
// name.
type simLab struct {
	t     *testing.T
	mu    sync.Mutex
	nets  map[string]*vrrptest.Network
	nodes []*simNode
}

type simNode struct {
	lab    *simLab
	i      int
	name   string
	sys    *simSystem
	nginx  *fakeNginx
	notify *fakeNotify
	path   string // its keepalived.conf
	d      *Daemon
	cancel context.CancelFunc
	done   chan error
}

// newSimLab makes n nodes (not started) on networks named by ifnames.
// Call it inside synctest.Test.
func newSimLab(t *testing.T, n int, ifnames ...string) *simLab {
	l := &simLab{t: t, nets: map[string]*vrrptest.Network{}}
	for k, name := range ifnames {
		l.nets[name] = vrrptest.NewNetwork(int64(k + 1))
	}
	dir := t.TempDir()
	for i := range n {
		nd := &simNode{lab: l, i: i, name: fmt.Sprintf("n%d", i+1), nginx: &fakeNginx{up: true}, notify: &fakeNotify{}}
		nd.sys = &simSystem{lab: l, addr: simAddr(i)}
		nd.path = filepath.Join(dir, nd.name+".conf")
		l.nodes = append(l.nodes, nd)
	}
	t.Cleanup(l.stopAll)
	return l
}

func (l *simLab) net(ifname string) *vrrptest.Network {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nets[ifname]
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
	d.editGuard = func(def *guardDef) {
		if def.Nginx {
			def.NginxC.Probe, def.NginxC.Process, def.NginxC.Runner = n.nginx, n.nginx, n.nginx
		}
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

func (n *simNode) holds(ifname string, p netip.Prefix) bool {
	h, err := n.sys.host(ifname)
	return err == nil && h.Addresser().Has(p)
}

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
