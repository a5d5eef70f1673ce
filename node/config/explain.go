package config

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vipkit/vip/node/guard"
	"github.com/vipkit/vip/vrrp"
)

// Budget is the worst case from a failure on the master to the peer holding
// the VIPs, assuming the peer runs the same configuration, in particular the
// same priority: it is the peer's Skew_Time that counts. It is made of the
// engine's timers (package vrrp) and the guard's detection times (package
// guard), each computed where its rule is written.
type Budget struct {
	Skew       time.Duration // Skew_Time, as the engine waits it
	Handover   time.Duration // graceful: the master sends priority 0, the peer waits Skew_Time
	MasterDown time.Duration // silent crash: Master_Down_Interval = 3*advert_int + Skew_Time
	Tracks     []TrackBudget
}

// TrackBudget is the failover time when a tracked check fails. Whatever the
// track's weight, a failure puts the instance in FAULT (vipd changes no
// priority): the master gives its VIPs up with a priority-0 advert and the
// peer takes over after Skew_Time.
type TrackBudget struct {
	Name  string
	Nginx bool
	// Detect is how long the guard takes to fail: for a vipd_nginx_check
	// a dead nginx, restart attempt included (guard.NginxConfig.Death);
	// for a vrrp_script a failing run (guard.ScriptConfig.Failure).
	Detect guard.Detection
	Total  time.Duration // Detect + Skew_Time
	// Hang is, for a vipd_nginx_check with a url, how long an nginx that
	// lives but does not answer takes to fail (guard.NginxConfig.Hang), and
	// HangTotal that plus Skew_Time. Both are zero without a url: nothing
	// else sees a hang.
	Hang      guard.Detection
	HangTotal time.Duration
}

// Budget returns the failover budget of in, which must be one of c's
// instances.
func (c *Config) Budget(in *Instance) Budget {
	v, prio := vrrp.Version(in.Version), uint8(in.Priority)
	skew := v.SkewTime(prio, in.AdvertInt)
	b := Budget{Skew: skew, Handover: skew, MasterDown: v.MasterDownInterval(prio, in.AdvertInt)}
	for _, t := range in.Tracks {
		tb := TrackBudget{Name: t.Name, Nginx: t.Nginx, Detect: guard.Detection{Formula: "undefined check"}}
		if k := c.NginxCheck(t.Name); t.Nginx && k != nil {
			g := k.Guard()
			tb.Detect = g.Death()
			if h, ok := g.Hang(); ok {
				tb.Hang, tb.HangTotal = h, h.Time+skew
			}
		} else if s := c.Script(t.Name); !t.Nginx && s != nil {
			tb.Detect = s.Guard().Failure()
		}
		tb.Total = tb.Detect.Time + skew
		b.Tracks = append(b.Tracks, tb)
	}
	return b
}

// Cost is what a configuration costs a node while it runs: the advert
// sockets vipd opens, one per interface, family and mode (unicast or
// multicast), which package node's sockets share among the instances; and
// the adverts a second the masters send, which the peer's backups read.
type Cost struct {
	Instances int
	Sockets   int
	Adverts   float64 // a second, every instance's master at 1/advert_int
}

// The largest load the scale benchmark (fixtures/bench/cmd/scale) has
// measured vipd under: 1,000 instances at advert_int 1 s over four
// interfaces, and 100 at 0.1 s, both 1,000 adverts a second.
const (
	MeasuredInstances = 1000
	MeasuredAdverts   = 1000
)

// Cost returns what c costs a node.
func (c *Config) Cost() Cost {
	type sock struct {
		ifname        string
		ipv6, unicast bool
	}
	socks := map[sock]bool{}
	k := Cost{Instances: len(c.Instances)}
	for _, in := range c.Instances {
		ipv6 := len(in.VIPs) > 0 && in.VIPs[0].Prefix.Addr().Is6()
		socks[sock{in.Interface, ipv6, len(in.UnicastPeers) > 0}] = true
		if in.AdvertInt > 0 {
			k.Adverts += float64(time.Second) / float64(in.AdvertInt)
		}
	}
	k.Sockets = len(socks)
	return k
}

// Measured reports whether the benchmark has measured a load this large.
func (k Cost) Measured() bool {
	return k.Instances <= MeasuredInstances && k.Adverts <= MeasuredAdverts
}

// hintPriority is the highest priority nopreempt allows.
const hintPriority = 254

