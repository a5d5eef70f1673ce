package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// ifNameMax is IFNAMSIZ-1: Linux interface names are at most 15 bytes.
const ifNameMax = 15

func (dc *decoder) instance(n *node) {
	name, ok := dc.name(n)
	if !ok {
		return
	}
	if prev := dc.findInstance(name); prev != nil {
		dc.d.errorf(n.pos, "vrrp_instance %s: already defined at %s", name, prev.Pos)
		return
	}
	in := Instance{Name: name, Pos: n.pos, given: map[string]Pos{}}
	var tracks []*node
	ctx := "vrrp_instance " + name
	notify := func(kw string) handler {
		return handler{false, func(n *node) {
			if ns, ok := dc.notifyCommand(n); ok {
				in.Notify.set(kw, ns)
			}
		}}
	}
	dc.keywords(ctx, n.block, in.given, map[string]handler{
		"state": {false, func(n *node) {
			s, ok := dc.one(n, "MASTER or BACKUP")
			if !ok {
				return
			}
			switch st := State(s); {
			case st != Master && st != Backup:
				dc.d.errorf(n.pos, "state: expected MASTER or BACKUP, got %q", s)
			case in.State == Master && st == Backup:
				// keepalived keeps MASTER in this case.
				dc.d.errorf(n.pos, "state: BACKUP after MASTER; keepalived would keep MASTER")
			default:
				in.State = st
			}
		}},
		"interface": {false, func(n *node) {
			if s, ok := dc.ifName(n); ok {
				in.Interface = s
			}
		}},
		"virtual_router_id": {false, func(n *node) {
			if v, ok := dc.uintArg(n, 1, 255); ok {
				in.VRID = v
			}
		}},
		"priority": {false, func(n *node) {
			if v, ok := dc.uintArg(n, 1, 255); ok {
				in.Priority = v
			}
		}},
		"advert_int": {false, func(n *node) {
			if v, ok := dc.secondsArg(n, 10*time.Millisecond, 255*time.Second, false); ok {
				in.AdvertInt = v
			}
		}},
		"version": {false, func(n *node) {
			if v, ok := dc.uintArg(n, 2, 3); ok {
				in.Version = v
			}
		}},
		"nopreempt": {false, func(n *node) {
			if dc.none(n) {
				in.Nopreempt = true
			}
		}},
		"preempt": {false, func(n *node) {
			if dc.none(n) {
				in.Nopreempt = false
			}
		}},
		"preempt_delay": {false, func(n *node) {
			if v, ok := dc.secondsArg(n, 0, 1000*time.Second, false); ok {
				in.PreemptDelay = v
			}
		}},
		"authentication": {true, func(n *node) {
			if dc.none(n) {
				dc.auth(n, &in)
			}
		}},
		"virtual_ipaddress": {true, func(n *node) {
			if dc.none(n) {
				for _, e := range dc.entries(n) {
					if v, ok := dc.vip(e, "virtual_ipaddress"); ok {
						in.VIPs = append(in.VIPs, v)
					}
				}
			}
		}},
		"virtual_ipaddress_excluded": {true, func(n *node) {
			if dc.none(n) {
				for _, e := range dc.entries(n) {
					if v, ok := dc.vip(e, "virtual_ipaddress_excluded"); ok {
						in.ExcludedVIPs = append(in.ExcludedVIPs, v)
					}
				}
			}
		}},
		"track_script": {true, func(n *node) {
			if dc.none(n) {
				tracks = append(tracks, dc.entries(n)...)
			}
		}},
		"track_interface": {true, func(n *node) {
			if dc.none(n) {
				for _, e := range dc.entries(n) {
					if t, ok := dc.trackInterface(e); ok {
						in.TrackInterfaces = append(in.TrackInterfaces, t)
					}
				}
			}
		}},
		"unicast_src_ip": {false, func(n *node) {
			s, ok := dc.one(n, "an IP address")
			if !ok {
				return
			}
			a, err := parseIP(s)
			if err != nil {
				dc.d.errorf(n.pos, "unicast_src_ip: %v", err)
				return
			}
			in.UnicastSrc = a
		}},
		"unicast_peer": {true, func(n *node) {
			if dc.none(n) {
				for _, e := range dc.entries(n) {
					a, err := parseIP(e.words[0])
					if err != nil {
						dc.d.errorf(e.pos, "unicast_peer: %v", err)
						continue
					}
					if len(e.words) > 1 {
						dc.d.warnf(e.pos, "unicast_peer %s: options %s not supported by vipd; ignored", e.words[0], quoteList(e.words[1:]))
					}
					in.UnicastPeers = append(in.UnicastPeers, a)
				}
			}
		}},
		"notify_master": notify("notify_master"),
		"notify_backup": notify("notify_backup"),
		"notify_fault":  notify("notify_fault"),
		"notify_stop":   notify("notify_stop"),
		"notify":        notify("notify"),
		"garp_master_delay": {false, func(n *node) {
			if v, ok := dc.secondsArg(n, 0, 3600*time.Second, true); ok {
				in.GARPMasterDelay = v
			}
		}},
		"garp_master_repeat": {false, func(n *node) {
			if v, ok := dc.uintArg(n, 1, 1000); ok {
				in.GARPRepeat = v
			}
		}},
	})
	dc.instances[name] = len(dc.cfg.Instances)
	dc.cfg.Instances = append(dc.cfg.Instances, in)
	dc.instSeq = append(dc.instSeq, dc.seq)
	dc.trackNode = append(dc.trackNode, tracks)
}

