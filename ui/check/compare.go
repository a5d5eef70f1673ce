package check

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/vrrp"
)

// SkewAdvice is how much slower than at the fastest priority a handover
// may be before the priority draws a warning: below it, no operator would
// notice the difference.
const SkewAdvice = 50 * time.Millisecond

// FastPriority is the highest priority a nopreempt pair may use (255 is
// the address owner, which always preempts): the fastest Skew_Time.
const FastPriority = 254

// Compare reports every mismatch and warning between a and b.
func Compare(a, b Node) Report {
	c := &comparer{a: a, b: b}
	for _, side := range []struct {
		n   Node
		set func(config.Pos) (Place, Place)
	}{
		{a, func(p config.Pos) (Place, Place) { return Place{Pos: p}, Place{} }},
		{b, func(p config.Pos) (Place, Place) { return Place{}, Place{Pos: p} }},
	} {
		for _, d := range side.n.Drift {
			pa, pb := side.set(config.Pos{File: d.File})
			c.add(Warning, "", "loaded", pa, pb, "%s: %s", side.n.Name, d.Msg)
		}
	}
	if a.Config != nil && b.Config != nil {
		c.instances()
	}
	c.problems()
	// Mismatches first, each kind in the order found.
	slices.SortStableFunc(c.out, func(x, y Finding) int { return int(x.Kind) - int(y.Kind) })
	return Report{A: a, B: b, Findings: c.out}
}

type comparer struct {
	a, b Node
	out  []Finding
}

func (c *comparer) add(k Kind, inst, topic string, pa, pb Place, format string, args ...any) {
	c.out = append(c.out, Finding{Kind: k, Instance: inst, Topic: topic, Msg: fmt.Sprintf(format, args...), A: pa, B: pb})
}

// problems are node/config's errors, as warnings, unless a finding already
// points at the same line.
func (c *comparer) problems() {
	taken := map[config.Pos]bool{}
	for _, f := range c.out {
		taken[f.A.Pos], taken[f.B.Pos] = true, true
	}
	for i, n := range []Node{c.a, c.b} {
		for _, d := range n.Problems {
			p := config.Pos{File: d.File, Line: d.Line}
			if taken[p] {
				continue
			}
			pa, pb := Place{Pos: p}, Place{}
			if i == 1 {
				pa, pb = pb, pa
			}
			c.add(Warning, "", "config", pa, pb, "%s: %s", n.Name, d.Msg)
		}
	}
}

// match pairs the instances: by VRID and interface, then by name, then by
// VRID alone. It returns the pairs and what is left on each side.
func match(a, b []config.Instance) (pairs [][2]*config.Instance, onlyA, onlyB []*config.Instance) {
	usedA, usedB := make([]bool, len(a)), make([]bool, len(b))
	pass := func(same func(x, y *config.Instance) bool) {
		for i := range a {
			if usedA[i] {
				continue
			}
			for j := range b {
				if !usedB[j] && same(&a[i], &b[j]) {
					usedA[i], usedB[j] = true, true
					pairs = append(pairs, [2]*config.Instance{&a[i], &b[j]})
					break
				}
			}
		}
	}
	pass(func(x, y *config.Instance) bool { return x.VRID == y.VRID && x.Interface == y.Interface })
	pass(func(x, y *config.Instance) bool { return x.Name == y.Name })
	pass(func(x, y *config.Instance) bool { return x.VRID == y.VRID })
	for i := range a {
		if !usedA[i] {
			onlyA = append(onlyA, &a[i])
		}
	}
	for j := range b {
		if !usedB[j] {
			onlyB = append(onlyB, &b[j])
		}
	}
	// Config order of a, as a reader expects: the instances are one array.
	slices.SortStableFunc(pairs, func(x, y [2]*config.Instance) int { return indexIn(a, x[0]) - indexIn(a, y[0]) })
	return pairs, onlyA, onlyB
}

func indexIn(all []config.Instance, in *config.Instance) int {
	for i := range all {
		if &all[i] == in {
			return i
		}
	}
	return len(all)
}