// Explain prints, per instance, the effective values with "(default)" where
// the file says nothing, and the failover budget they imply.
func (c *Config) Explain(w io.Writer) error {
	e := &explainer{w: w}
	g := c.Global
	e.printf("global_defs\n")
	e.field("router_id", orNone(g.RouterID), isSet(g.given, "router_id"), "")
	e.field("vrrp_version", fmt.Sprint(g.VRRPVersion), isSet(g.given, "vrrp_version"), "")
	if g.ScriptUser != "" {
		e.field("script_user", strings.TrimSpace(g.ScriptUser+" "+g.ScriptGroup), isSet(g.given, "script_user"), "")
	}
	if g.EnableScriptSecurity {
		e.field("enable_script_security", "yes", isSet(g.given, "enable_script_security"), "")
	}
	if g.StartupDelay > 0 {
		e.field("vrrp_startup_delay", seconds(g.StartupDelay)+"s", isSet(g.given, "vrrp_startup_delay"), "")
	}
	if g.Strict {
		e.field("vrrp_strict", "yes (checked, not emulated: VIPs accept traffic)", true, "")
	}
	for i := range c.Instances {
		e.printf("\n")
		c.explainInstance(e, &c.Instances[i])
	}
	for _, sg := range c.SyncGroups {
		e.printf("\nvrrp_sync_group %s (%s)\n", sg.Name, sg.Pos)
		e.printf("  %-20s %s (MASTER, BACKUP and FAULT together; one member's fault takes all to FAULT)\n", "group", strings.Join(sg.Members, ", "))
		for _, t := range sg.Tracks {
			e.printf("  %-20s %s, on every member\n", "track_script", t.Name)
		}
		for _, t := range sg.TrackInterfaces {
			e.printf("  %-20s %s, on every member\n", "track_interface", t.Name)
		}
		explainNotify(e, sg.Notify, c.Global.ScriptUser, "GROUP "+sg.Name+" STATE 0")
	}
	if k := c.Cost(); !k.Measured() {
		e.printf("\ncost, beyond what the benchmark measured (%d instances, %d adverts a second)\n", MeasuredInstances, MeasuredAdverts)
		e.printf("  %-20s %d\n", "instances", k.Instances)
		e.printf("  %-20s %d (one per interface, family and unicast or multicast)\n", "raw sockets", k.Sockets)
		e.printf("  %-20s %.0f sent by the masters, as many read by the peer's backups\n", "adverts a second", k.Adverts)
	}
	for _, s := range c.Scripts {
		e.printf("\nvrrp_script %s (%s)\n", s.Name, s.Pos)
		e.field("script", joinCommand(s.Command), isSet(s.given, "script"), "")
		e.field("interval", seconds(s.Interval)+"s", isSet(s.given, "interval"), "")
		e.field("timeout", seconds(s.Timeout)+"s", isSet(s.given, "timeout"), "same as interval")
		e.field("rise / fall", fmt.Sprintf("%d / %d", s.Rise, s.Fall), isSet(s.given, "rise", "fall"), "")
		e.field("weight", weightText(s.Weight), isSet(s.given, "weight"), "")
	}
	for _, k := range c.NginxChecks {
		e.printf("\nvipd_nginx_check %s (%s)\n", k.Name, k.Pos)
		if k.URL != "" {
			e.field("url", k.URL, isSet(k.given, "url"), "")
		}
		if k.PIDFile != "" {
			e.field("pidfile", k.PIDFile, isSet(k.given, "pidfile"), "")
		}
		e.field("interval", seconds(k.Interval)+"s", isSet(k.given, "interval"), "")
		e.field("timeout", seconds(k.Timeout)+"s", isSet(k.given, "timeout"), "3/4 of interval")
		e.field("rise / fall", fmt.Sprintf("%d / %d", k.Rise, k.Fall), isSet(k.given, "rise", "fall"), "")
		e.field("start_command", joinCommand(k.StartCommand), isSet(k.given, "start_command"), "")
		restart := seconds(k.RestartDeadline) + "s"
		if k.RestartDeadline < 0 {
			restart = "0s: no restart attempt"
		}
		e.field("restart_deadline", restart, isSet(k.given, "restart_deadline"), "")
		e.field("weight", weightText(k.Weight), isSet(k.given, "weight"), "")
	}
	return e.err
}