func (dc *decoder) ifName(n *node) (string, bool) {
	s, ok := dc.one(n, "an interface name")
	if ok && (len(s) > ifNameMax || strings.ContainsAny(s, "/:")) {
		dc.d.errorf(n.pos, "%s: expected an interface name of at most %d characters without / or :, got %q", n.keyword(), ifNameMax, s)
		return "", false
	}
	return s, ok
}

// entries returns the lines of a value block such as virtual_ipaddress.
func (dc *decoder) entries(n *node) []*node {
	var out []*node
	for _, e := range n.block {
		if e.hasBlock {
			dc.d.errorf(e.pos, "%s: unexpected block after %q", n.keyword(), e.words[0])
			continue
		}
		out = append(out, e)
	}
	return out
}

func (dc *decoder) auth(n *node, in *Instance) {
	a := &Auth{}
	given := map[string]Pos{}
	dc.keywords("authentication", n.block, given, map[string]handler{
		"auth_type": {false, func(n *node) {
			s, ok := dc.one(n, "PASS or AH")
			if !ok {
				return
			}
			if s != "PASS" && s != "AH" {
				dc.d.errorf(n.pos, "auth_type: expected PASS or AH, got %q", s)
				return
			}
			a.Type = s
		}},
		"auth_pass": {false, func(n *node) {
			s, ok := dc.one(n, "a password")
			if !ok {
				return
			}
			if len(s) > 8 {
				dc.d.warnf(n.pos, "auth_pass: %d characters; keepalived uses only the first 8, and so does vipd", len(s))
				s = s[:8]
			}
			a.Pass = s
		}},
	})
	_, typed := given["auth_type"]
	_, passed := given["auth_pass"]
	switch {
	case typed && !passed:
		// keepalived drops authentication without a password.
		dc.d.errorf(n.pos, "authentication: auth_type without auth_pass; keepalived would send no authentication")
	case passed && !typed:
		dc.d.errorf(n.pos, "authentication: auth_pass without auth_type; keepalived would send no authentication")
	case typed && passed && a.Type != "" && a.Pass != "":
		in.Auth = a
	}
}

