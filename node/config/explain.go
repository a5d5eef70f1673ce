package config

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// SkewTime is how long a backup waits, once the master is gone, before it
// takes over: longer for lower priorities, so that the highest backup wins.
// It is computed as keepalived 2.2.7 does, in whole microseconds: VRRPv2
// (RFC 3768) uses (256-priority)/256 s whatever the advert interval, VRRPv3
// (RFC 5798) scales it by the advert interval.
func SkewTime(version, priority int, advertInt time.Duration) time.Duration {
	p := int64(256 - priority)
	if version == 3 {
		cs := int64(advertInt / (10 * time.Millisecond))
		return time.Duration(p*cs*625/16) * time.Microsecond
	}
	return time.Duration(p*1000000/256) * time.Microsecond
}

// Budget is the worst case from a failure on the master to the peer holding
// the VIPs, assuming the peer runs the same configuration, in particular the
// same priority: it is the peer's Skew_Time that counts.
type Budget struct {
	Skew       time.Duration // Skew_Time
	Handover   time.Duration // graceful: the master sends priority 0, the peer waits Skew_Time
	MasterDown time.Duration // silent crash: Master_Down_Interval = 3*advert_int + Skew_Time
	Tracks     []TrackBudget
}

// TrackBudget is the failover time when a tracked check fails.
type TrackBudget struct {
	Name  string
	Nginx bool
	// Detect is how long a failure takes to count: interval*fall +
	// timeout. A vipd_nginx_check with a pid file watches the master and
	// checks the moment it dies: interval*(fall-1) for a dead nginx.
	Detect  time.Duration
	Restart time.Duration // vipd_nginx_check: the restart attempt's deadline
	// Total is Detect + Restart + Skew_Time for weight 0 (FAULT). For a
	// non-zero weight it is Detect + advert_int + preempt_delay, the time
	// for a preempting peer to see the lower priority; 0 under nopreempt,
	// where no handover happens.
	Total time.Duration
	// Hang is a vipd_nginx_check's budget for an nginx that lives but
	// does not answer (weight 0, with a url): interval*fall + timeout +
	// Skew_Time; with no pid file to show the master alive, the restart
	// attempt too.
	Hang  time.Duration
	Fault bool // weight 0: a failure puts the instance in FAULT
}