func label(in *config.Instance) string {
	return fmt.Sprintf("%s (VRID %d on %s)", in.Name, in.VRID, in.Interface)
}

func pairLabel(x, y *config.Instance) string {
	if x.Name == y.Name && x.VRID == y.VRID && x.Interface == y.Interface {
		return label(x)
	}
	return label(x) + " / " + label(y)
}

func (c *comparer) instances() {
	pairs, onlyA, onlyB := match(c.a.Config.Instances, c.b.Config.Instances)
	for _, in := range onlyA {
		c.add(Mismatch, label(in), "vrrp_instance", Place{Pos: in.Pos}, Place{},
			"only on %s: nothing on %s backs it up (or it is there under another VRID)", c.a.Name, c.b.Name)
	}
	for _, in := range onlyB {
		c.add(Mismatch, label(in), "vrrp_instance", Place{}, Place{Pos: in.Pos},
			"only on %s: nothing on %s backs it up (or it is there under another VRID)", c.b.Name, c.a.Name)
	}
	for _, p := range pairs {
		ic := instComparer{comparer: c, x: p[0], y: p[1], label: pairLabel(p[0], p[1])}
		ic.compare()
	}
}

type instComparer struct {
	*comparer
	x, y  *config.Instance // on a, on b
	label string
}

// where is the place of keyword kw in in; for an unset keyword, the
// global keyword (if any) or the instance block, marked as a default.
func where(cfg *config.Config, in *config.Instance, kw, global string) Place {
	if p, ok := in.Where(kw); ok {
		return Place{Pos: p}
	}
	if global != "" && cfg != nil {
		if p, ok := cfg.Global.Where(global); ok {
			return Place{Pos: p}
		}
	}
	return Place{Pos: in.Pos, Default: true}
}

func (ic *instComparer) both(kw, global string) (Place, Place) {
	return where(ic.a.Config, ic.x, kw, global), where(ic.b.Config, ic.y, kw, global)
}

func (ic *instComparer) mismatch(topic string, pa, pb Place, format string, args ...any) {
	ic.add(Mismatch, ic.label, topic, pa, pb, format, args...)
}

func (ic *instComparer) warn(topic string, pa, pb Place, format string, args ...any) {
	ic.add(Warning, ic.label, topic, pa, pb, format, args...)
}

func (ic *instComparer) compare() {
	x, y, an, bn := ic.x, ic.y, ic.a.Name, ic.b.Name
	if x.VRID != y.VRID {
		pa, pb := ic.both("virtual_router_id", "")
		ic.mismatch("virtual_router_id", pa, pb,
			"virtual_router_id %d on %s, %d on %s: they are two routers, each MASTER, the VIP on both nodes", x.VRID, an, y.VRID, bn)
	}
	if x.Interface != y.Interface {
		pa, pb := ic.both("interface", "")
		ic.warn("interface", pa, pb,
			"interface %s on %s, %s on %s: right only if both are the same link under different names", x.Interface, an, y.Interface, bn)
	}
	if x.Version != y.Version {
		pa, pb := ic.both("version", "vrrp_version")
		ic.mismatch("version", pa, pb,
			"VRRP version %d on %s, %d on %s: each drops the other's adverts, both become MASTER", x.Version, an, y.Version, bn)
	}
	if x.AdvertInt != y.AdvertInt {
		pa, pb := ic.both("advert_int", "")
		effect := "VRRPv2 drops adverts of another interval: both become MASTER"
		if x.Version == 3 && y.Version == 3 {
			effect = "under VRRPv3 a backup adopts its master's interval, so how fast a failover is depends on which node is master, and keepalived logs the change"
		}
		ic.mismatch("advert_int", pa, pb, "advert_int %v on %s, %v on %s: %s", x.AdvertInt, an, y.AdvertInt, bn, effect)
	}
	ic.auth()
	ic.vips()
	ic.excluded()
	ic.unicast()
	ic.preempt()
	ic.checks()
	ic.priority()
}