// vip parses ADDR[/PREFIX] [dev IF] [label LABEL] [brd ADDR|+|-] [scope S].
func (dc *decoder) vip(e *node, block string) (VIP, bool) {
	w := e.words
	p, err := parseVIPAddr(w[0])
	if err != nil {
		dc.d.errorf(e.pos, "%s: %v", block, err)
		return VIP{}, false
	}
	v := VIP{Prefix: p, Pos: e.pos}
	// Options keepalived knows that vipd ignores, with their value count.
	ignored := map[string]int{
		"peer": 1, "preferred_lft": 1, "track_group": 1, "home": 0, "-nodad": 0,
		"mngtmpaddr": 0, "noprefixroute": 0, "autojoin": 0, "no_track": 0,
	}
	for i := 1; i < len(w); i++ {
		opt := w[i]
		var val string
		switch opt {
		case "dev", "label", "brd", "broadcast", "scope":
			if i+1 == len(w) {
				dc.d.errorf(e.pos, "%s %s: %s: expected a value, got nothing", block, w[0], opt)
				return VIP{}, false
			}
			i++
			val = w[i]
		}
		switch opt {
		case "dev":
			if v.Dev != "" {
				dc.d.errorf(e.pos, "%s %s: dev given twice", block, w[0])
				return VIP{}, false
			}
			if len(val) > ifNameMax {
				dc.d.errorf(e.pos, "%s %s: dev: expected an interface name of at most %d characters, got %q", block, w[0], ifNameMax, val)
				return VIP{}, false
			}
			v.Dev = val
		case "label":
			if len(val) > ifNameMax {
				dc.d.errorf(e.pos, "%s %s: label: expected at most %d characters, got %q", block, w[0], ifNameMax, val)
				return VIP{}, false
			}
			v.Label = val
		case "brd", "broadcast":
			if p.Addr().Is6() {
				dc.d.errorf(e.pos, "%s %s: IPv6 has no broadcast address", block, w[0])
				return VIP{}, false
			}
			if val != "+" && val != "-" {
				if a, err := netip.ParseAddr(val); err != nil || !a.Is4() {
					dc.d.errorf(e.pos, "%s %s: brd: expected an IPv4 address, + or -, got %q", block, w[0], val)
					return VIP{}, false
				}
			}
			v.Brd = val
		case "scope":
			if !validScope(val) {
				dc.d.errorf(e.pos, "%s %s: scope: expected host, link, global, site, nowhere or 0-255, got %q", block, w[0], val)
				return VIP{}, false
			}
			if p.Addr().Is6() {
				dc.d.errorf(e.pos, "%s %s: IPv6 addresses take no scope (keepalived would ignore it)", block, w[0])
				return VIP{}, false
			}
			v.Scope = val
		default:
			n, known := ignored[opt]
			if !known {
				dc.d.warnf(e.pos, "%s %s: unknown option %q; ignored", block, w[0], opt)
				continue
			}
			dc.d.warnf(e.pos, "%s %s: option %q not supported by vipd; ignored", block, w[0], opt)
			i += n
		}
	}
	if v.Label != "" && p.Addr().Is6() {
		dc.d.errorf(e.pos, "%s %s: IPv6 addresses take no label (keepalived would ignore it)", block, w[0])
		return VIP{}, false
	}
	return v, true
}

func validScope(s string) bool {
	switch s {
	case "host", "link", "global", "site", "nowhere", "universe":
		return true
	}
	_, ok := parseUint(s, 0, 255)
	return ok
}

// trackInterface parses IF [weight N [reverse]].
func (dc *decoder) trackInterface(e *node) (TrackInterface, bool) {
	w := e.words
	if len(w[0]) > ifNameMax {
		dc.d.errorf(e.pos, "track_interface: expected an interface name of at most %d characters, got %q", ifNameMax, w[0])
		return TrackInterface{}, false
	}
	t := TrackInterface{Name: w[0], Pos: e.pos}
	if len(w) > 1 {
		if w[1] != "weight" {
			dc.d.errorf(e.pos, "track_interface %s: expected \"weight N\", got %q", w[0], w[1])
			return TrackInterface{}, false
		}
		var ok bool
		if t.Weight, _, ok = dc.weight(e, w[2:]); !ok {
			return TrackInterface{}, false
		}
	}
	return t, true
}

