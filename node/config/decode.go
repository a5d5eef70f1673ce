package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vipkit/vip/node/guard"
)

// parse runs the stages: lex (with includes), group into blocks, decode
// keywords, then check the whole.
func parse(fsys fileSystem, name string, data []byte) (*Config, error) {
	d := &diags{}
	t := &tree{d: d}
	l := &lexer{fsys: fsys, d: d, emit: t.push}
	switch {
	case fsys != nil:
		l.open(Pos{}, name)
	case len(data) > maxFileSize:
		d.errorf(Pos{File: name}, "larger than %d bytes", maxFileSize)
	default:
		l.lexFile(name, data)
	}
	nodes := t.end()

	dc := &decoder{d: d, cfg: &Config{}, skipped: l.skipped,
		scriptSeq: map[string]int{}, scripts: map[string]int{}, checks: map[string]int{}, instances: map[string]int{}}
	dc.cfg.Global = Global{
		VRRPVersion:      DefaultVRRPVersion,
		GARPMasterDelay:  DefaultGARPMasterDelay,
		GARPMasterRepeat: DefaultGARPRepeat,
		given:            map[string]Pos{},
	}
	dc.top(nodes)
	dc.finish()

	cfg := dc.cfg
	cfg.Files = l.files
	cfg.Sources = l.sources
	order := map[string]int{}
	for i, f := range l.files {
		if _, ok := order[f]; !ok {
			order[f] = i
		}
	}
	byPlace := func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(order[a.File], order[b.File]), cmp.Compare(a.Line, b.Line))
	}
	slices.SortStableFunc(d.errs, byPlace)
	slices.SortStableFunc(d.warns, byPlace)
	if d.moreErrs > 0 {
		d.errs = append(d.errs, Diagnostic{File: name, Msg: fmt.Sprintf("%d more errors not shown", d.moreErrs), more: d.moreErrs})
	}
	if d.moreWarns > 0 {
		d.warns = append(d.warns, Diagnostic{File: name, Msg: fmt.Sprintf("%d more warnings not shown", d.moreWarns), more: d.moreWarns})
	}
	cfg.Warnings = d.warns
	if len(d.errs) > 0 {
		return cfg, d.errs
	}
	return cfg, nil
}

// decoder turns nodes into a Config.
type decoder struct {
	d   *diags
	cfg *Config
	seq int // declaration order of top-level blocks

	scriptSeq map[string]int // vrrp_script name -> declaration order
	scripts   map[string]int // name -> index in cfg.Scripts
	checks    map[string]int // name -> index in cfg.NginxChecks
	instances map[string]int // name -> index in cfg.Instances
	instSeq   []int          // per instance
	trackNode [][]*node      // per instance: its track_script entries
	groupPos  []Pos          // where each sync group member was written, all groups in turn
	groupSpan []int          // per sync group: the end of its members in groupPos
	// Per sync group: its track_script entries, track_interface entries
	// and declaration order.
	groupTracks [][]*node
	groupIfs    [][]TrackInterface
	groupSeq    []int
	// skipped: the lexer dropped lines it refused (@ROUTER_ID, ...); a
	// keyword found missing may be on one of them, so saying it is
	// missing would be false.
	skipped bool
	// unsupported maps "BLOCK KEYWORD" of a keepalived keyword vipd
	// ignores to its warning in d.warns.
	unsupported map[string]int
}

func (dc *decoder) findScript(name string) *Script {
	if i, ok := dc.scripts[name]; ok {
		return &dc.cfg.Scripts[i]
	}
	return nil
}

func (dc *decoder) findCheck(name string) *NginxCheck {
	if i, ok := dc.checks[name]; ok {
		return &dc.cfg.NginxChecks[i]
	}
	return nil
}

func (dc *decoder) findInstance(name string) *Instance {
	if i, ok := dc.instances[name]; ok {
		return &dc.cfg.Instances[i]
	}
	return nil
}

// handler decodes one keyword; block tells whether it takes { }.
type handler struct {
	block bool
	fn    func(n *node)
}