func (c *Config) explainInstance(e *explainer, in *Instance) {
	e.printf("vrrp_instance %s (%s)\n", in.Name, in.Pos)
	e.field("state", string(in.State), isSet(in.given, "state"), "")
	e.field("interface", in.Interface, isSet(in.given, "interface"), "")
	e.field("virtual_router_id", fmt.Sprint(in.VRID), isSet(in.given, "virtual_router_id"), "")
	prioNote := ""
	if in.State == Master {
		prioNote = "address owner, as state is MASTER"
	}
	e.field("priority", fmt.Sprint(in.Priority), isSet(in.given, "priority"), prioNote)
	six := len(in.VIPs) > 0 && in.VIPs[0].Prefix.Addr().Is6()
	if six && !isSet(in.given, "version") {
		e.field("vrrp_version", fmt.Sprint(in.Version), false, "IPv6 VIPs, as keepalived")
	} else {
		e.field("vrrp_version", fmt.Sprint(in.Version), isSet(in.given, "version") || isSet(c.Global.given, "vrrp_version"), "")
	}
	e.field("advert_int", seconds(in.AdvertInt)+"s", isSet(in.given, "advert_int"), "")
	preempt := "yes"
	if in.Nopreempt {
		preempt = "no (nopreempt)"
	}
	e.field("preempt", preempt, isSet(in.given, "nopreempt", "preempt"), "")
	if in.PreemptDelay > 0 {
		e.field("preempt_delay", seconds(in.PreemptDelay)+"s", isSet(in.given, "preempt_delay"), "")
	}
	if in.Auth != nil {
		e.field("authentication", fmt.Sprintf("%s, %d-character password", in.Auth.Type, len(in.Auth.Pass)), isSet(in.given, "authentication"), "")
	} else {
		e.field("authentication", "none", isSet(in.given, "authentication"), "")
	}
	for _, b := range []struct {
		label, note string
		vips        []VIP
	}{
		{"virtual_ipaddress", "", in.VIPs},
		{"excluded", " (virtual_ipaddress_excluded: held, not advertised)", in.ExcludedVIPs},
	} {
		for i, v := range b.vips {
			label := ""
			if i == 0 {
				label = b.label
			}
			if v.Dev == "" {
				v.Dev = in.Interface
			}
			e.printf("  %-20s %s%s\n", label, v, b.note)
		}
	}
	if len(in.UnicastPeers) > 0 {
		peers := make([]string, len(in.UnicastPeers))
		for i, p := range in.UnicastPeers {
			peers[i] = p.String()
		}
		src := "primary address of " + in.Interface
		if in.UnicastSrc.IsValid() {
			src = in.UnicastSrc.String()
		}
		e.printf("  %-20s %s -> %s\n", "unicast", src, strings.Join(peers, ", "))
	} else {
		if six {
			e.printf("  %-20s %s\n", "adverts", "multicast to ff02::12 from the link-local address of "+in.Interface)
		} else {
			e.printf("  %-20s %s\n", "adverts", "multicast")
		}
	}
	for _, t := range in.Tracks {
		kind := "vrrp_script"
		if t.Nginx {
			kind = "vipd_nginx_check"
		}
		e.printf("  %-20s %s (%s), weight %s\n", "track_script", t.Name, kind, weightText(t.Weight))
	}
	for _, t := range in.TrackInterfaces {
		e.printf("  %-20s %s, weight %s\n", "track_interface", t.Name, weightText(t.Weight))
	}
	if sg := c.SyncGroupOf(in.Name); sg != nil {
		e.printf("  %-20s %s (%s)\n", "vrrp_sync_group", sg.Name, sg.Pos)
	}
	explainNotify(e, in.Notify, c.Global.ScriptUser, "INSTANCE "+in.Name+" STATE "+fmt.Sprint(in.Priority))
	garp := "garp"
	if six {
		garp = "unsolicited NA" // neighbour advertisements, Override set
	}
	e.field(garp, fmt.Sprintf("%d at takeover, %d more after %ss", in.GARPRepeat, in.GARPRepeat, seconds(in.GARPMasterDelay)), isSet(in.given, "garp_master_repeat", "garp_master_delay"), "")

	b := c.Budget(in)
	pr := fmt.Sprintf("(256-%d)", in.Priority)
	skewFormula := pr + "/256 s"
	if in.Version == 3 {
		skewFormula = pr + "×" + seconds(in.AdvertInt) + "s/256"
	}
	rows := []budgetRow{
		{"Skew_Time", skewFormula, b.Skew},
		{"graceful handover", "Skew_Time", b.Handover},
		{"silent crash", "3×" + seconds(in.AdvertInt) + "s + Skew_Time", b.MasterDown},
	}
	for _, t := range b.Tracks {
		if !t.Nginx {
			rows = append(rows, budgetRow{t.Name + " fails", t.Detect.Formula + " + Skew_Time", t.Total})
			continue
		}
		rows = append(rows, budgetRow{"nginx dies (" + t.Name + ")", t.Detect.Formula + " + Skew_Time", t.Total})
		if t.Hang.Formula == "" {
			rows = append(rows, budgetRow{"nginx hangs (" + t.Name + ")", "not noticed: only a url sees a hung nginx", -1})
			continue
		}
		rows = append(rows, budgetRow{"nginx hangs (" + t.Name + ")", t.Hang.Formula + " + Skew_Time", t.HangTotal})
	}
	e.printf("  failover budget, if the peer has the same priority:\n")
	e.budget(rows)
	c.hint(e, in, b)
}

