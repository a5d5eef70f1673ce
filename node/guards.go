package node

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/guard"
)

// guardDef is one check tracked by some instance, as the guard package
// takes it. Two equal guardDefs run the same guard: a reload keeps it.
type guardDef struct {
	Name    string
	Nginx   bool
	NginxC  guard.NginxConfig  // Nginx: without Logger and callbacks
	Check   config.NginxCheck  // Nginx: as configured, for an NginxSystem; not compared
	ScriptC guard.ScriptConfig // vrrp_script: ditto
	URL     string             // for Status
	Command string             // for Status
	Pos     config.Pos         // not compared
	// InitFail is vrrp_script init_fail: failed until the first success.
	InitFail bool
}

func (a guardDef) same(b guardDef) bool {
	return a.Name == b.Name && a.Nginx == b.Nginx && a.URL == b.URL && a.Command == b.Command &&
		a.InitFail == b.InitFail && sameNginx(a.NginxC, b.NginxC) && sameScript(a.ScriptC, b.ScriptC)
}

func sameNginx(a, b guard.NginxConfig) bool {
	return a.Name == b.Name && a.URL == b.URL && a.PIDFile == b.PIDFile && a.MaxStatus == b.MaxStatus &&
		a.Interval == b.Interval && a.Timeout == b.Timeout && a.Rise == b.Rise && a.Fall == b.Fall &&
		a.Weight == b.Weight && equalStrings(a.Start, b.Start) && a.RestartDeadline == b.RestartDeadline &&
		a.Recheck == b.Recheck && a.Retry == b.Retry && a.History == b.History &&
		a.Process == b.Process && a.Probe == b.Probe && a.Runner == b.Runner
}

func sameScript(a, b guard.ScriptConfig) bool {
	return a.Name == b.Name && equalStrings(a.Command, b.Command) && a.User == b.User &&
		a.Interval == b.Interval && a.Timeout == b.Timeout && a.Rise == b.Rise && a.Fall == b.Fall &&
		a.Weight == b.Weight && a.History == b.History && a.Runner == b.Runner
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// guardDefs returns the checks that c's instances track, in file order:
// vipd_nginx_check blocks first, then vrrp_script blocks. Checks nobody
// tracks do not run (config warns about them).
func guardDefs(c *config.Config) []guardDef {
	tracked := map[string]bool{}
	for _, in := range c.Instances {
		for _, t := range in.Tracks {
			tracked[t.Name] = true
		}
	}
	var defs []guardDef
	for _, k := range c.NginxChecks {
		if !tracked[k.Name] {
			continue
		}
		defs = append(defs, guardDef{Name: k.Name, Nginx: true, URL: k.URL, Pos: k.Pos, Check: k, NginxC: k.Guard()})
	}
	for _, s := range c.Scripts {
		if !tracked[s.Name] {
			continue
		}
		sc := s.Guard()
		if sc.User == "" {
			sc.User = c.Global.ScriptUser
		}
		defs = append(defs, guardDef{Name: s.Name, Command: joinArgv(s.Command), Pos: s.Pos, InitFail: s.InitFail, ScriptC: sc})
	}
	return defs
}

// checker is what the daemon needs of guard.Nginx and guard.Script.
type checker interface {
	Run(ctx context.Context) error
	Status() guard.Status
}

// newChecker builds the guard of def; it starts nothing.
func newChecker(def guardDef, log *slog.Logger, onVerdict func(guard.Verdict, string), onResult func(guard.Result)) (checker, error) {
	if def.Nginx {
		c := def.NginxC
		c.Logger, c.OnVerdict, c.OnResult = log, onVerdict, onResult
		return guard.NewNginx(c)
	}
	c := def.ScriptC
	c.Logger, c.OnVerdict, c.OnResult = log, onVerdict, onResult
	return guard.NewScript(c)
}

// guardRun is a running guard.
type guardRun struct {
	def  guardDef
	c    checker
	task *task // nil: it never ran
}

// verdictState is the last verdict a guard reported. It outlives the guard
// across a reload that replaces it, until the new one decides.
type verdictState struct {
	v      guard.Verdict
	reason string
	since  time.Time
}

// pacer is a guard that checks less often where no clients are expected
// (guard.Nginx.Serving).
type pacer interface{ Serving(on bool) }

// paceGuards tells each guard whether an instance that tracks it is
// MASTER: only there do clients wait in nginx's accept queue, which is
// what catches a hung nginx. d.mu is held.
func (d *Daemon) paceGuards() {
	for name, g := range d.guards {
		p, ok := g.c.(pacer)
		if !ok {
			continue
		}
		serving := false
		for _, u := range d.units {
			if u.isMaster() && slices.Contains(u.currentSpec().Tracks, name) {
				serving = true
				break
			}
		}
		p.Serving(serving)
	}
}