// keywords dispatches the lines of a block to handlers. ctx names the block
// in messages, e.g. "vrrp_instance VI_1".
func (dc *decoder) keywords(ctx string, nodes []*node, given map[string]Pos, hs map[string]handler) {
	for _, n := range nodes {
		kw := n.keyword()
		h, ok := hs[kw]
		if !ok {
			dc.unknown(ctx, n, hs)
			continue
		}
		if h.block && !n.hasBlock {
			dc.d.errorf(n.pos, "%s: expected a block { ... }", kw)
			continue
		}
		if !h.block && n.hasBlock {
			dc.d.errorf(n.pos, "%s: takes no block", kw)
			continue
		}
		if first, dup := given[kw]; dup && !h.block {
			dc.d.warnf(n.pos, "%s: given again (first at %s); the last one counts", kw, first)
		}
		if _, dup := given[kw]; !dup {
			given[kw] = n.pos
		}
		h.fn(n)
	}
}

// unknown reports a keyword vipd does not read. It is a warning, as in
// keepalived, but never silent.
func (dc *decoder) unknown(ctx string, n *node, hs map[string]handler) {
	kw := n.keyword()
	in := ""
	if ctx != "top level" {
		in = " in " + ctx
	}
	var msg string
	if keepalivedKeywords[kw] {
		// Named once: later uses in the same kind of block are listed on
		// the first one's warning.
		key := strings.Fields(ctx)[0] + " " + kw
		if i, ok := dc.unsupported[key]; ok && i < len(dc.d.warns) {
			w := &dc.d.warns[i]
			if !strings.HasSuffix(w.Msg, ")") {
				w.Msg += " (also at "
			} else {
				w.Msg = strings.TrimSuffix(w.Msg, ")") + ", "
			}
			w.Msg += n.pos.String() + ")"
			return
		}
		if dc.unsupported == nil {
			dc.unsupported = map[string]int{}
		}
		dc.unsupported[key] = len(dc.d.warns)
		msg = fmt.Sprintf("%s: keepalived keyword not supported by vipd%s; ignored", kw, in)
	} else {
		msg = fmt.Sprintf("unknown keyword %q%s; ignored", kw, in)
		if s := suggest(kw, hs); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
	}
	if n.hasBlock && ctx != "top level" && !keepalivedKeywords[kw] {
		// keepalived has no sub-keywords for a keyword it does not know:
		// it reads the block's lines as part of the enclosing block, and
		// its "}" closes the enclosing block early. A keyword it knows
		// (notification_email, virtual_routes, ...) reads its own block.
		msg += fmt.Sprintf("; keepalived would end %s at this block's \"}\"", ctx)
	}
	dc.d.warnf(n.pos, "%s", msg)
}

