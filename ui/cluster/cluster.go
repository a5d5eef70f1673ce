package cluster

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vipkit/vip/ssh"
)

// DefaultPort is the VIP's port when none is given.
const DefaultPort = 80

// Cluster is every pair the console watches.
type Cluster struct {
	Pairs []Pair
	// KnownHosts is the known_hosts file; "" lets package ssh choose
	// (UserKnownHostsFile, else ~/.ssh/known_hosts).
	KnownHosts string
}

// Pair is a VIP and the nodes that share it.
type Pair struct {
	Name  string
	VIP   netip.AddrPort // probed with GET http://VIP/
	Nodes []Node
	// Socket is vipd's control socket on the nodes; "" is vipd's default.
	Socket string
	Sudo   ssh.SudoMode
	// Vipd is vipd's path on the nodes; "" runs vipd from the login's
	// PATH.
	Vipd string
}

// Node is one node of a pair.
type Node struct {
	Name   string // as the console shows it and the lab nginx answers ("nginx-01")
	Target string // [user@]host[:port], or a Host of ~/.ssh/config
}

// ParseVIP reads "ADDR[:PORT]" ("198.51.100.100:80", "[2001:db8::1]:80",
// "198.51.100.100"); the port defaults to DefaultPort.
func ParseVIP(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return netip.AddrPort{}, fmt.Errorf("invalid VIP %q: port 0", s)
		}
		return ap, nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("invalid VIP %q: want ADDRESS[:PORT], such as 198.51.100.100:80", s)
	}
	return netip.AddrPortFrom(a, DefaultPort), nil
}

// ParseNode reads "NAME=TARGET".
func ParseNode(s string) (Node, error) {
	name, target, ok := strings.Cut(s, "=")
	name, target = strings.TrimSpace(name), strings.TrimSpace(target)
	switch {
	case !ok || name == "" || target == "":
		return Node{}, fmt.Errorf("invalid node %q: want NAME=[USER@]HOST[:PORT], such as nginx-01=root@lb1", s)
	case strings.ContainsAny(name, " \t"):
		return Node{}, fmt.Errorf("invalid node %q: the name has blanks", s)
	}
	if err := checkTarget(target); err != nil {
		return Node{}, fmt.Errorf("invalid node %q: %w", s, err)
	}
	return Node{Name: name, Target: target}, nil
}

// checkTarget catches what is surely not an SSH target. The ssh package
// reads the rest (aliases, ProxyJump) when it connects.
func checkTarget(t string) error {
	host := t
	if i := strings.LastIndexByte(t, '@'); i >= 0 {
		if i == 0 {
			return errors.New("empty user before '@'")
		}
		host = t[i+1:]
	}
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return errors.New("missing ']'")
		}
		if rest := host[end+1:]; rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return errors.New("junk after ']'")
			}
			return checkPort(rest[1:])
		}
		return nil
	}
	switch {
	case host == "" || strings.HasPrefix(host, ":"):
		return errors.New("empty host")
	case strings.ContainsAny(host, " \t/"):
		return fmt.Errorf("bad host %q", host)
	case strings.Count(host, ":") == 1:
		_, port, _ := strings.Cut(host, ":")
		return checkPort(port)
	}
	return nil
}

func checkPort(p string) error {
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("bad port %q", p)
	}
	return nil
}

// check reports what makes the pair unusable.
func (p *Pair) check() []string {
	var errs []string
	if !p.VIP.IsValid() {
		errs = append(errs, "no vip")
	}
	if len(p.Nodes) == 0 {
		errs = append(errs, "no node")
	}
	seen := map[string]bool{}
	for _, n := range p.Nodes {
		if seen[n.Name] {
			errs = append(errs, fmt.Sprintf("node %s listed twice", n.Name))
		}
		seen[n.Name] = true
	}
	return errs
}

// expandHome expands a leading "~/".
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("failed to expand %q: %w", p, err)
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

// Sample is a cluster file to start from (vipctl -init).
const Sample = `# vipctl cluster file: vipctl -c FILE
# One directive per line; "#" starts a comment. Settings before the first
# pair apply to every pair; socket, vipd and sudo inside a pair to that pair only.

# known_hosts ~/.ssh/known_hosts     # where host keys are checked and recorded
# socket /run/vipd/control.sock      # vipd's control socket on the nodes
sudo auto                            # auto (unless root), always or never

pair web                             # the name the console shows
    vip 198.51.100.100:80            # the VIP, and the port probed (default 80)
    node nginx-01=root@198.51.100.11 # NAME=[USER@]HOST[:PORT] or an ~/.ssh/config Host
    node nginx-02=root@198.51.100.12
`