// finish applies defaults that depend on other blocks and checks what
// keepalived would change with no more than a log line.
func (dc *decoder) finish() {
	g := &dc.cfg.Global
	used := map[string]bool{}
	for i := range dc.cfg.Instances {
		in := &dc.cfg.Instances[i]
		dc.finishInstance(in, g)
		for _, e := range dc.trackNode[i] {
			if t, ok := dc.track(in, dc.instSeq[i], e); ok {
				in.Tracks = append(in.Tracks, t)
				used[t.Name] = true
			}
		}
		// vipd changes no priority: a failure means FAULT, as weight 0
		// does, where keepalived would lower the priority (which under
		// nopreempt never moves the VIP). Explain's weightText says so too.
		for _, t := range in.Tracks {
			if t.Weight != 0 {
				dc.d.warnf(t.Pos, "track_script %s: weight %d: vipd does not change priorities; a failure puts vrrp_instance %s in FAULT, as weight 0 does (a lowered priority would never move the VIP under nopreempt)", t.Name, t.Weight, in.Name)
			}
		}
		for _, t := range in.TrackInterfaces {
			if t.Weight != 0 {
				dc.d.warnf(t.Pos, "track_interface %s: weight %d: vipd does not change priorities; the interface going down puts vrrp_instance %s in FAULT, as weight 0 does", t.Name, t.Weight, in.Name)
			}
		}
	}
	dc.finishSyncGroups(used)
	for _, s := range dc.cfg.Scripts {
		if !used[s.Name] {
			dc.d.warnf(s.Pos, "vrrp_script %s: not tracked by any vrrp_instance", s.Name)
		}
	}
	for _, c := range dc.cfg.NginxChecks {
		if !used[c.Name] {
			dc.d.warnf(c.Pos, "vipd_nginx_check %s: not tracked by any vrrp_instance (add it to a track_script block)", c.Name)
		}
	}
	dc.conflicts()
}

