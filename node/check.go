package node

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/vrrp"
)

// Check returns what vipd itself finds in a configuration the parser
// accepted: errors for what it would refuse to run (the engine's and the
// guards' own checks, run without opening anything), and warnings where it
// behaves differently from keepalived. sys, when not nil, is asked whether
// the interfaces exist here.
func Check(c *config.Config, sys System) (errs, warns []config.Diagnostic) {
	at := func(p config.Pos) config.Diagnostic { return config.Diagnostic{File: p.File, Line: p.Line} }
	errorf := func(p config.Pos, format string, args ...any) {
		d := at(p)
		d.Msg = fmt.Sprintf(format, args...)
		errs = append(errs, d)
	}
	warnf := func(p config.Pos, format string, args ...any) {
		d := at(p)
		d.Msg = fmt.Sprintf(format, args...)
		warns = append(warns, d)
	}
	ifaces := map[string]config.Pos{}
	var ifOrder []string
	needIf := func(name string, p config.Pos) {
		if _, ok := ifaces[name]; !ok && name != "" {
			ifaces[name] = p
			ifOrder = append(ifOrder, name)
		}
	}
	for i := range c.Instances {
		in := &c.Instances[i]
		s, err := newSpec(c, in)
		if err != nil {
			for _, e := range unjoin(err) {
				errorf(in.Pos, "vrrp_instance %s: %v", in.Name, e)
			}
			continue
		}
		// The engine's own checks, on a stand-in primary address when
		// the interface's is only known at run time.
		cfg := s.Engine
		if !cfg.Primary.IsValid() {
			cfg.Primary = standInPrimary(cfg.Peers)
		}
		if _, err := vrrp.NewInstance(cfg, nopConn{}, nopAddresser{}, nopAnnouncer{}); err != nil {
			errorf(in.Pos, "vrrp_instance %s: %v", in.Name, err)
		}
		needIf(in.Interface, in.Pos)
		for _, v := range in.VIPs {
			if v.Dev != "" {
				needIf(v.Dev, v.Pos)
			}
			if v.Brd != "" || v.Scope != "" {
				warnf(v.Pos, "virtual_ipaddress %s: brd and scope are not supported by vipd; the address is added with the kernel's defaults", v.Prefix)
			}
		}
		for _, t := range in.Tracks {
			if t.Weight != 0 {
				warnf(t.Pos, "track_script %s: weight %d: vipd does not change priorities; a failure puts vrrp_instance %s in FAULT, as weight 0 does (a lowered priority would never move the VIP under nopreempt)", t.Name, t.Weight, in.Name)
			}
		}
		for _, t := range in.TrackInterfaces {
			needIf(t.Name, t.Pos)
			if t.Weight != 0 {
				warnf(t.Pos, "track_interface %s: weight %d: vipd does not change priorities; the interface going down puts vrrp_instance %s in FAULT, as weight 0 does", t.Name, t.Weight, in.Name)
			}
		}
	}
	for _, def := range guardDefs(c) {
		if _, err := newChecker(def, nil, nil, nil); err != nil {
			errorf(def.Pos, "%v", err)
		}
	}
	if sys != nil {
		for _, name := range ifOrder {
			if _, err := sys.LinkUp(name); err != nil {
				warnf(ifaces[name], "interface %s: not found on this host (%v); vipd retries it every %v", name, err, DefaultRetryInterval)
			}
		}
	}
	return errs, warns
}

// standInPrimary returns an address for checking an engine configuration
// whose primary is known only at run time; it is never used on a network.
func standInPrimary(peers []netip.Addr) netip.Addr {
	a := netip.MustParseAddr("198.51.100.1")
	for slices.Contains(peers, a) {
		a = a.Next()
	}
	return a
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// CheckFile is `vipd -t -f path`: it loads the file as the daemon would and
// reports like `nginx -t`. Warnings and errors go to stderr as
// "file:line: warning: ..." and "file:line: ...", then, when the file is
// usable, the effective values and failover budget (config.Explain) go to
// stdout. It returns false when vipd would refuse the file.
func CheckFile(stdout, stderr io.Writer, path string, sys System) bool {
	c, err := config.Load(path)
	var diags config.ErrorList
	if err != nil && !errors.As(err, &diags) {
		fmt.Fprintf(stderr, "vipd: %v\n", err)
		fmt.Fprintf(stderr, "vipd: configuration file %s test failed\n", path)
		return false
	}
	var warns []config.Diagnostic
	if c != nil {
		warns = c.Warnings
		if err == nil {
			e, w := Check(c, sys)
			diags = append(diags, e...)
			warns = append(warns, w...)
		}
	}
	for _, w := range warns {
		fmt.Fprintf(stderr, "%s:%d: warning: %s\n", w.File, w.Line, w.Msg)
	}
	for _, e := range diags {
		fmt.Fprintf(stderr, "%s:%d: %s\n", e.File, e.Line, e.Msg)
	}
	if len(diags) > 0 {
		fmt.Fprintf(stderr, "vipd: configuration file %s test failed: %d error(s)\n", path, len(diags))
		return false
	}
	if err := c.Explain(stdout); err != nil {
		fmt.Fprintf(stderr, "vipd: %v\n", err)
		return false
	}
	fmt.Fprintf(stderr, "vipd: configuration file %s test is successful (%d warning(s))\n", path, len(warns))
	return true
}

// No-op OS effects, for checking an engine configuration.
type (
	nopConn      struct{}
	nopAddresser struct{}
	nopAnnouncer struct{}
)

func (nopConn) ReadFrom([]byte) (int, vrrp.PacketInfo, error) {
	return 0, vrrp.PacketInfo{}, errors.New("not a socket")
}
func (nopConn) WriteTo([]byte, netip.Addr) error           { return nil }
func (nopConn) SetReadDeadline(time.Time) error            { return nil }
func (nopConn) Close() error                               { return nil }
func (nopAddresser) AddAddress(netip.Prefix) error         { return nil }
func (nopAddresser) RemoveAddress(netip.Prefix) error      { return nil }
func (nopAddresser) HasAddress(netip.Prefix) (bool, error) { return false, nil }
func (nopAnnouncer) Announce(netip.Addr) error             { return nil }