func (ic *instComparer) auth() {
	x, y, an, bn := ic.x, ic.y, ic.a.Name, ic.b.Name
	if x.Version == 3 && y.Version == 3 {
		return // VRRPv3 carries no authentication; node/config says so
	}
	pa, pb := ic.both("authentication", "")
	switch {
	case x.Auth == nil && y.Auth == nil:
	case x.Auth == nil || y.Auth == nil:
		with, without := an, bn
		if x.Auth == nil {
			with, without = bn, an
		}
		ic.mismatch("authentication", pa, pb,
			"authentication on %s only: %s drops every advert of %s (auth_failure), both become MASTER", with, with, without)
	case x.Auth.Type != y.Auth.Type:
		ic.mismatch("authentication", pa, pb,
			"auth_type %s on %s, %s on %s: each drops the other's adverts, both become MASTER", x.Auth.Type, an, y.Auth.Type, bn)
	case x.Auth.Pass != y.Auth.Pass:
		// Never print the passwords: the report may end up in a CI log.
		ic.mismatch("authentication", pa, pb,
			"auth_pass differs in its first 8 characters (the only ones keepalived uses): each drops the other's adverts, both become MASTER")
	}
}

func vipKeys(in *config.Instance) map[netip.Addr]config.VIP {
	m := map[netip.Addr]config.VIP{}
	for _, v := range in.VIPs {
		m[v.Prefix.Addr()] = v
	}
	return m
}

func devOf(in *config.Instance, v config.VIP) string {
	if v.Dev == "" {
		return in.Interface
	}
	return v.Dev
}

func (ic *instComparer) vips() {
	x, y, an, bn := ic.x, ic.y, ic.a.Name, ic.b.Name
	xs, ys := vipKeys(x), vipKeys(y)
	blockA, blockB := ic.both("virtual_ipaddress", "")
	for _, v := range x.VIPs {
		w, ok := ys[v.Prefix.Addr()]
		switch {
		case !ok:
			ic.mismatch("virtual_ipaddress", Place{Pos: v.Pos}, blockB,
				"VIP %s only on %s: keepalived's adverts list the VIPs, a peer with another list drops them; both become MASTER and the VIPs are on both nodes", v.Prefix, an)
		case v.Prefix.Bits() != w.Prefix.Bits():
			ic.mismatch("virtual_ipaddress", Place{Pos: v.Pos}, Place{Pos: w.Pos},
				"VIP %s on %s, %s on %s: after a failover the address has another subnet (routes, broadcast)", v.Prefix, an, w.Prefix, bn)
		case sameIf(x, v) != sameIf(y, w) || !sameIf(x, v) && v.Dev != w.Dev:
			ic.mismatch("virtual_ipaddress", Place{Pos: v.Pos}, Place{Pos: w.Pos},
				"VIP %s goes on %s on %s, on %s on %s: after a failover it is on another link", v.Prefix.Addr(), devOf(x, v), an, devOf(y, w), bn)
		}
	}
	for _, w := range y.VIPs {
		if _, ok := xs[w.Prefix.Addr()]; !ok {
			ic.mismatch("virtual_ipaddress", blockA, Place{Pos: w.Pos},
				"VIP %s only on %s: keepalived's adverts list the VIPs, a peer with another list drops them; both become MASTER and the VIPs are on both nodes", w.Prefix, bn)
		}
	}
}

// excluded compares the virtual_ipaddress_excluded lists: they are not in
// the adverts, so a difference splits nothing, but an address only one node
// holds is lost when the other takes over.
func (ic *instComparer) excluded() {
	const why = "excluded VIP %s only on %s: it is not advertised, so nothing splits, but when %s takes over the address is on neither node"
	blockA, blockB := ic.both("virtual_ipaddress_excluded", "")
	for _, v := range onlyIn(ic.x.ExcludedVIPs, ic.y.ExcludedVIPs) {
		ic.mismatch("virtual_ipaddress_excluded", Place{Pos: v.Pos}, blockB, why, v.Prefix, ic.a.Name, ic.b.Name)
	}
	for _, w := range onlyIn(ic.y.ExcludedVIPs, ic.x.ExcludedVIPs) {
		ic.mismatch("virtual_ipaddress_excluded", blockA, Place{Pos: w.Pos}, why, w.Prefix, ic.b.Name, ic.a.Name)
	}
}

