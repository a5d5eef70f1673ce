package node

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"slices"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/vrrp"
)

// Check returns what vipd itself finds in a configuration the parser
// accepted: errors for what it would refuse to run (the engine's own
// checks, run without opening anything; the parser ran the guards'), and
// warnings where it behaves differently from keepalived. sys, when not nil,
// is asked whether the interfaces exist here.
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
			cfg.Primary = standInPrimary(primaryFamily(cfg.Addresses), cfg.Peers)
		}
		if _, err := vrrp.NewInstance(cfg, nopConn{}, nopAddresser{}, nopAnnouncer{}); err != nil {
			errorf(in.Pos, "vrrp_instance %s: %v", in.Name, err)
		}
		needIf(in.Interface, in.At("interface"))
		for _, v := range in.HeldVIPs() {
			if v.Dev != "" {
				needIf(v.Dev, v.Pos)
			}
			if v.Brd != "" || v.Scope != "" {
				warnf(v.Pos, "%s %s: brd and scope are not supported by vipd; the address is added with the kernel's defaults", in.VIPBlock(v), v.Prefix)
			}
		}
		for _, t := range in.TrackInterfaces {
			needIf(t.Name, t.Pos)
		}
	}
	if sys != nil {
		warns = append(warns, missingScripts(c)...)
		for _, name := range ifOrder {
			if _, err := sys.LinkUp(name); err != nil {
				warnf(ifaces[name], "interface %s: not found on this host (%v); vipd retries it every %v", name, err, DefaultRetryInterval)
			}
		}
	}
	return errs, warns
}

// lookPath finds a program as keepalived's check_script_secure does: a
// name without a slash is searched in PATH. A variable for tests.
var lookPath = exec.LookPath

// missingScripts warns about each vrrp_script and notify script whose
// program does not exist here: keepalived disables such a track script
// ("Disabling track script ... since not found/accessible") or notify
// script, where vipd runs it and sees it fail (a track_script then holds
// the instance in FAULT).
func missingScripts(c *config.Config) []config.Diagnostic {
	var warns []config.Diagnostic
	missing := func(argv []string) bool {
		if len(argv) == 0 {
			return false
		}
		_, err := lookPath(argv[0])
		return err != nil
	}
	for _, s := range c.Scripts {
		if missing(s.Command) {
			warns = append(warns, config.Diagnostic{File: s.Pos.File, Line: s.Pos.Line, Msg: fmt.Sprintf(
				"vrrp_script %s: %s not found or not executable here: keepalived disables the script and ignores its track_script entries; vipd runs it, it fails, and each instance tracking it stays in FAULT",
				s.Name, s.Command[0])})
		}
	}
	notify := func(owner string, n config.Notify) {
		for _, h := range n.Hooks() {
			if missing(h.Command) {
				warns = append(warns, config.Diagnostic{File: h.Pos.File, Line: h.Pos.Line, Msg: fmt.Sprintf(
					"%s: %s of %s not found or not executable here: keepalived would not run it; vipd tries and logs the failure", h.Keyword, h.Command[0], owner)})
			}
		}
	}
	for _, in := range c.Instances {
		notify("vrrp_instance "+in.Name, in.Notify)
	}
	for _, g := range c.SyncGroups {
		notify("vrrp_sync_group "+g.Name, g.Notify)
	}
	return warns
}

// standInPrimary returns an address for checking an engine configuration
// whose primary is known only at run time; it is never used on a network.
func standInPrimary(fam vrrp.Family, peers []netip.Addr) netip.Addr {
	a := netip.MustParseAddr("198.51.100.1")
	if fam == vrrp.IPv6 {
		a = netip.MustParseAddr("fe80::1") // the link-local address, as at run time
	}
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
			if len(c.Instances) == 0 {
				// The test succeeds only when something will run. (A reload
				// to such a file is refused by reloadHazards.)
				diags = append(diags, config.Diagnostic{File: path, Msg: "no vrrp_instance: vipd would run nothing (keepalived would run no VRRP either)"})
			}
		}
	}
	for _, w := range warns {
		fmt.Fprintf(stderr, "%s: warning: %s\n", config.Pos{File: w.File, Line: w.Line}, w.Msg)
	}
	for _, e := range diags {
		fmt.Fprintln(stderr, e)
	}
	if len(diags) > 0 {
		fmt.Fprintf(stderr, "vipd: configuration file %s test failed: %d error(s)\n", path, diags.Count())
		return false
	}
	if err := c.Explain(stdout); err != nil {
		fmt.Fprintf(stderr, "vipd: %v\n", err)
		return false
	}
	fmt.Fprintf(stderr, "vipd: configuration file %s test is successful (%d warning(s))\n", path, config.CountDiagnostics(warns))
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