// hint points out Skew_Time a symmetric pair pays for nothing: with
// nopreempt (or no chosen priority) the priority only orders backups, and
// equal high priorities make every handover nearly immediate.
func (c *Config) hint(e *explainer, in *Instance, b Budget) {
	_, chosen := in.given["priority"]
	if in.Priority >= hintPriority || (!in.Nopreempt && chosen) {
		return
	}
	best := vrrp.Version(in.Version).SkewTime(hintPriority, in.AdvertInt)
	if b.Skew-best < 10*time.Millisecond {
		return
	}
	e.printf("  hint: at priority %d every handover waits Skew_Time %s at advert_int %ss. Priority %d on\n", in.Priority, budgetDur(b.Skew), seconds(in.AdvertInt), hintPriority)
	e.printf("        both nodes cuts it to %s; with state BACKUP and nopreempt the VIP still stays put.\n", budgetDur(best))
}

// explainNotify lists the notify scripts, each with the user it runs as;
// notify gets args (keepalived's TYPE NAME STATE PRIORITY) appended.
func explainNotify(e *explainer, n Notify, scriptUser, args string) {
	for _, h := range n.Hooks() {
		cmd := joinCommand(h.Command)
		if h.Keyword == "notify" {
			cmd += " " + args
		}
		switch {
		case h.User != "":
			cmd += " (as " + h.User + ")"
		case scriptUser != "":
			cmd += " (as script_user " + scriptUser + ")"
		}
		e.printf("  %-20s %s\n", h.Keyword, cmd)
	}
}

type explainer struct {
	w   io.Writer
	err error
}

func (e *explainer) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// field prints a value, marked as a default when the file did not set it;
// note says where the default comes from.
func (e *explainer) field(name, value string, set bool, note string) {
	switch {
	case !set && note != "":
		value += " (default: " + note + ")"
	case !set:
		value += " (default)"
	}
	e.printf("  %-20s %s\n", name, value)
}

// isSet reports whether any of the keywords appears in given.
func isSet(given map[string]Pos, keywords ...string) bool {
	for _, k := range keywords {
		if _, ok := given[k]; ok {
			return true
		}
	}
	return false
}

// budgetRow is one line of a failover budget; a negative d has no figure.
type budgetRow struct {
	what, formula string
	d             time.Duration
}

// budget prints rows with their figures in one column.
func (e *explainer) budget(rows []budgetRow) {
	width := 44
	for _, r := range rows {
		if n := utf8.RuneCountInString(r.formula); r.d >= 0 && n > width {
			width = n
		}
	}
	for _, r := range rows {
		if r.d < 0 {
			e.printf("    %-22s %s\n", r.what, r.formula)
			continue
		}
		e.printf("    %-22s %s%s %s\n", r.what, r.formula,
			strings.Repeat(" ", width-utf8.RuneCountInString(r.formula)), budgetDur(r.d))
	}
}

func budgetDur(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// weightText shows a weight as vipd takes it: vipd changes no priority, a
// failure means FAULT whatever the weight (see weightWarning).
func weightText(w int) string {
	if w == 0 {
		return "0 (failure means FAULT)"
	}
	return fmt.Sprintf("%+d (ignored: failure means FAULT)", w)
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// joinCommand shows a command as a shell would read it.
func joinCommand(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, whitespace+`'"\$<>|&;()*?`+"`") {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