// onlyIn returns the VIPs of xs whose address none of ys has.
func onlyIn(xs, ys []config.VIP) []config.VIP {
	var only []config.VIP
	for _, v := range xs {
		if !slices.ContainsFunc(ys, func(w config.VIP) bool { return w.Prefix.Addr() == v.Prefix.Addr() }) {
			only = append(only, v)
		}
	}
	return only
}

// sameIf reports whether v goes on its instance's interface.
func sameIf(in *config.Instance, v config.VIP) bool { return v.Dev == "" || v.Dev == in.Interface }

// selfAddrs are the addresses a peer's unicast_peer may name for in on n:
// its unicast_src_ip, else its addresses on the instance's interface.
func selfAddrs(n Node, in *config.Instance) ([]netip.Addr, bool) {
	if in.UnicastSrc.IsValid() {
		return []netip.Addr{in.UnicastSrc}, true
	}
	if n.Addrs == nil {
		return nil, false
	}
	return n.Addrs[in.Interface], true
}

func (ic *instComparer) unicast() {
	x, y, an, bn := ic.x, ic.y, ic.a.Name, ic.b.Name
	if len(x.UnicastPeers) == 0 && len(y.UnicastPeers) == 0 {
		return
	}
	pa, pb := ic.both("unicast_peer", "")
	if len(x.UnicastPeers) == 0 || len(y.UnicastPeers) == 0 {
		uni, multi := an, bn
		if len(x.UnicastPeers) == 0 {
			uni, multi = bn, an
		}
		ic.mismatch("unicast_peer", pa, pb,
			"unicast on %s, multicast on %s: %s does not hear %s's multicast adverts, both can become MASTER", uni, multi, uni, multi)
		return
	}
	for _, dir := range []struct {
		from, to     Node
		fin, tin     *config.Instance
		fromP, other Place
		swap         bool
	}{
		{ic.a, ic.b, x, y, pa, pb, false},
		{ic.b, ic.a, y, x, pb, pa, true},
	} {
		addrs, known := selfAddrs(dir.to, dir.tin)
		p1, p2 := dir.fromP, where(dir.to.Config, dir.tin, "unicast_src_ip", "")
		if dir.swap {
			p1, p2 = p2, p1
		}
		if !known {
			ic.warn("unicast_peer", p1, p2,
				"cannot tell whether %s's unicast_peer reaches %s: %s has no unicast_src_ip and its addresses on %s were not read",
				dir.from.Name, dir.to.Name, dir.to.Name, dir.tin.Interface)
			continue
		}
		if !slices.ContainsFunc(addrs, func(a netip.Addr) bool { return slices.Contains(dir.fin.UnicastPeers, a) }) {
			ic.mismatch("unicast_peer", p1, p2,
				"%s's unicast_peer %s does not name %s (%s): its adverts never reach %s, both become MASTER",
				dir.from.Name, addrList(dir.fin.UnicastPeers), dir.to.Name, addrOrNone(addrs, dir.tin.Interface), dir.to.Name)
		}
	}
}

func addrList(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}

func addrOrNone(as []netip.Addr, ifname string) string {
	if len(as) == 0 {
		return "no address on " + ifname
	}
	return addrList(as)
}