// suggest returns the known keyword nearest to kw, if it is close.
func suggest(kw string, hs map[string]handler) string {
	best, bestD := "", 3
	for k := range hs {
		if d := editDistance(kw, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if bestD > 2 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Argument readers. Each reports its own error and returns ok=false.

func (dc *decoder) none(n *node) bool {
	if len(n.args()) > 0 {
		dc.d.errorf(n.pos, "%s: takes no value, got %s", n.keyword(), quoteList(n.args()))
		return false
	}
	return true
}

func (dc *decoder) one(n *node, want string) (string, bool) {
	switch a := n.args(); len(a) {
	case 0:
		dc.d.errorf(n.pos, "%s: expected %s, got nothing", n.keyword(), want)
	case 1:
		return a[0], true
	default:
		dc.d.errorf(n.pos, "%s: expected %s, got %d values %s (keepalived would use only the first)", n.keyword(), want, len(a), quoteList(a))
	}
	return "", false
}

func (dc *decoder) uintArg(n *node, lo, hi int) (int, bool) {
	want := fmt.Sprintf("an integer %d-%d", lo, hi)
	s, ok := dc.one(n, want)
	if !ok {
		return 0, false
	}
	v, ok := parseUint(s, lo, hi)
	if !ok {
		dc.d.errorf(n.pos, "%s: expected %s, got %q", n.keyword(), want, s)
	}
	return v, ok
}

// secondsArg reads a duration in seconds. whole refuses fractions, for
// the keywords keepalived reads as integers.
func (dc *decoder) secondsArg(n *node, lo, hi time.Duration, whole bool) (time.Duration, bool) {
	want := fmt.Sprintf("seconds %s-%s", seconds(lo), seconds(hi))
	if whole {
		want = fmt.Sprintf("whole seconds %s-%s", seconds(lo), seconds(hi))
	}
	s, ok := dc.one(n, want)
	if !ok {
		return 0, false
	}
	v, ok := parseSeconds(s)
	if ok && whole && v%time.Second != 0 {
		dc.d.errorf(n.pos, "%s: expected %s, got %q (keepalived reads this value as an integer)", n.keyword(), want, s)
		return 0, false
	}
	if !ok || v < lo || v > hi {
		dc.d.errorf(n.pos, "%s: expected %s, got %q", n.keyword(), want, s)
		return 0, false
	}
	return v, true
}

// command reads a script line. keepalived splits the line once and then the
// command string again, so a command with arguments must be quoted: without
// quotes keepalived runs the first word and silently drops the others.
func (dc *decoder) command(n *node) ([]string, bool) {
	kw := n.keyword()
	line, err := splitCommand(n.raw)
	if err != nil {
		dc.d.errorf(n.pos, "%s: %v", kw, err)
		return nil, false
	}
	switch {
	case len(line) < 2:
		dc.d.errorf(n.pos, "%s: expected a command, got nothing", kw)
		return nil, false
	case len(line) > 2:
		dc.d.errorf(n.pos, "%s: keepalived would run only %q and drop %s; quote the whole command: %s \"%s\"",
			kw, line[1], quoteList(line[2:]), kw, strings.Join(line[1:], " "))
		return nil, false
	}
	argv, err := splitCommand(line[1])
	if err != nil {
		dc.d.errorf(n.pos, "%s: %v", kw, err)
		return nil, false
	}
	if len(argv) == 0 || argv[0] == "" {
		dc.d.errorf(n.pos, "%s: expected a command, got an empty string", kw)
		return nil, false
	}
	return argv, true
}

// notifyCommand reads a notify line: "CMD" [USER [GROUP]]. keepalived
// (notify_script_init) takes the words after the command as the user and
// group the script runs as, not as arguments.
func (dc *decoder) notifyCommand(n *node) (NotifyScript, bool) {
	kw := n.keyword()
	line, err := splitCommand(n.raw)
	if err != nil {
		dc.d.errorf(n.pos, "%s: %v", kw, err)
		return NotifyScript{}, false
	}
	switch {
	case len(line) < 2:
		dc.d.errorf(n.pos, "%s: expected a command, got nothing", kw)
		return NotifyScript{}, false
	case len(line) > 4:
		dc.d.errorf(n.pos, "%s: expected \"COMMAND\" [USER [GROUP]], got %d words after the command %s; quote the whole command",
			kw, len(line)-2, quoteList(line[2:]))
		return NotifyScript{}, false
	}
	argv, err := splitCommand(line[1])
	if err != nil {
		dc.d.errorf(n.pos, "%s: %v", kw, err)
		return NotifyScript{}, false
	}
	if len(argv) == 0 || argv[0] == "" {
		dc.d.errorf(n.pos, "%s: expected a command, got an empty string", kw)
		return NotifyScript{}, false
	}
	ns := NotifyScript{Command: argv, Pos: n.pos}
	if len(line) > 2 {
		ns.User = line[2]
	}
	if len(line) > 3 {
		ns.Group = line[3]
		dc.d.warnf(n.pos, "%s: group %s: vipd runs the script with user %s's own groups, not %s", kw, ns.Group, ns.User, ns.Group)
	}
	return ns, true
}

// shellCommand reports whether keepalived runs argv through /bin/sh -c
// rather than exec: a command starting "<" then "/" (blanks between
// allowed) only tests that a file opens (check_script_secure, SC_SYSTEM).
func shellCommand(argv []string) bool {
	a := argv[0]
	return len(a) > 1 && a[0] == '<' && strings.HasPrefix(strings.TrimLeft(a[1:], " \t"), "/")
}

// shellLine is the line keepalived hands /bin/sh -c (cmd_str): the first
// word bare, the others in single quotes.
func shellLine(argv []string) string {
	q := []string{argv[0]}
	for _, a := range argv[1:] {
		q = append(q, "'"+a+"'")
	}
	return strings.Join(q, " ")
}

func quoteList(a []string) string {
	q := make([]string, len(a))
	for i, s := range a {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " ")
}

// name reads the NAME of "vrrp_instance NAME {".
func (dc *decoder) name(n *node) (string, bool) {
	if len(n.words) != 2 {
		dc.d.errorf(n.pos, "%s: expected one name before \"{\", got %d words", n.keyword(), len(n.words)-1)
		return "", false
	}
	if n.words[1] == "" {
		dc.d.errorf(n.pos, "%s: expected a name, got an empty string", n.keyword())
		return "", false
	}
	return n.words[1], true
}

// top decodes the top level of the configuration.
func (dc *decoder) top(nodes []*node) {
	hs := map[string]handler{
		"global_defs":      {true, dc.global},
		"vrrp_script":      {true, dc.script},
		"vrrp_instance":    {true, dc.instance},
		"vipd_nginx_check": {true, dc.nginxCheck},
		"vrrp_sync_group":  {true, dc.syncGroup},
	}
	for _, n := range nodes {
		dc.seq++
		h, ok := hs[n.keyword()]
		switch {
		case !ok:
			dc.unknown("top level", n, hs)
		case !n.hasBlock:
			dc.d.errorf(n.pos, "%s: expected a block { ... }", n.keyword())
		default:
			h.fn(n)
		}
	}
}

func (dc *decoder) global(n *node) {
	if !dc.none(n) {
		return
	}
	g := &dc.cfg.Global
	dc.keywords("global_defs", n.block, g.given, map[string]handler{
		"router_id": {false, func(n *node) {
			if s, ok := dc.one(n, "a name"); ok {
				g.RouterID = s
			}
		}},
		"vrrp_version": {false, func(n *node) {
			if v, ok := dc.uintArg(n, 2, 3); ok {
				g.VRRPVersion = v
			}
		}},
		"script_user": {false, func(n *node) {
			switch a := n.args(); len(a) {
			case 1, 2:
				g.ScriptUser = a[0]
				if len(a) == 2 {
					g.ScriptGroup = a[1]
				}
			default:
				dc.d.errorf(n.pos, "script_user: expected USER [GROUP], got %d values", len(a))
			}
		}},
		"vrrp_strict": {false, func(n *node) {
			if dc.none(n) {
				g.Strict = true
				dc.d.warnf(n.pos, "vrrp_strict: vipd has no strict mode of its own: it refuses what strict mode would change in an instance (state, authentication, unicast peers), but does not copy its firewall: keepalived in strict mode turns accept mode off and, built with nftables as Debian's 2.2.7 is, drops traffic to the VIPs unless the node is the address owner; vipd's VIPs accept traffic")
			}
		}},
		"enable_script_security": {false, func(n *node) {
			g.EnableScriptSecurity = dc.none(n)
		}},
		"vrrp_startup_delay": {false, func(n *node) {
			if v, ok := dc.secondsArg(n, time.Millisecond, 3600*time.Second, false); ok {
				g.StartupDelay = v
			}
		}},
		"vrrp_garp_master_delay": {false, func(n *node) {
			if v, ok := dc.secondsArg(n, 0, 3600*time.Second, true); ok {
				g.GARPMasterDelay = v
			}
		}},
		"vrrp_garp_master_repeat": {false, func(n *node) {
			if v, ok := dc.uintArg(n, 1, 1000); ok {
				g.GARPMasterRepeat = v
			}
		}},
	})
}

func (dc *decoder) script(n *node) {
	name, ok := dc.name(n)
	if !ok {
		return
	}
	if prev := dc.findScript(name); prev != nil {
		dc.d.errorf(n.pos, "vrrp_script %s: already defined at %s", name, prev.Pos)
		return
	}
	if prev := dc.findCheck(name); prev != nil {
		dc.d.errorf(n.pos, "vrrp_script %s: the name is taken by vipd_nginx_check at %s", name, prev.Pos)
		return
	}
	s := Script{Name: name, Pos: n.pos, given: map[string]Pos{}}
	errs := dc.d.count()
	dc.keywords("vrrp_script "+name, n.block, s.given, map[string]handler{
		"script": {false, func(n *node) {
			argv, ok := dc.command(n)
			if !ok {
				return
			}
			if shellCommand(argv) {
				line := shellLine(argv)
				msg := fmt.Sprintf("script %q: keepalived runs a command starting \"</\" with /bin/sh -c, and so does vipd", line)
				if strings.Contains(line, "/dev/tcp/") || strings.Contains(line, "/dev/udp/") {
					msg += fmt.Sprintf("; /dev/tcp and /dev/udp are bash's: where /bin/sh is not bash (Debian's is dash) the check always fails. Write script \"/bin/bash -c '%s'\"", line)
				}
				dc.d.warnf(n.pos, "%s", msg)
				argv = []string{"/bin/sh", "-c", line}
			}
			s.Command = argv
		}},
		"interval": {false, func(n *node) {
			if v, ok := dc.secondsArg(n, time.Second, 3600*time.Second, true); ok {
				s.Interval = v
			}
		}},
		"timeout": {false, func(n *node) {
			if v, ok := dc.secondsArg(n, time.Second, 3600*time.Second, true); ok {
				s.Timeout = v
			}
		}},
		"weight": {false, func(n *node) {
			s.Weight, s.Reverse, _ = dc.weight(n, n.args())
		}},
		"rise": {false, func(n *node) {
			if v, ok := dc.uintArg(n, 1, 1000); ok {
				s.Rise = v
			}
		}},
		"fall": {false, func(n *node) {
			if v, ok := dc.uintArg(n, 1, 1000); ok {
				s.Fall = v
			}
		}},
		"user": {false, func(n *node) {
			switch a := n.args(); len(a) {
			case 1, 2:
				s.User = a[0]
				if len(a) == 2 {
					s.Group = a[1]
				}
			default:
				dc.d.errorf(n.pos, "user: expected USER [GROUP], got %d values", len(a))
			}
		}},
		"init_fail": {false, func(n *node) {
			s.InitFail = dc.none(n)
		}},
	})
	if len(s.Command) == 0 {
		if _, given := s.given["script"]; !given && !dc.skipped {
			// keepalived drops such a script and then ignores every
			// track_script that names it.
			dc.d.errorf(n.pos, "vrrp_script %s: script is required (keepalived would drop this vrrp_script)", name)
		}
	}
	// The guard's defaults and rules, on a block the syntax accepted: one
	// message per mistake.
	g := s.Guard().WithDefaults()
	s.Interval, s.Timeout, s.Rise, s.Fall = g.Interval, g.Timeout, g.Rise, g.Fall
	if dc.d.count() == errs && (len(s.Command) > 0 || !dc.skipped) {
		dc.guardErrors(n.pos, "vrrp_script "+name, g.Validate())
	}
	dc.scriptSeq[name] = dc.seq
	dc.scripts[name] = len(dc.cfg.Scripts)
	dc.cfg.Scripts = append(dc.cfg.Scripts, s)
}

// weight reads "N [reverse]" from args, the words after "weight".
func (dc *decoder) weight(n *node, args []string) (w int, reverse, ok bool) {
	const want = "an integer -253..253 [reverse]"
	if len(args) == 0 || len(args) > 2 {
		dc.d.errorf(n.pos, "weight: expected %s, got %s", want, nothingOr(args))
		return 0, false, false
	}
	w, ok = parseInt(args[0], -253, 253)
	if !ok {
		dc.d.errorf(n.pos, "weight: expected %s, got %q", want, args[0])
		return 0, false, false
	}
	if len(args) == 2 {
		if args[1] != "reverse" {
			dc.d.errorf(n.pos, "weight: expected %s, got %q after the number", want, args[1])
			return 0, false, false
		}
		reverse = true
	}
	return w, reverse, true
}

func nothingOr(a []string) string {
	if len(a) == 0 {
		return "nothing"
	}
	return quoteList(a)
}

// guardErrors reports each of the guard's objections to block, at p.
func (dc *decoder) guardErrors(p Pos, block string, err error) {
	if err == nil {
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		dc.d.errorf(p, "%s: %v", block, e)
	}
}

func (dc *decoder) nginxCheck(n *node) {
	name, ok := dc.name(n)
	if !ok {
		return
	}
	if prev := dc.findCheck(name); prev != nil {
		dc.d.errorf(n.pos, "vipd_nginx_check %s: already defined at %s", name, prev.Pos)
		return
	}
	if prev := dc.findScript(name); prev != nil {
		dc.d.errorf(n.pos, "vipd_nginx_check %s: the name is taken by vrrp_script at %s", name, prev.Pos)
		return
	}
	c := NginxCheck{Name: name, Pos: n.pos, given: map[string]Pos{}}
	errs := dc.d.count()
	const minPeriod = 10 * time.Millisecond
	dc.keywords("vipd_nginx_check "+name, n.block, c.given, map[string]handler{
		"url": {false, func(n *node) {
			s, ok := dc.one(n, "an http:// or https:// URL")
			if !ok {
				return
			}
			if guard.CheckURL(s) != nil {
				dc.d.errorf(n.pos, "url: expected an http:// or https:// URL with a host, got %q", s)
				return
			}
			c.URL = s
		}},
		"pidfile": {false, func(n *node) {
			if s, ok := dc.one(n, "a file name"); ok {
				if !strings.HasPrefix(s, "/") {
					dc.d.errorf(n.pos, "pidfile: expected an absolute path, got %q", s)
					return
				}
				c.PIDFile = s
			}
		}},
		"interval": {false, func(n *node) {
			if v, ok := dc.secondsArg(n, minPeriod, time.Hour, false); ok {
				c.Interval = v
			}
		}},
		"timeout": {false, func(n *node) {
			if v, ok := dc.secondsArg(n, minPeriod, time.Hour, false); ok {
				c.Timeout = v
			}
		}},
		"rise": {false, func(n *node) {
			if v, ok := dc.uintArg(n, 1, 1000); ok {
				c.Rise = v
			}
		}},
		"fall": {false, func(n *node) {
			if v, ok := dc.uintArg(n, 1, 1000); ok {
				c.Fall = v
			}
		}},
		"weight": {false, func(n *node) {
			w, rev, ok := dc.weight(n, n.args())
			if ok && rev {
				dc.d.errorf(n.pos, "weight: vipd_nginx_check takes no \"reverse\"")
				return
			}
			c.Weight = w
		}},
		"start_command": {false, func(n *node) {
			if argv, ok := dc.command(n); ok {
				c.StartCommand = argv
			}
		}},
		"restart_deadline": {false, func(n *node) {
			if v, ok := dc.secondsArg(n, 0, time.Minute, false); ok {
				c.RestartDeadline = v
				if v == 0 {
					c.RestartDeadline = guard.NoRestart
				}
			}
		}},
	})
	g := c.Guard().WithDefaults()
	c.Interval, c.Timeout, c.Rise, c.Fall = g.Interval, g.Timeout, g.Rise, g.Fall
	c.StartCommand, c.RestartDeadline = g.Start, g.RestartDeadline
	if dc.d.count() == errs {
		dc.guardErrors(n.pos, "vipd_nginx_check "+name, g.Validate())
	}
	if c.Timeout > c.Interval {
		if p, ok := c.given["timeout"]; ok {
			dc.d.warnf(p, "timeout %ss is longer than interval %ss: probes never overlap, so a hung nginx is probed every %ss",
				seconds(c.Timeout), seconds(c.Interval), seconds(c.Timeout))
		}
	}
	dc.checks[name] = len(dc.cfg.NginxChecks)
	dc.cfg.NginxChecks = append(dc.cfg.NginxChecks, c)
}
