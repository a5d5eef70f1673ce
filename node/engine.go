package node

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/vrrp"
)

// EngineConfig converts one vrrp_instance of c into the configuration of
// the VRRP engine. Primary is unicast_src_ip, or left zero for the daemon to
// fill in with the interface's address when it opens the instance.
//
// keepalived's settings map one to one, with these choices:
//
//   - authentication PASS is VRRPv2 simple text (8 bytes, as keepalived);
//     AH is refused;
//   - garp_master_repeat is the number of gratuitous ARPs sent on becoming
//     master. keepalived sends them back to back and the same number again
//     garp_master_delay later; Linux ignores a second update of a neighbour
//     within its 1 s locktime, so vipd spreads them out instead: the last
//     one goes garp_master_delay after the first (at least 1.1 s apart);
//   - VIPs are kept when found at startup (vrrp.Config.AdoptVIPs): a
//     vipd restarted after a crash keeps serving instead of dropping them
//     and waiting out a Master_Down_Interval;
//   - an instance carries one family (the config refuses mixed ones): IPv6
//     VIPs make it VRRPv3 over IPv6, from the interface's link-local
//     address unless unicast_src_ip says otherwise;
//   - in multicast mode a master does not step down for a host it never
//     heard as a peer until that host has advertised for
//     vrrp.DefaultStrangerHold (keepalived does at once): a stranger's
//     forged adverts do not take the VIP away (vrrp.Config.StrangerHold).
func EngineConfig(c *config.Config, in *config.Instance) (vrrp.Config, error) {
	cfg := vrrp.Config{
		VRID:         uint8(in.VRID),
		Priority:     uint8(in.Priority),
		Version:      vrrp.Version(in.Version),
		Interval:     in.AdvertInt,
		NoPreempt:    in.Nopreempt,
		PreemptDelay: in.PreemptDelay,
		InitialState: vrrp.StateBackup,
		Primary:      in.UnicastSrc,
		GARPRepeat:   in.GARPRepeat,
		GARPInterval: garpInterval(in.GARPRepeat, in.GARPMasterDelay),
		StartupDelay: c.Global.StartupDelay,
		AdoptVIPs:    true,
		StrangerHold: vrrp.DefaultStrangerHold,
	}
	var errs []error
	if in.VRID < 1 || in.VRID > 255 {
		errs = append(errs, fmt.Errorf("virtual_router_id %d: want 1-255", in.VRID))
	}
	if in.Priority < 1 || in.Priority > 255 {
		errs = append(errs, fmt.Errorf("priority %d: want 1-255", in.Priority))
	}
	if in.State == config.Master {
		cfg.InitialState = vrrp.StateMaster
	}
	if in.Auth != nil {
		switch in.Auth.Type {
		case "PASS":
			cfg.AuthType, cfg.AuthPass = vrrp.AuthSimple, in.Auth.Pass
		default:
			errs = append(errs, fmt.Errorf("auth_type %s is not supported by vipd: use PASS or no authentication", in.Auth.Type))
		}
	}
	fam := vrrp.IPv4
	if len(in.VIPs) > 0 {
		fam = vrrp.FamilyOf(in.VIPs[0].Prefix.Addr())
	}
	if in.UnicastSrc.IsValid() && vrrp.FamilyOf(in.UnicastSrc) != fam {
		errs = append(errs, fmt.Errorf("unicast_src_ip %s: not an %v address like the instance's VIPs", in.UnicastSrc, fam))
	}
	for _, p := range in.UnicastPeers {
		if vrrp.FamilyOf(p) != fam {
			errs = append(errs, fmt.Errorf("unicast_peer %s: not an %v address like the instance's VIPs", p, fam))
			continue
		}
		cfg.Peers = append(cfg.Peers, p)
	}
	for _, v := range in.VIPs {
		if vrrp.FamilyOf(v.Prefix.Addr()) != fam {
			errs = append(errs, fmt.Errorf("virtual_ipaddress %s: an instance carries one address family", v.Prefix))
			continue
		}
		cfg.Addresses = append(cfg.Addresses, v.Prefix)
	}
	for _, v := range in.ExcludedVIPs {
		cfg.Excluded = append(cfg.Excluded, v.Prefix)
	}
	if fam == vrrp.IPv6 && cfg.Version != vrrp.Version3 {
		errs = append(errs, fmt.Errorf("virtual_ipaddress %s: VRRP over IPv6 is version 3", in.VIPs[0].Prefix))
	}
	return cfg, errors.Join(errs...)
}

// garpInterval spreads repeat announcements so that the last goes delay
// after the first, where keepalived's second burst would go; never closer
// than the engine's default, which beats Linux's 1 s neighbour locktime.
func garpInterval(repeat int, delay time.Duration) time.Duration {
	if repeat <= 1 || delay <= 0 {
		return vrrp.DefaultGARPInterval
	}
	return max(vrrp.DefaultGARPInterval, delay/time.Duration(repeat-1))
}

// vipSpec is one VIP and the interface it goes on.
type vipSpec struct {
	Prefix netip.Prefix
	Dev    string
	Label  string
}

// spec is everything the daemon takes from one vrrp_instance.
type spec struct {
	Name      string
	Interface string
	Engine    vrrp.Config // Logger unset; Primary zero unless unicast_src_ip
	VIPs      []vipSpec

	// Changed in place by a reload, without restarting the engine.
	Links  []string // interfaces that must be up: its own, then track_interface
	Tracks []string // vrrp_script and vipd_nginx_check names
	Notify config.Notify
	User   string // script_user: notify scripts run as this user
}

// newSpec builds the spec of in.
func newSpec(c *config.Config, in *config.Instance) (spec, error) {
	eng, err := EngineConfig(c, in)
	s := spec{
		Name:      in.Name,
		Interface: in.Interface,
		Engine:    eng,
		Links:     []string{in.Interface},
		Notify:    in.Notify,
		User:      c.Global.ScriptUser,
	}
	for _, v := range in.HeldVIPs() {
		dev := v.Dev
		if dev == "" {
			dev = in.Interface
		}
		s.VIPs = append(s.VIPs, vipSpec{Prefix: v.Prefix, Dev: dev, Label: v.Label})
	}
	for _, t := range in.TrackInterfaces {
		if !slices.Contains(s.Links, t.Name) {
			s.Links = append(s.Links, t.Name)
		}
	}
	for _, t := range in.Tracks {
		s.Tracks = append(s.Tracks, t.Name)
	}
	return s, err
}

// sameEngine reports whether a and b run the same engine, so that a reload
// from a to b keeps the instance running: everything but what a reload
// changes in place, and vrrp_startup_delay, which only matters at startup.
func sameEngine(a, b spec) bool {
	ea, eb := a.Engine, b.Engine
	ea.StartupDelay, eb.StartupDelay = 0, 0
	return a.Interface == b.Interface && slices.Equal(a.VIPs, b.VIPs) && reflect.DeepEqual(ea, eb)
}

// vipAddrs returns the addresses of every VIP of c's instances.
func vipAddrs(c *config.Config) []netip.Addr {
	var as []netip.Addr
	for _, in := range c.Instances {
		for _, v := range in.HeldVIPs() {
			as = append(as, v.Prefix.Addr())
		}
	}
	return as
}
