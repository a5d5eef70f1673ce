package config

import (
	"errors"
	"fmt"
	"strings"
)

// MarshalText writes c back in keepalived syntax with every effective value
// spelled out, defaults included. Parsing the result gives c again, apart
// from positions and warnings. It fails for a value keepalived syntax cannot
// carry, such as a word with both a double quote and a space.
func (c *Config) MarshalText() ([]byte, error) {
	w := &writer{}
	g := c.Global
	w.open("global_defs")
	if g.RouterID != "" {
		w.line("router_id", g.RouterID)
	}
	w.line("vrrp_version", fmt.Sprint(g.VRRPVersion))
	if g.ScriptUser != "" {
		w.line("script_user", nonEmpty(g.ScriptUser, g.ScriptGroup)...)
	}
	if g.EnableScriptSecurity {
		w.line("enable_script_security")
	}
	if g.StartupDelay > 0 {
		w.line("vrrp_startup_delay", seconds(g.StartupDelay))
	}
	w.line("vrrp_garp_master_delay", seconds(g.GARPMasterDelay))
	w.line("vrrp_garp_master_repeat", fmt.Sprint(g.GARPMasterRepeat))
	w.close()

	// vrrp_script before the instances: keepalived resolves track_script
	// while it reads an instance.
	for _, s := range c.Scripts {
		w.open("vrrp_script", s.Name)
		w.command("script", s.Command)
		w.line("interval", seconds(s.Interval))
		w.line("timeout", seconds(s.Timeout))
		if s.Reverse {
			w.line("weight", fmt.Sprint(s.Weight), "reverse")
		} else {
			w.line("weight", fmt.Sprint(s.Weight))
		}
		w.line("rise", fmt.Sprint(s.Rise))
		w.line("fall", fmt.Sprint(s.Fall))
		if s.User != "" {
			w.line("user", nonEmpty(s.User, s.Group)...)
		}
		if s.InitFail {
			w.line("init_fail")
		}
		w.close()
	}
	for _, k := range c.NginxChecks {
		w.open("vipd_nginx_check", k.Name)
		if k.URL != "" {
			w.line("url", k.URL)
		}
		if k.PIDFile != "" {
			w.line("pidfile", k.PIDFile)
		}
		w.line("interval", seconds(k.Interval))
		w.line("timeout", seconds(k.Timeout))
		w.line("rise", fmt.Sprint(k.Rise))
		w.line("fall", fmt.Sprint(k.Fall))
		w.line("weight", fmt.Sprint(k.Weight))
		w.command("start_command", k.StartCommand)
		w.line("restart_deadline", seconds(max(k.RestartDeadline, 0))) // guard.NoRestart is 0 in the file
		w.close()
	}
	for _, in := range c.Instances {
		w.instance(&in)
	}
	for _, g := range c.SyncGroups {
		w.open("vrrp_sync_group", g.Name)
		w.open("group")
		for _, m := range g.Members {
			w.line(m)
		}
		w.close()
		w.notify(g.Notify)
		w.close()
	}
	if w.err != nil {
		return nil, w.err
	}
	return []byte(w.b.String()), nil
}

