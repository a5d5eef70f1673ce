package cluster

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/vipkit/vip/ssh"
)

// Flags are the command-line flags that name a cluster: -c FILE, or one
// pair by --node and --vip. --socket, --sudo and --known-hosts apply to
// either, overriding the file.
type Flags struct {
	File       string
	Pair       string
	VIP        string
	Nodes      []string
	Socket     string
	Vipd       string
	Sudo       ssh.SudoMode
	KnownHosts string

	fs *flag.FlagSet
}

// Register defines the flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.File, "c", "", "cluster `file` with several pairs (vipctl -init prints a sample)")
	fs.StringVar(&f.Pair, "pair", "", "the pair's `name` (default: the VIP)")
	fs.StringVar(&f.VIP, "vip", "", "the pair's VIP and the port probed, `ADDR[:PORT]` (port 80 by default)")
	fs.Func("node", "a node, `NAME=[USER@]HOST[:PORT]` or NAME=SSH-CONFIG-HOST; repeat for each node", func(s string) error {
		f.Nodes = append(f.Nodes, s)
		return nil
	})
	fs.StringVar(&f.Socket, "socket", "", "vipd's control socket `path` on the nodes (default vipd's, /run/vipd/control.sock)")
	fs.StringVar(&f.Vipd, "vipd", "", "vipd's `path` on the nodes (default: vipd from the login's PATH)")
	fs.TextVar(&f.Sudo, "sudo", ssh.SudoAuto, "run vipd through sudo -n: `auto` (unless root), always or never")
	fs.StringVar(&f.KnownHosts, "known-hosts", "", "known_hosts `file` (default ~/.ssh/known_hosts or UserKnownHostsFile)")
}

// Cluster returns the cluster the parsed flags name. Its errors are usage
// errors, meant to be printed as they are.
func (f *Flags) Cluster() (*Cluster, error) {
	set := map[string]bool{}
	if f.fs != nil {
		f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	}
	var c *Cluster
	switch {
	case f.File != "" && (len(f.Nodes) > 0 || f.VIP != "" || f.Pair != ""):
		return nil, errors.New("give either -c FILE or --node/--vip/--pair, not both")
	case f.File != "":
		var err error
		if c, err = Load(f.File); err != nil {
			return nil, err
		}
	case len(f.Nodes) == 0 && f.VIP == "":
		return nil, errors.New("no cluster: give --node NAME=[USER@]HOST for each node and --vip ADDR[:PORT], or -c FILE; or try `vipctl demo`")
	default:
		p, err := f.pair()
		if err != nil {
			return nil, err
		}
		c = &Cluster{Pairs: []Pair{p}}
	}
	for i := range c.Pairs {
		if set["socket"] {
			c.Pairs[i].Socket = f.Socket
		}
		if set["vipd"] {
			c.Pairs[i].Vipd = f.Vipd
		}
		if set["sudo"] {
			c.Pairs[i].Sudo = f.Sudo
		}
	}
	if set["known-hosts"] {
		kh, err := expandHome(f.KnownHosts)
		if err != nil {
			return nil, err
		}
		c.KnownHosts = kh
	}
	return c, nil
}

func (f *Flags) pair() (Pair, error) {
	var errs []error
	p := Pair{Name: f.Pair, Socket: f.Socket, Vipd: f.Vipd, Sudo: f.Sudo}
	if f.VIP == "" {
		errs = append(errs, errors.New("--vip: missing: give the VIP the nodes share, ADDR[:PORT]"))
	} else if vip, err := ParseVIP(f.VIP); err != nil {
		errs = append(errs, fmt.Errorf("--vip: %w", err))
	} else {
		p.VIP = vip
	}
	if len(f.Nodes) == 0 {
		errs = append(errs, errors.New("--node: missing: give one per node, NAME=[USER@]HOST[:PORT]"))
	}
	for _, s := range f.Nodes {
		n, err := ParseNode(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--node: %w", err))
			continue
		}
		p.Nodes = append(p.Nodes, n)
	}
	if p.Socket != "" && !strings.HasPrefix(p.Socket, "/") {
		errs = append(errs, fmt.Errorf("--socket: %q is not an absolute path", p.Socket))
	}
	if p.Vipd != "" && !strings.HasPrefix(p.Vipd, "/") {
		errs = append(errs, fmt.Errorf("--vipd: %q is not an absolute path", p.Vipd))
	}
	if len(errs) > 0 {
		return Pair{}, errors.Join(errs...)
	}
	if p.Name == "" {
		p.Name = p.VIP.Addr().String()
	}
	for _, msg := range p.check() {
		errs = append(errs, errors.New(msg))
	}
	return p, errors.Join(errs...)
}
