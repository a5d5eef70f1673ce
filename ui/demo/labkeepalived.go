//go:build linux

package demo

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/vipkit/vip/fixtures/bench"
	"github.com/vipkit/vip/fixtures/netns"
)

// The keepalived lab (LabOptions.Keepalived): the seed's pair as operators
// run it today. Each node sees its own /etc/keepalived (a bind mount in the
// mount namespace of its sshd, its keepalived and their children), so the
// seed's paths stay as they are: keepalived reads its default
// /etc/keepalived/keepalived.conf and runs /etc/keepalived/check_nginx.sh.
// What the lab changes, and only that:
//
//   - keepalived.conf: the lab's VIP for the seed's 172.31.13.242, and
//     `script_user root` with `enable_script_security` (no keepalived_script
//     user here; without them `keepalived -t` refuses the seed, as every
//     lab config must pass it);
//   - check_nginx.sh: nginx's pid file (through `labctl nginx pids`: no
//     zombie counted, and only this node's nginx, where `ps -C nginx` sees
//     every node's and counts a killed one for 1.5 s) for `ps -C nginx`, and
//     labctl for systemctl.
//
// keepalived runs as the seed's unit would, from `labctl keepalived start`
// in the node's namespace: with its own TMPDIR (where it writes
// keepalived.json and keepalived.data on a signal: every node shares /tmp)
// and its own pid files, logging to a file.

// The seed's paths and VIP, which the keepalived lab keeps or replaces.
const (
	seedVIP          = "172.31.13.242"
	seedIfname       = "eth0"
	keepalivedDir    = "/etc/keepalived" // each node's own, in the lab
	vipdEtcDir       = "/etc/vipd"       // each node's own in the keepalived lab, for a migration's files
	labKeepalivedUp  = 20 * time.Second  // Master_Down_Interval 3.61 s and a script run, with room
	labKeepalivedLog = "keepalived.log"
)

// keepalivedVIP is the keepalived lab's VIP as keepalived configures it:
// the seed names an address without a prefix, a /32.
var keepalivedVIP = netip.PrefixFrom(VIP.Addr(), 32)

// KeepalivedConfPath is where each node's keepalived.conf is, seen from
// the node (its sshd's sessions, its keepalived): keepalived's default.
var KeepalivedConfPath = filepath.Join(keepalivedDir, "keepalived.conf")

// LabVipdConf is where `labctl vipd start` on a node of the keepalived lab
// finds vipd's configuration, seen from the node: nothing writes it until
// a migration does.
var LabVipdConf = filepath.Join(vipdEtcDir, "keepalived.conf")

// The seed's lines that the lab replaces, and what with.
var (
	seedRouterID = regexp.MustCompile(`(?m)^(\s*)router_id `)
)

// keepalivedSeedConf adapts the seed's keepalived.conf to the lab.
func keepalivedSeedConf(seed, ifname string) (string, error) {
	if !strings.Contains(seed, seedVIP) {
		return "", fmt.Errorf("the seed's keepalived.conf has no %s: has it changed?", seedVIP)
	}
	if ifname != seedIfname {
		return "", fmt.Errorf("the lab's interface is %s, the seed's %s: the lab would have to rename it", ifname, seedIfname)
	}
	if !seedRouterID.MatchString(seed) {
		return "", fmt.Errorf("the seed's keepalived.conf has no router_id: has it changed?")
	}
	c := strings.ReplaceAll(seed, seedVIP, VIP.Addr().String())
	c = seedRouterID.ReplaceAllString(c, "${1}script_user root\n${1}enable_script_security\n${1}router_id ")
	return c, nil
}

// keepalivedSeedScript adapts the seed's check_nginx.sh to the lab, with
// labctl, the node's stand-in for systemctl, at ctl.
func keepalivedSeedScript(seed, ctl string) (string, error) {
	pairs := []string{
		"ps -C nginx --no-heading|wc -l", ctl + " nginx pids|wc -l",
		"/bin/systemctl start nginx.service", ctl + " nginx start",
		"/bin/systemctl stop keepalived.service", ctl + " keepalived stop",
	}
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(seed, pairs[i]) {
			return "", fmt.Errorf("the seed's check_nginx.sh has no %q: has it changed?", pairs[i])
		}
	}
	return strings.NewReplacer(pairs...).Replace(seed), nil
}

// setupKeepalived writes the node's keepalived.conf and check_nginx.sh
// from the seed and has `keepalived -t` check them where keepalived will
// run (the node's namespaces: its interface, its /etc/keepalived).
func (l *Lab) setupKeepalived(ctx context.Context, ln *labNode, seed bench.SeedFiles) error {
	conf, err := keepalivedSeedConf(seed.Conf, ln.net.Ifname)
	if err != nil {
		return err
	}
	script, err := keepalivedSeedScript(seed.Script, labCtl)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(ln.etcKeepalived, "keepalived.conf"), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("failed to write %s's keepalived.conf: %w", ln.net.Name, err)
	}
	// enable_script_security: root's, not writable by anyone else.
	if err := os.WriteFile(filepath.Join(ln.etcKeepalived, "check_nginx.sh"), []byte(script), 0o755); err != nil {
		return fmt.Errorf("failed to write %s's check_nginx.sh: %w", ln.net.Name, err)
	}
	if out, err := l.run(ctx, ln, "keepalived", "-t"); err != nil {
		return fmt.Errorf("keepalived rejects %s's %s: %w\n%s", ln.net.Name, KeepalivedConfPath, err, out)
	}
	return nil
}