// Budget returns the failover budget of in, which must be one of c's
// instances.
func (c *Config) Budget(in *Instance) Budget {
	skew := SkewTime(in.Version, in.Priority, in.AdvertInt)
	b := Budget{Skew: skew, Handover: skew, MasterDown: 3*in.AdvertInt + skew}
	for _, t := range in.Tracks {
		tb := TrackBudget{Name: t.Name, Nginx: t.Nginx, Fault: t.Weight == 0}
		if t.Nginx {
			if k := c.NginxCheck(t.Name); k != nil {
				hang := k.Interval*time.Duration(k.Fall) + k.Timeout
				tb.Detect, tb.Restart = hang, k.RestartDeadline
				if k.PIDFile != "" {
					tb.Detect = k.Interval * time.Duration(k.Fall-1)
				} else {
					hang += k.RestartDeadline
				}
				if tb.Fault && k.URL != "" {
					tb.Hang = hang + skew
				}
			}
		} else if s := c.Script(t.Name); s != nil {
			tb.Detect = s.Interval*time.Duration(s.Fall) + s.Timeout
		}
		switch {
		case tb.Fault:
			tb.Total = tb.Detect + tb.Restart + skew
		case !in.Nopreempt:
			tb.Total = tb.Detect + tb.Restart + in.AdvertInt + in.PreemptDelay
		}
		b.Tracks = append(b.Tracks, tb)
	}
	return b
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
	for i := range c.Instances {
		e.printf("\n")
		c.explainInstance(e, &c.Instances[i])
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
		if k.RestartDeadline == 0 {
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
	e.field("vrrp_version", fmt.Sprint(in.Version), isSet(in.given, "version") || isSet(c.Global.given, "vrrp_version"), "")
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
	for i, v := range in.VIPs {
		label := ""
		if i == 0 {
			label = "virtual_ipaddress"
		}
		if v.Dev == "" {
			v.Dev = in.Interface
		}
		e.printf("  %-20s %s\n", label, v)
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
		e.printf("  %-20s %s\n", "adverts", "multicast")
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
	e.field("garp", fmt.Sprintf("%d at takeover, %d more after %ss", in.GARPRepeat, in.GARPRepeat, seconds(in.GARPMasterDelay)), isSet(in.given, "garp_master_repeat", "garp_master_delay"), "")

	b := c.Budget(in)
	pr := fmt.Sprintf("(256-%d)", in.Priority)
	skewFormula := pr + "/256 s"
	if in.Version == 3 {
		skewFormula = pr + "×" + seconds(in.AdvertInt) + "s/256"
	}
	e.printf("  failover budget, if the peer has the same priority:\n")
	e.budget("Skew_Time", skewFormula, b.Skew)
	e.budget("graceful handover", "Skew_Time", b.Handover)
	e.budget("silent crash", "3×"+seconds(in.AdvertInt)+"s + Skew_Time", b.MasterDown)
	for _, t := range b.Tracks {
		formula := "undefined check"
		k := c.NginxCheck(t.Name)
		if t.Nginx && k != nil {
			formula = fmt.Sprintf("%ss×%d + %ss", seconds(k.Interval), k.Fall, seconds(k.Timeout))
			if k.PIDFile != "" {
				formula = "at once (pid watched)"
				if k.Fall > 1 {
					formula = fmt.Sprintf("%ss×%d", seconds(k.Interval), k.Fall-1)
				}
			}
			if t.Restart > 0 {
				formula += fmt.Sprintf(" + %ss restart", seconds(t.Restart))
			}
		} else if s := c.Script(t.Name); !t.Nginx && s != nil {
			formula = fmt.Sprintf("%ss×%d + %ss", seconds(s.Interval), s.Fall, seconds(s.Timeout))
		}
		what := t.Name + " fails"
		if t.Nginx {
			what = "nginx dies (" + t.Name + ")"
		}
		switch {
		case t.Fault:
			e.budget(what, formula+" + Skew_Time", t.Total)
			if t.Hang > 0 {
				hang := fmt.Sprintf("%ss×%d + %ss + Skew_Time", seconds(k.Interval), k.Fall, seconds(k.Timeout))
				if k.PIDFile == "" {
					hang = fmt.Sprintf("%ss×%d + %ss + %ss restart + Skew_Time", seconds(k.Interval), k.Fall, seconds(k.Timeout), seconds(t.Restart))
				}
				e.budget("nginx hangs ("+t.Name+")", hang, t.Hang)
			}
		case in.Nopreempt:
			e.printf("    %-22s %s\n", what, "no handover: the weight lowers priority, but nopreempt keeps the peer from taking over")
		default:
			formula += " + " + seconds(in.AdvertInt) + "s"
			if in.PreemptDelay > 0 {
				formula += " + " + seconds(in.PreemptDelay) + "s preempt_delay"
			}
			e.budget(what, formula+", if the peer's priority is then higher", t.Total)
		}
	}
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
	for _, t := range in.Tracks {
		if t.Weight != 0 {
			return // the priorities carry meaning
		}
	}
	best := SkewTime(in.Version, hintPriority, in.AdvertInt)
	if b.Skew-best < 10*time.Millisecond {
		return
	}
	e.printf("  hint: at priority %d every handover waits Skew_Time %s at advert_int %ss. Priority %d on\n", in.Priority, budgetDur(b.Skew), seconds(in.AdvertInt), hintPriority)
	e.printf("        both nodes cuts it to %s; with state BACKUP and nopreempt the VIP still stays put.\n", budgetDur(best))
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

func (e *explainer) budget(what, formula string, d time.Duration) {
	e.printf("    %-22s %-44s %s\n", what, formula, budgetDur(d))
}

func budgetDur(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func weightText(w int) string {
	if w == 0 {
		return "0 (failure means FAULT)"
	}
	return fmt.Sprintf("%+d (failure changes priority)", w)
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
		if a != "" && !strings.ContainsAny(a, whitespace+`'"\$`+"`") {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