func (dc *decoder) finishInstance(in *Instance, g *Global) {
	pos := in.Pos
	where := func(kw string) Pos {
		if p, ok := in.given[kw]; ok {
			return p
		}
		return pos
	}
	if in.VRID == 0 {
		if _, ok := in.given["virtual_router_id"]; !ok && !dc.skipped {
			dc.d.errorf(pos, "vrrp_instance %s: virtual_router_id is required (an integer 1-255, the same on both nodes)", in.Name)
		}
	}
	if in.Interface == "" {
		if _, ok := in.given["interface"]; !ok && !dc.skipped {
			dc.d.errorf(pos, "vrrp_instance %s: interface is required", in.Name)
		}
	}
	if in.State == "" {
		in.State = Backup
	}
	if in.Priority == 0 {
		in.Priority = DefaultPriority
		if in.State == Master {
			in.Priority = OwnerPriority
			if _, ok := in.given["priority"]; !ok {
				dc.d.warnf(where("state"), "state MASTER without priority: keepalived makes this node the address owner, priority 255, which always takes the VIP back")
			}
		}
	}
	if in.Version == 0 {
		in.Version = g.VRRPVersion
		// keepalived 2.2.7 runs an instance with IPv6 addresses as
		// VRRPv3 unless the instance itself says otherwise: VRRPv2 is
		// IPv4 only, and vrrp_version in global_defs does not apply.
		if len(in.VIPs) > 0 && in.VIPs[0].Prefix.Addr().Is6() {
			in.Version = 3
		}
	}
	if in.GARPMasterDelay == 0 {
		if _, ok := in.given["garp_master_delay"]; !ok {
			in.GARPMasterDelay = g.GARPMasterDelay
		}
	}
	if in.GARPRepeat == 0 {
		in.GARPRepeat = g.GARPMasterRepeat
	}

	// advert_int: v2 carries whole seconds in 8 bits, v3 centiseconds in
	// 12 bits. keepalived rounds or clamps anything else, quietly enough.
	if in.AdvertInt == 0 {
		in.AdvertInt = DefaultAdvertInt
	} else if p := where("advert_int"); in.Version == 2 {
		if in.AdvertInt%time.Second != 0 {
			dc.d.errorf(p, "advert_int: %ss is not a whole number of seconds; VRRPv2 carries whole seconds (keepalived would round it). Use vrrp_version 3 for fractions", seconds(in.AdvertInt))
		}
	} else {
		if in.AdvertInt%(10*time.Millisecond) != 0 {
			dc.d.errorf(p, "advert_int: %ss is not a multiple of 0.01 s; VRRPv3 carries centiseconds (keepalived would round it)", seconds(in.AdvertInt))
		}
		if in.AdvertInt > 4095*10*time.Millisecond {
			dc.d.errorf(p, "advert_int: %ss is more than 40.95 s, the VRRPv3 maximum (keepalived would clamp it)", seconds(in.AdvertInt))
		}
	}

	// What keepalived resets with only a log line.
	if in.Nopreempt {
		p := where("nopreempt")
		if in.State == Master {
			dc.d.errorf(p, "nopreempt with state MASTER: keepalived drops nopreempt with only a log line, so this node would take the VIP back whenever it starts; use state BACKUP on both nodes")
		}
		if in.Priority == OwnerPriority {
			dc.d.errorf(p, "nopreempt with priority 255: the address owner always preempts, so keepalived drops nopreempt with only a log line; use at most 254")
		}
		if in.PreemptDelay > 0 {
			dc.d.errorf(where("preempt_delay"), "preempt_delay with nopreempt: keepalived drops preempt_delay with only a log line, as there is no preemption to delay")
		}
	}
	if in.PreemptDelay > 0 && in.State == Master {
		dc.d.errorf(where("preempt_delay"), "preempt_delay with state MASTER: keepalived drops preempt_delay with only a log line; use state BACKUP")
	}
	// vrrp_strict: what keepalived changes or refuses in strict mode
	// (vrrp_complete_instance), in its order.
	if g.Strict {
		gp := g.given["vrrp_strict"]
		if (in.State == Master) != (in.Priority == OwnerPriority) {
			want := Backup
			if in.Priority == OwnerPriority {
				want = Master
			}
			dc.d.errorf(where("state"), "state %s with priority %d under vrrp_strict (%s): keepalived says \"State MASTER must match being address owner\" and starts the instance as %s; use state MASTER only with priority 255",
				in.State, in.Priority, gp, want)
		}
		if in.Auth != nil {
			dc.d.errorf(where("authentication"), "authentication under vrrp_strict (%s): keepalived says \"Strict mode does not support authentication. Ignoring.\" and sends none; remove the block or vrrp_strict", gp)
		}
		if len(in.UnicastPeers) > 0 {
			dc.d.errorf(where("unicast_peer"), "unicast_peer under vrrp_strict (%s): keepalived refuses unicast peers in strict mode on an interface that can multicast", gp)
		}
		if len(in.VIPs) == 0 {
			dc.d.errorf(pos, "vrrp_instance %s: no virtual_ipaddress under vrrp_strict (%s): keepalived refuses the instance", in.Name, gp)
		}
	}
	if in.Auth != nil && !g.Strict {
		switch {
		case in.Auth.Type == "AH":
			// The real blocker first: keepalived's other AH rules
			// (not with IPv6, not with state MASTER) do not matter to a
			// file vipd cannot run.
			dc.d.errorf(where("authentication"), "authentication: auth_type AH is not supported by vipd; use PASS or no authentication (on both nodes)")
		case in.Version == 3:
			dc.d.errorf(where("authentication"), "authentication: VRRPv3 has no authentication; keepalived would ignore the block")
		}
	}

	// Addresses: one family per instance, IPv6 only with VRRPv3.
	if len(in.VIPs) == 0 && !dc.skipped {
		if in.Version == 3 {
			dc.d.errorf(pos, "vrrp_instance %s: virtual_ipaddress is required: VRRPv3 needs at least one address", in.Name)
		} else {
			dc.d.warnf(pos, "vrrp_instance %s: no virtual_ipaddress; the instance would move nothing", in.Name)
		}
	}
	var six bool
	for i, v := range in.VIPs {
		is6 := v.Prefix.Addr().Is6()
		if i == 0 {
			six = is6
		} else if is6 != six {
			dc.d.errorf(v.Pos, "virtual_ipaddress %s: an instance carries one address family; keepalived would not advertise this one. Use a second vrrp_instance", v.Prefix)
		}
		if is6 && in.Version == 2 {
			dc.d.errorf(v.Pos, "virtual_ipaddress %s: VRRPv2 is IPv4 only; set vrrp_version 3", v.Prefix)
		}
	}
	for _, p := range in.UnicastPeers {
		if in.UnicastSrc.IsValid() && p.Is6() != in.UnicastSrc.Is6() {
			dc.d.errorf(where("unicast_peer"), "unicast_peer %s: not the family of unicast_src_ip %s", p, in.UnicastSrc)
		}
	}
}