// startKeepalived starts keepalived on the node as its unit would
// (`labctl keepalived start`) and waits until it holds the VIP (master)
// or says it is BACKUP.
func (l *Lab) startKeepalived(ctx context.Context, ln *labNode, master bool) error {
	if out, err := l.run(ctx, ln, ln.ctlPath(), "keepalived", "start"); err != nil {
		return fmt.Errorf("failed to start keepalived on %s: %w\n%s", ln.net.Name, err, out)
	}
	deadline := time.Now().Add(labKeepalivedUp)
	for {
		if master {
			if held, err := ln.net.HasAddr(keepalivedVIP); err != nil {
				return err
			} else if held {
				l.log.Info("keepalived started", "node", ln.net.Name, "state", "MASTER")
				return nil
			}
		} else if b, _ := os.ReadFile(ln.keepalivedLog()); strings.Contains(string(b), "Entering BACKUP STATE") {
			l.log.Info("keepalived started", "node", ln.net.Name, "state", "BACKUP")
			return nil
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(ln.keepalivedLog())
			return fmt.Errorf("keepalived on %s is not %s after %v:\n%s", ln.net.Name, map[bool]string{true: "MASTER", false: "BACKUP"}[master], labKeepalivedUp, tailString(string(b), 4<<10))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// run runs name in the node's namespaces (network and mounts), as its
// sshd's sessions see them, and returns its output.
func (l *Lab) run(ctx context.Context, ln *labNode, name string, args ...string) (string, error) {
	p, err := ln.net.Spawn(ln.mounts(), name, args...)
	if err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- p.Wait(labCtlTimeout) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = p.Kill()
		return p.Output(), ctx.Err()
	}
	if err != nil && !p.Exited() {
		_ = p.Kill()
	}
	if err != nil {
		return p.Output(), fmt.Errorf("%s %s on %s: %w", name, strings.Join(args, " "), ln.net.Name, err)
	}
	return p.Output(), nil
}

// labCtlTimeout bounds one labctl command: its own waits are 10 s.
const labCtlTimeout = 30 * time.Second

// LabNode is how to reach one node of the lab and what runs there, for a
// program driving the lab (`vipctl migrate --lab`). Paths "on the node"
// are as the node's sshd sessions see them; the lab's nodes share the
// host's filesystem, and some directories are the node's own there only.
type LabNode struct {
	Name string      // "n1", as the console calls it
	Net  *netns.Node // its namespace
	// SSH is its sshd's address, "198.51.100.11:22", for root with
	// Lab.SSH() (reached from the lab's client namespace only).
	SSH string
	// Labctl is the node's stand-in for systemctl, on the node; LabctlHost
	// the same file on the host.
	Labctl, LabctlHost string
	// KeepalivedConf is keepalived's configuration on the node
	// (KeepalivedConfPath), KeepalivedConfHost the same file on the host;
	// "" when the lab runs vipd.
	KeepalivedConf, KeepalivedConfHost string
	// KeepalivedTmp is keepalived's TMPDIR (where its JSON dump goes) and
	// KeepalivedLog its log, on the host and the node alike.
	KeepalivedTmp, KeepalivedLog string
	// KeepalivedPID is the file with keepalived's main pid, on the host
	// and the node alike; it exists while keepalived runs.
	KeepalivedPID string
	// VipdConf is where `labctl vipd start` reads vipd's configuration
	// on the node; VipdEtcHost is the node's /etc/vipd on the host
	// (keepalived lab only: "" otherwise).
	VipdConf, VipdEtcHost string
	// Vipd is the vipd binary, on the host and the node alike.
	Vipd string
	// NginxPIDFile is nginx's master pid file, on the host and the node
	// alike: a vipd nginx guard's pidfile.
	NginxPIDFile string
}

// Nodes describes the lab's nodes, in order.
func (l *Lab) Nodes() []LabNode {
	var out []LabNode
	for _, ln := range l.nodes {
		n := LabNode{
			Name: ln.net.Name, Net: ln.net, SSH: ln.sshd.Addr,
			Labctl: labCtl, LabctlHost: ln.ctlPath(),
			KeepalivedTmp: ln.keepalivedTmp(), KeepalivedLog: ln.keepalivedLog(), KeepalivedPID: ln.keepalivedPID(),
			VipdConf: ln.conf, Vipd: l.vipd, NginxPIDFile: ln.nginx.PIDFile,
		}
		if l.keepalived {
			n.KeepalivedConf = KeepalivedConfPath
			n.KeepalivedConfHost = filepath.Join(ln.etcKeepalived, "keepalived.conf")
			n.VipdConf, n.VipdEtcHost = LabVipdConf, ln.etcVipd
		}
		out = append(out, n)
	}
	return out
}

// Keepalived reports whether the lab runs keepalived (the seed's pair)
// rather than vipd.
func (l *Lab) Keepalived() bool { return l.keepalived }

// VIPPrefix is the VIP as the nodes' interfaces hold it: a /24 from vipd,
// the seed's bare address (a /32) from keepalived.
func (l *Lab) VIPPrefix() netip.Prefix {
	if l.keepalived {
		return keepalivedVIP
	}
	return vipNet
}

func (ln *labNode) ctlPath() string       { return filepath.Join(ln.ctl, filepath.Base(labCtl)) }
func (ln *labNode) keepalivedTmp() string { return filepath.Join(ln.dir, "tmp") }
func (ln *labNode) keepalivedLog() string { return filepath.Join(ln.dir, labKeepalivedLog) }
func (ln *labNode) keepalivedPID() string { return filepath.Join(ln.ctl, "keepalived.pid") }

// tailString is the end of s, at most n bytes.
func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