func (w *writer) instance(in *Instance) {
	w.open("vrrp_instance", in.Name)
	w.line("state", string(in.State))
	w.line("interface", in.Interface)
	w.line("virtual_router_id", fmt.Sprint(in.VRID))
	w.line("priority", fmt.Sprint(in.Priority))
	w.line("version", fmt.Sprint(in.Version))
	w.line("advert_int", seconds(in.AdvertInt))
	if in.Nopreempt {
		w.line("nopreempt")
	}
	if in.PreemptDelay > 0 {
		w.line("preempt_delay", seconds(in.PreemptDelay))
	}
	if in.Auth != nil {
		w.open("authentication")
		w.line("auth_type", in.Auth.Type)
		w.line("auth_pass", in.Auth.Pass)
		w.close()
	}
	for _, b := range []struct {
		name string
		vips []VIP
	}{{"virtual_ipaddress", in.VIPs}, {"virtual_ipaddress_excluded", in.ExcludedVIPs}} {
		if len(b.vips) == 0 {
			continue
		}
		w.open(b.name)
		for _, v := range b.vips {
			words := []string{v.Prefix.String()}
			for _, kv := range [][2]string{{"brd", v.Brd}, {"dev", v.Dev}, {"scope", v.Scope}, {"label", v.Label}} {
				if kv[1] != "" {
					words = append(words, kv[0], kv[1])
				}
			}
			w.line(words[0], words[1:]...)
		}
		w.close()
	}
	if len(in.Tracks) > 0 {
		w.open("track_script")
		for _, t := range in.Tracks {
			w.line(t.Name, "weight", fmt.Sprint(t.Weight))
		}
		w.close()
	}
	if len(in.TrackInterfaces) > 0 {
		w.open("track_interface")
		for _, t := range in.TrackInterfaces {
			w.line(t.Name, "weight", fmt.Sprint(t.Weight))
		}
		w.close()
	}
	if in.UnicastSrc.IsValid() {
		w.line("unicast_src_ip", in.UnicastSrc.String())
	}
	if len(in.UnicastPeers) > 0 {
		w.open("unicast_peer")
		for _, p := range in.UnicastPeers {
			w.line(p.String())
		}
		w.close()
	}
	w.notify(in.Notify)
	w.line("garp_master_delay", seconds(in.GARPMasterDelay))
	w.line("garp_master_repeat", fmt.Sprint(in.GARPRepeat))
	w.close()
}

func nonEmpty(a ...string) []string {
	var out []string
	for _, s := range a {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// writer indents blocks and quotes words.
type writer struct {
	b     strings.Builder
	depth int
	err   error
}

func (w *writer) open(words ...string) {
	w.line(words[0], append(words[1:], "{")...)
	w.depth++
}

func (w *writer) close() {
	w.depth--
	w.b.WriteString(strings.Repeat("    ", w.depth) + "}\n")
}

func (w *writer) line(kw string, args ...string) {
	var b strings.Builder
	b.WriteString(strings.Repeat("    ", w.depth))
	for i, s := range append([]string{kw}, args...) {
		if i > 0 {
			b.WriteByte(' ')
		}
		if s == "{" && i == len(args) && i > 0 {
			b.WriteString(s)
			continue
		}
		q, err := quoteWord(s)
		if err != nil && w.err == nil {
			w.err = err
		}
		b.WriteString(q)
	}
	w.end(b.String())
}

// command writes kw with argv as one quoted word, then the words after.
func (w *writer) command(kw string, argv []string, after ...string) {
	q, err := quoteCommand(argv)
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("%s: %w", kw, err)
	}
	for _, a := range after {
		aq, err := quoteWord(a)
		if err != nil && w.err == nil {
			w.err = err
		}
		q += " " + aq
	}
	w.end(strings.Repeat("    ", w.depth) + kw + " " + q)
}

// notify writes the notify scripts, each with the user and group its line
// names.
func (w *writer) notify(n Notify) {
	for _, h := range n.Hooks() {
		w.command(h.Keyword, h.Command, nonEmpty(h.User, h.Group)...)
	}
}

func (w *writer) end(line string) {
	if len(line) > maxLineLen && w.err == nil {
		w.err = fmt.Errorf("a line would be %d bytes, more than keepalived reads", len(line))
	}
	w.b.WriteString(line + "\n")
}

// quoteWord returns s as one configuration word: bare when that reads back
// the same, else in double quotes, which keepalived strips without any
// escape processing.
func quoteWord(s string) (string, error) {
	if s != "" && !strings.ContainsAny(s, whitespace+`"{}!#\`) && !strings.ContainsAny(s[:1], "$@~") && s != "include" {
		return s, nil
	}
	switch {
	case strings.ContainsAny(s, "\"\n\r\x00"):
		return "", fmt.Errorf("%q cannot be written as a keepalived word", s)
	case strings.HasSuffix(s, `\`):
		return "", errors.New("a quoted word cannot end in a backslash")
	}
	return `"` + s + `"`, nil
}