// track resolves one track_script entry: NAME [weight N [reverse]].
func (dc *decoder) track(in *Instance, seq int, e *node) (Track, bool) {
	return dc.trackFor("vrrp_instance "+in.Name, in.Tracks, seq, e)
}

// trackFor resolves a track_script entry of owner (a vrrp_instance or a
// vrrp_sync_group, as it is named in messages), which already has tracks.
func (dc *decoder) trackFor(owner string, tracks []Track, seq int, e *node) (Track, bool) {
	w := e.words
	name := w[0]
	t := Track{Name: name, Pos: e.pos}
	var weightGiven, reverse bool
	if len(w) > 1 {
		if w[1] != "weight" {
			// keepalived ignores the whole entry.
			dc.d.errorf(e.pos, "track_script %s: expected \"weight N\", got %q", name, w[1])
			return Track{}, false
		}
		var ok bool
		if t.Weight, reverse, ok = dc.weight(e, w[2:]); !ok {
			return Track{}, false
		}
		weightGiven = true
	}
	for _, p := range tracks {
		if p.Name == name {
			dc.d.warnf(e.pos, "track_script %s: tracked twice in %s (keepalived ignores the second)", name, owner)
			return Track{}, false
		}
	}
	if s := dc.findScript(name); s != nil {
		if dc.scriptSeq[name] > seq {
			// keepalived looks the script up while reading the instance.
			dc.d.errorf(e.pos, "track_script %s: vrrp_script %s is defined later, at %s; keepalived would ignore this track with only a log line. Move the vrrp_script above %s", name, name, s.Pos, owner)
			return Track{}, false
		}
		if !weightGiven {
			t.Weight = s.Weight
			reverse = s.Reverse
		}
		if reverse {
			dc.d.warnf(e.pos, "track_script %s: reverse weights mean nothing to vipd, which changes no priority", name)
		}
		return t, true
	}
	if c := dc.findCheck(name); c != nil {
		if reverse {
			dc.d.errorf(e.pos, "track_script %s: a vipd_nginx_check takes no \"reverse\"", name)
			return Track{}, false
		}
		t.Nginx = true
		if !weightGiven {
			t.Weight = c.Weight
		}
		return t, true
	}
	dc.d.errorf(e.pos, "track_script %s: no vrrp_script or vipd_nginx_check of that name; keepalived would ignore this track with only a log line", name)
	return Track{}, false
}

// conflicts finds instances that would fight over a VRID or an address.
func (dc *decoder) conflicts() {
	type vridKey struct {
		ifname string
		vrid   int
		six    bool
	}
	vrids := map[vridKey]*Instance{}
	addrs := map[netip.Addr]*Instance{}
	for i := range dc.cfg.Instances {
		in := &dc.cfg.Instances[i]
		six := len(in.VIPs) > 0 && in.VIPs[0].Prefix.Addr().Is6()
		if in.VRID != 0 && in.Interface != "" {
			k := vridKey{in.Interface, in.VRID, six}
			if prev := vrids[k]; prev != nil {
				dc.d.errorf(in.Pos, "vrrp_instance %s: virtual_router_id %d on %s is already used by vrrp_instance %s at %s", in.Name, in.VRID, in.Interface, prev.Name, prev.Pos)
			} else {
				vrids[k] = in
			}
		}
		for _, v := range in.HeldVIPs() {
			a := v.Prefix.Addr()
			if prev := addrs[a]; prev != nil && prev != in {
				dc.d.errorf(v.Pos, "%s %s: already carried by vrrp_instance %s at %s", in.VIPBlock(v), a, prev.Name, prev.Pos)
			} else if prev == in {
				dc.d.warnf(v.Pos, "%s %s: listed twice", in.VIPBlock(v), a)
			} else {
				addrs[a] = in
			}
		}
	}
}

// String returns the entry as keepalived writes it.
func (v VIP) String() string {
	var b strings.Builder
	b.WriteString(v.Prefix.String())
	for _, kv := range [][2]string{{"brd", v.Brd}, {"dev", v.Dev}, {"scope", v.Scope}, {"label", v.Label}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, " %s %s", kv[0], kv[1])
		}
	}
	return b.String()
}