func (ic *instComparer) preempt() {
	x, y, an, bn := ic.x, ic.y, ic.a.Name, ic.b.Name
	for i, s := range []struct {
		n    Node
		in   *config.Instance
		peer string
	}{{ic.a, x, bn}, {ic.b, y, an}} {
		in := s.in
		if !in.Nopreempt {
			continue
		}
		var why string
		var at Place
		switch {
		case in.State == config.Master:
			why, at = "state MASTER", where(s.n.Config, in, "state", "")
		case in.Priority == config.OwnerPriority:
			why, at = "priority 255", where(s.n.Config, in, "priority", "")
		default:
			continue
		}
		// At the nopreempt line, as node/config's own error is: the
		// line to change, with the one that defeats it in the message.
		pa, pb := where(s.n.Config, in, "nopreempt", ""), Place{}
		if i == 1 {
			pa, pb = pb, pa
		}
		ic.mismatch("nopreempt", pa, pb,
			"nopreempt with %s (%s) on %s: keepalived drops nopreempt, so %s takes the VIP back from %s whenever it returns (a second outage)",
			why, at, s.n.Name, s.n.Name, s.peer)
	}
	if x.Nopreempt != y.Nopreempt {
		pa, pb := ic.both("nopreempt", "")
		on, off := an, bn
		if y.Nopreempt {
			on, off = bn, an
		}
		ic.warn("nopreempt", pa, pb, "nopreempt on %s only: %s takes the VIP back when it returns with a higher priority", on, off)
	}
}

// checkKey names a check as it counts for the pair: vipd's nginx guard and
// a vrrp_script that checks nginx are the same check.
func checkKey(cfg *config.Config, t config.Track) string {
	if t.Nginx {
		return "nginx"
	}
	if s := cfg.Script(t.Name); s != nil && checksNginx(s.Command) {
		return "nginx"
	}
	return "script " + t.Name
}

func checksNginx(argv []string) bool {
	for _, w := range argv {
		if strings.Contains(strings.ToLower(path.Base(w)), "nginx") {
			return true
		}
	}
	return false
}

type checkRef struct {
	what string // for the message
	pos  config.Pos
}

func checks(cfg *config.Config, in *config.Instance) (map[string]checkRef, []string) {
	m := map[string]checkRef{}
	var order []string
	put := func(k string, r checkRef) {
		if _, ok := m[k]; !ok {
			m[k] = r
			order = append(order, k)
		}
	}
	for _, t := range in.Tracks {
		k := checkKey(cfg, t)
		what := "track_script " + t.Name
		if k == "nginx" {
			what = "nginx check (" + t.Name + ")"
		}
		put(k, checkRef{what, t.Pos})
	}
	for _, t := range in.TrackInterfaces {
		put("interface "+t.Name, checkRef{"track_interface " + t.Name, t.Pos})
	}
	return m, order
}

func (ic *instComparer) checks() {
	xm, xo := checks(ic.a.Config, ic.x)
	ym, yo := checks(ic.b.Config, ic.y)
	for _, k := range xo {
		if _, ok := ym[k]; !ok {
			_, pb := ic.both("track_script", "")
			ic.mismatch("track_script", Place{Pos: xm[k].pos}, pb,
				"%s on %s only: when it fails on %s the VIP stays there", xm[k].what, ic.a.Name, ic.b.Name)
		}
	}
	for _, k := range yo {
		if _, ok := xm[k]; !ok {
			pa, _ := ic.both("track_script", "")
			ic.mismatch("track_script", pa, Place{Pos: ym[k].pos},
				"%s on %s only: when it fails on %s the VIP stays there", ym[k].what, ic.b.Name, ic.a.Name)
		}
	}
}

func (ic *instComparer) priority() {
	x, y := ic.x, ic.y
	fast := func(in *config.Instance) (time.Duration, time.Duration) {
		v := vrrp.Version(in.Version)
		return v.SkewTime(uint8(in.Priority), in.AdvertInt), v.SkewTime(FastPriority, in.AdvertInt)
	}
	sx, fx := fast(x)
	sy, fy := fast(y)
	if sx-fx < SkewAdvice && sy-fy < SkewAdvice {
		return
	}
	pa, pb := ic.both("priority", "")
	ic.warn("priority", pa, pb,
		"priority %d on %s, %d on %s: a handover to %s waits Skew_Time %v, to %s %v; priority %d on both (with nopreempt) would wait %v",
		x.Priority, ic.a.Name, y.Priority, ic.b.Name, ic.a.Name, ms(sx), ic.b.Name, ms(sy), FastPriority, ms(min(fx, fy)))
}

// ms rounds d for a reader: 609ms, 8ms.
func ms(d time.Duration) time.Duration {
	if d >= time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}
