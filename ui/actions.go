package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"

	"github.com/vipkit/vip/node/control"
)

// This file is the one definition of every action kind: what it is called,
// what it does, what it checks before, what it runs, how long its effect
// may take and must hold, what must then be true, how to return to a safe
// state when it fails, and what it leaves broken. Adding an action is one
// entry in actionTable.

// actionDef is one kind of action.
type actionDef struct {
	title string
	// binding is the key that asks for it (nil: none, as for baseline).
	binding func(KeyMap) key.Binding
	// onMaster: it runs on the pair's MASTER (else on a failed node).
	onMaster bool
	// failover: it must move the VIP off the MASTER.
	failover bool
	// typed: the operator types the node's name, as for anything that
	// moves the VIP or may.
	typed bool
	// effect says what it does, for the confirmation.
	effect func(target, peer string) string
	// precheck adds the kind's own pre-checks to the common ones.
	precheck func(p *pairView, ck *check)
	// commands are what runs on the target.
	commands func(env commandEnv) []Command
	// settle is how long every expectation must hold before it passes;
	// deadline how long they have to come true after the commands.
	settle, deadline time.Duration
	// expect evaluates the expectations now; a non-nil failure ends the
	// action at once.
	expect func(x *expecter) *failure
	// remedy says how to return to a safe state after a failure.
	remedy func(r remedyCtx) string
	// leaves is what it breaks until repaired; clears what it repairs.
	leaves, clears Debt
	// keepalived is what differs on a node that runs keepalived (nil:
	// nothing but the commands, which commands picks by commandEnv).
	keepalived *keepalivedDef
	// step and explain are its title and one line as a drill step.
	step, explain string
}

// keepalivedDef is what an action does differently on a keepalived
// node: keepalived has no operator fault and no guard of its own, and the
// seed's check_nginx.sh stops keepalived when nginx cannot start.
type keepalivedDef struct {
	effect func(target, peer string) string
	expect func(x *expecter) *failure
	leaves Debt // instead of the action's
	// refuse, if set, is why the action cannot run on keepalived.
	refuse string
}

// effectFor, expectFor and leavesFor are the action's on a node of that
// daemon.
func (d *actionDef) effectFor(keepalived bool) func(target, peer string) string {
	if keepalived && d.keepalived != nil && d.keepalived.effect != nil {
		return d.keepalived.effect
	}
	return d.effect
}

func (d *actionDef) expectFor(keepalived bool) func(x *expecter) *failure {
	if keepalived && d.keepalived != nil && d.keepalived.expect != nil {
		return d.keepalived.expect
	}
	return d.expect
}

func (d *actionDef) leavesFor(keepalived bool) Debt {
	if keepalived && d.keepalived != nil && d.keepalived.leaves != 0 {
		return d.keepalived.leaves
	}
	return d.leaves
}

// commandEnv is what an action's commands depend on.
type commandEnv struct {
	c        Commands
	vipd     VipdCLI
	a        Action
	by       string
	vipdDown bool // the target's vipd is known not to run
}

func (e commandEnv) reason() string {
	if e.a.Reason == "" {
		return "drill"
	}
	return e.a.Reason
}

func run(lines []string) []Command {
	out := make([]Command, 0, len(lines))
	for _, l := range lines {
		out = append(out, Command{Line: l})
	}
	return out
}

func checks(lines []string) []Command {
	out := run(lines)
	for i := range out {
		out[i].Check = true
	}
	return out
}

var actionTable = map[ActionKind]*actionDef{
	ActionFailNginx: {
		title:    "failover drill: nginx fails",
		binding:  func(k KeyMap) key.Binding { return k.FailNginx },
		onMaster: true, failover: true, typed: true,
		effect: func(t, peer string) string {
			return fmt.Sprintf("nginx on %s is stopped and held down, so vipd cannot restart it: %s gives the VIP up and %s takes it over. Clients see a short outage; %s stays out until repaired (H), then rejoins as BACKUP by itself.", t, t, peer, t)
		},
		commands: func(e commandEnv) []Command { return run(e.c.NginxBreak) },
		settle:   time.Second, deadline: 30 * time.Second,
		expect: func(x *expecter) *failure { x.gaveUp(); x.tookOver(); return nil },
		keepalived: &keepalivedDef{
			effect: func(t, peer string) string {
				return fmt.Sprintf("nginx on %s is stopped and held down, so check_nginx.sh cannot start it and stops keepalived: %s takes the VIP over. Clients see a short outage; %s stays out until nginx is repaired (H) and keepalived started again (R).", t, peer, t)
			},
			expect: func(x *expecter) *failure { x.vipdStopped(); x.tookOver(); return nil },
			leaves: DebtNginxHeld | DebtVipdStopped,
		},
		remedy: func(r remedyCtx) string {
			return fmt.Sprintf("nginx on %s is held down by the drill: repair it (H)%s; it rejoins as BACKUP when nginx is healthy.", r.target, r.cmds(ActionRepair, r.target))
		},
		leaves: DebtNginxHeld,
		step:   "failover: nginx fails on the MASTER", explain: "nginx on the MASTER is held down so that vipd cannot restart it: the node must give the VIP up and the BACKUP answer on it.",
	},
	ActionStopVipd: {
		title:    "failover drill: vipd stops",
		binding:  func(k KeyMap) key.Binding { return k.StopVipd },
		onMaster: true, failover: true, typed: true,
		effect: func(t, peer string) string {
			return fmt.Sprintf("vipd on %s stops gracefully, as the seed kills keepalived: it gives the VIP up with priority 0 and %s takes it over. %s stays out until re-enabled (R).", t, peer, t)
		},
		commands: func(e commandEnv) []Command {
			if e.a.Keepalived {
				return run(e.c.KeepalivedStop)
			}
			return run(e.c.VipdStop)
		},
		settle: time.Second, deadline: 30 * time.Second,
		expect: func(x *expecter) *failure { x.vipdStopped(); x.tookOver(); return nil },
		keepalived: &keepalivedDef{effect: func(t, peer string) string {
			return fmt.Sprintf("keepalived on %s stops gracefully, as the seed's check_nginx.sh stops it: it gives the VIP up with priority 0 and %s takes it over. %s stays out until keepalived is started again (R).", t, peer, t)
		}},
		remedy: func(r remedyCtx) string {
			return fmt.Sprintf("vipd on %s is stopped: re-enable it (R)%s; it rejoins as BACKUP, or takes the VIP if %s does not hold it.", r.target, r.cmdsDown(ActionResume, r.target), orOK(r.peer, "no other node"))
		},
		leaves: DebtVipdStopped,
		step:   "failover: stop vipd on the MASTER", explain: "vipd on the MASTER stops gracefully, as the seed kills keepalived: the VIP must move to the BACKUP, which must answer on it.",
	},
	ActionFault: {
		title:    "failover drill: forced give-up",
		binding:  func(k KeyMap) key.Binding { return k.Fault },
		onMaster: true, failover: true, typed: true,
		effect: func(t, peer string) string {
			return fmt.Sprintf("vipd on %s gives the VIP up (operator FAULT, reason \"drill\") and %s takes it over. %s stays in FAULT until re-enabled (R).", t, peer, t)
		},
		commands: func(e commandEnv) []Command {
			return []Command{{Line: e.vipd.Fault(e.a.Instance, e.reason(), e.by)}}
		},
		precheck: func(p *pairView, ck *check) {
			if ck.a.Keepalived {
				ck.fail("%s runs keepalived, which has no operator fault: stop keepalived instead (S)", ck.target.name)
			}
		},
		settle: time.Second, deadline: 30 * time.Second,
		expect: func(x *expecter) *failure { x.gaveUp(); x.tookOver(); return nil },
		remedy: func(r remedyCtx) string {
			return fmt.Sprintf("%s is in operator FAULT: re-enable it (R)%s.", r.target, r.cmds(ActionResume, r.target))
		},
		leaves: DebtFault,
		step:   "failover: forced give-up on the MASTER", explain: "vipd ctl fault --reason drill on the MASTER: it must give the VIP up and the BACKUP answer on it.",
	},
	ActionRestartNginx: {
		title:    "nginx restart check",
		binding:  func(k KeyMap) key.Binding { return k.RestartNginx },
		onMaster: true, typed: true,
		effect: func(t, peer string) string {
			return fmt.Sprintf("nginx on %s is stopped. vipd's guard must start it again and the VIP must stay on %s; if the restart fails, the VIP moves to %s.", t, t, peer)
		},
		precheck: func(p *pairView, ck *check) { ck.nginxHealthy(ck.target) },
		commands: func(e commandEnv) []Command { return run(e.c.NginxStop) },
		keepalived: &keepalivedDef{effect: func(t, peer string) string {
			return fmt.Sprintf("nginx on %s is stopped. check_nginx.sh (every 2 s) must start it again and the VIP must stay on %s; if it cannot, it stops keepalived and the VIP moves to %s.", t, t, peer)
		}},
		settle: time.Second, deadline: 30 * time.Second,
		expect: func(x *expecter) *failure {
			if f := x.stays(x.t); f != nil {
				f.why += ": vipd could not restart nginx in time"
				return f
			}
			x.restarted()
			x.answers(x.t)
			return nil
		},
		remedy: func(r remedyCtx) string {
			return fmt.Sprintf("nginx on %s may still be down: repair it (H)%s; if the VIP moved, %s rejoins as BACKUP once nginx is healthy.", r.target, r.cmds(ActionRepair, r.target), r.target)
		},
		leaves: DebtNginxStopped,
		step:   "kill nginx and watch it come back", explain: "nginx on the MASTER is stopped: vipd's guard must start it again (the seed's check_nginx.sh) and the VIP must stay.",
	},
	ActionRepair: {
		title:   "repair",
		binding: func(k KeyMap) key.Binding { return k.Repair },
		effect: func(t, peer string) string {
			if peer == "" {
				return fmt.Sprintf("nginx on %s is started (unmasked first) and must turn healthy. No node holds the VIP: %s may take it once healthy.", t, t)
			}
			return fmt.Sprintf("nginx on %s is started (unmasked first) and must turn healthy; %s then rejoins as BACKUP by itself and the VIP stays on %s.", t, t, peer)
		},
		precheck: func(p *pairView, ck *check) {
			if t := ck.target; t.live() && guardOf(t) != nil && nginxProblem(t) == "" {
				ck.fail("nginx on %s is already healthy: nothing to repair", t.name)
			}
		},
		commands: func(e commandEnv) []Command { return append(run(e.c.NginxRepair), checks(e.c.NginxCheck)...) },
		settle:   time.Second, deadline: 30 * time.Second,
		expect: func(x *expecter) *failure {
			if f := x.stays(x.peer); f != nil {
				return f
			}
			x.nginxRepaired()
			if f := x.rejoined(); f != nil {
				return f
			}
			x.answers(x.peer)
			return nil
		},
		remedy: func(r remedyCtx) string {
			return fmt.Sprintf("nginx on %s is still not healthy: look on the node (journalctl -u nginx, nginx -t), fix it and repair again. %s keeps the VIP meanwhile, which is safe.", r.target, orOK(r.peer, "No node"))
		},
		clears: DebtNginxHeld | DebtNginxStopped,
		step:   "repair the failed node", explain: "nginx is started on the node that lost the VIP and must turn healthy; the node must rejoin as BACKUP by itself, the VIP staying where it is.",
	},
	ActionResume: {
		title:   "re-enable without preemption",
		binding: func(k KeyMap) key.Binding { return k.Resume },
		effect: func(t, peer string) string {
			return fmt.Sprintf("%s rejoins as BACKUP without preemption. The VIP must stay on %s and the probe must see no error.", t, peer)
		},
		precheck: precheckResume,
		commands: func(e commandEnv) []Command {
			if e.a.Keepalived {
				return run(e.c.KeepalivedStart)
			}
			if e.vipdDown {
				return run(e.c.VipdStart)
			}
			return []Command{{Line: e.vipd.Resume(e.a.Instance, e.by)}}
		},
		// A node's feed retries a watch with backoff: after a long vipd
		// stop it may take a while to see vipd back.
		settle: 3 * time.Second, deadline: time.Minute,
		expect: func(x *expecter) *failure {
			if f := x.probeClean("while " + x.t.name + " rejoined"); f != nil {
				return f
			}
			if f := x.stays(x.peer); f != nil {
				return f
			}
			if f := x.rejoined(); f != nil {
				return f
			}
			x.probeSawNoError("the probe saw no error during the rejoin")
			x.answers(x.peer)
			return nil
		},
		remedy: func(r remedyCtx) string {
			if r.fail.kind == failMoved {
				return "The VIP moved on rejoin: the pair serves from whichever node holds it now; check nopreempt on both nodes before the next drill."
			}
			return fmt.Sprintf("%s did not rejoin cleanly: see vipd's log on it (journalctl -u vipd). %s keeps the VIP, which is safe; re-enable again (R) once fixed.", r.target, orOK(r.peer, "No node"))
		},
		clears: DebtVipdStopped | DebtFault,
		step:   "re-enable without preemption", explain: "The failed node rejoins: it must come up BACKUP, the VIP must not move, and the probe must see no error.",
	},
	ActionBaseline: {
		title:    "baseline",
		onMaster: true,
		effect: func(t, peer string) string {
			return fmt.Sprintf("Nothing runs: the pair is watched; %s must hold the VIP, %s be a healthy BACKUP and the probe see no error.", t, peer)
		},
		precheck: func(p *pairView, ck *check) { ck.nginxHealthy(ck.target) },
		commands: func(commandEnv) []Command { return nil },
		settle:   3 * time.Second, deadline: 15 * time.Second,
		expect: func(x *expecter) *failure {
			if f := x.probeClean(""); f != nil {
				return f
			}
			x.holdsVIP(x.t)
			if x.peer != nil {
				why := x.p.backupProblem(x.peer)
				x.add(why == "", fmt.Sprintf("%s is a healthy BACKUP", x.peer.name), orOK(why, "BACKUP, no VIP, nginx healthy"))
			}
			x.add(nginxProblem(x.t) == "", "nginx healthy on "+x.t.name, orOK(nginxProblem(x.t), "healthy"))
			x.answers(x.t)
			x.probeSawNoError("the probe saw no error")
			return nil
		},
		remedy: func(remedyCtx) string {
			return "Nothing was changed: the pair is not in a state to drill; fix what the checks name and start again."
		},
		step: "baseline", explain: "Both nodes are watched for a few seconds: one MASTER holds the VIP, the other is a healthy BACKUP, and every probe request is answered.",
	},
}

// def is k's definition; an unknown kind gets an empty one that refuses.
func (k ActionKind) def() *actionDef {
	if d, ok := actionTable[k]; ok {
		return d
	}
	return &actionDef{title: string(k), commands: func(commandEnv) []Command { return nil }}
}

// DrillSteps is DrillStepsFor on vipd nodes.
func DrillSteps(failover ActionKind) ([]DrillStep, error) { return DrillStepsFor(failover, false) }

// DrillStepsFor is the seed's test section around one failover drill:
// baseline; nginx killed and restarted in place; the failover; then what
// repairs what the failover left broken (a repair of nginx, after which
// the node rejoins by itself; or a re-enable), so that the pair ends as it
// began with the VIP on the other node. On keepalived nodes (keepalived)
// the repairs are those of what the drill leaves there.
func DrillStepsFor(failover ActionKind, keepalived bool) ([]DrillStep, error) {
	d, ok := actionTable[failover]
	if !ok || !d.failover {
		return nil, fmt.Errorf("%q is not a failover drill", failover)
	}
	if keepalived && d.keepalived != nil && d.keepalived.refuse != "" {
		return nil, fmt.Errorf("%s: %s", failover, d.keepalived.refuse)
	}
	step := func(k ActionKind, t DrillTarget) DrillStep {
		d := actionTable[k]
		return DrillStep{Kind: k, Target: t, Title: d.step, Explain: d.explain}
	}
	steps := []DrillStep{step(ActionBaseline, TargetMaster), step(ActionRestartNginx, TargetMaster), step(failover, TargetMaster)}
	seen := map[ActionKind]bool{}
	for _, x := range debtNames {
		if d.leavesFor(keepalived)&x.d != 0 && !seen[x.fix] {
			seen[x.fix] = true
			steps = append(steps, step(x.fix, TargetFailed))
		}
	}
	return steps, nil
}

// Title is the action's name for the screen and the report.
func (k ActionKind) Title() string { return k.def().title }

// Failover reports whether the action must move the VIP off the MASTER.
func (k ActionKind) Failover() bool { return k.def().failover }

// Known reports whether k is an action kind.
func (k ActionKind) Known() bool { _, ok := actionTable[k]; return ok }

// Leaves is what an action of kind k breaks until it is repaired.
func (k ActionKind) Leaves() Debt { return k.def().leaves }

// A Debt is what drills broke on a node and nothing has repaired yet, as
// bits.
type Debt uint8

// Debts.
const (
	DebtNginxHeld    Debt = 1 << iota // held down: only a repair brings it back
	DebtNginxStopped                  // stopped for the restart check: vipd should have started it
	DebtVipdStopped
	DebtFault // operator FAULT
)

// debtNames, in the order Restore repairs them: nginx first, so that a
// node comes back as BACKUP with a healthy nginx.
var debtNames = []struct {
	d    Debt
	text string
	fix  ActionKind
}{
	{DebtNginxHeld, "nginx is held down on %s", ActionRepair},
	{DebtNginxStopped, "nginx was stopped on %s", ActionRepair},
	{DebtVipdStopped, "vipd is stopped on %s", ActionResume},
	{DebtFault, "%s is in operator FAULT", ActionResume},
}

// Describe says what d leaves broken on node, one line each.
func (d Debt) Describe(node string) []string {
	var out []string
	for _, x := range debtNames {
		if d&x.d != 0 && x.d != DebtNginxStopped {
			out = append(out, fmt.Sprintf(x.text, node))
		}
	}
	return out
}

// Command is one command line an action runs on its node.
type Command struct {
	Line string
	// Check marks a command that only looks (is nginx up?): its success
	// is evidence for the post-checks, its failure no error.
	Check bool
}

// VipdCLI writes the vipd command lines the actions run on a node (as
// feed.Vipd does).
type VipdCLI interface {
	Fault(instance, reason, by string) string
	Resume(instance, by string) string
}

// Commands are what the actions run on a node for what vipd does not do
// itself. Each entry is one simple command, run by itself over SSH (behind
// sudo -n when the pair uses sudo), so that a sudoers rule can name it; an
// action runs its entries in order and stops at the first that fails.
type Commands struct {
	NginxStop   []string // the restart check: vipd's guard must start nginx again
	NginxBreak  []string // nginx fails and is held down, so restarts fail
	NginxRepair []string // undo NginxBreak and start nginx
	NginxCheck  []string // exits 0 when nginx runs (evidence when vipd does not run)
	VipdStop    []string // vipd stops gracefully
	VipdStart   []string
	// KeepalivedStop and KeepalivedStart do the same on a node that runs
	// keepalived.
	KeepalivedStop  []string
	KeepalivedStart []string
}

// DefaultCommands are systemd's: nginx is held down by a runtime mask,
// which `systemctl start nginx` (vipd's start_command) cannot get past and
// which a reboot clears.
func DefaultCommands() Commands {
	return Commands{
		NginxStop:   []string{"systemctl stop nginx"},
		NginxBreak:  []string{"systemctl mask --runtime --now nginx"},
		NginxRepair: []string{"systemctl unmask --runtime nginx", "systemctl start nginx"},
		NginxCheck:  []string{"systemctl is-active --quiet nginx"},
		VipdStop:    []string{"systemctl stop vipd"},
		VipdStart:   []string{"systemctl start vipd"},

		KeepalivedStop:  []string{"systemctl stop keepalived"},
		KeepalivedStart: []string{"systemctl start keepalived"},
	}
}

// Zero reports whether c names no command.
func (c Commands) Zero() bool {
	return len(c.NginxStop)+len(c.NginxBreak)+len(c.NginxRepair)+len(c.NginxCheck)+len(c.VipdStop)+len(c.VipdStart)+
		len(c.KeepalivedStop)+len(c.KeepalivedStart) == 0
}

// Plan is what an action of kind a.Kind runs on a.Node: vipdDown says the
// node's vipd is known not to run (re-enable then starts it).
func Plan(a Action, c Commands, vipd VipdCLI, by string, vipdDown bool) []Command {
	return a.Kind.def().commands(commandEnv{c: c, vipd: vipd, a: a, by: by, vipdDown: vipdDown})
}

// Resolve is a with what its kind runs and breaks and repairs filled in,
// as the gate hands it to the Executor.
func Resolve(a Action, c Commands, vipd VipdCLI, by string, vipdDown bool) Action {
	a.Commands = Plan(a, c, vipd, by, vipdDown)
	d := a.Kind.def()
	a.Leaves, a.Clears = d.leavesFor(a.Keepalived), d.clears
	return a
}

// Undo is what repairs d on a node, in order: nginx first, then vipd
// started or the operator's fault ended, so that the node comes back as
// BACKUP with a healthy nginx. Each group is tried by Restore as a unit;
// nginx's group begins with the check that makes it unnecessary. On a
// keepalived node (keepalived) the daemon started is keepalived.
func Undo(d Debt, c Commands, vipd VipdCLI, by string, keepalived bool) []Restoring {
	var out []Restoring
	if d&(DebtNginxHeld|DebtNginxStopped) != 0 {
		out = append(out, Restoring{Debt: d & (DebtNginxHeld | DebtNginxStopped), What: "started nginx", Skip: c.NginxCheck, Lines: c.NginxRepair})
	}
	switch {
	case keepalived && d&DebtVipdStopped != 0:
		out = append(out, Restoring{Debt: d & (DebtVipdStopped | DebtFault), What: "started keepalived", Lines: c.KeepalivedStart})
	case d&DebtVipdStopped != 0:
		// A new vipd has no operator fault.
		out = append(out, Restoring{Debt: d & (DebtVipdStopped | DebtFault), What: "started vipd", Lines: c.VipdStart})
	case d&DebtFault != 0:
		out = append(out, Restoring{Debt: DebtFault, What: "ended the operator fault", Lines: []string{vipd.Resume("", by)}})
	}
	return out
}

// Restoring is one repair Restore makes.
type Restoring struct {
	Debt  Debt
	What  string
	Skip  []string // if these succeed, the repair is not needed
	Lines []string
}

// failureKind sorts what ends an action at once, for its remedy.
type failureKind int

const (
	failOther      failureKind = iota
	failSplitBrain             // both nodes hold the VIP
	failMoved                  // the VIP moved where it had to stay
	failProbe                  // the VIP did not answer where no outage is allowed
)

// failure is what ends an action at once: no waiting can undo it.
type failure struct {
	kind failureKind
	why  string
}

// remedyCtx is what a remedy is written from.
type remedyCtx struct {
	target, peer string
	fail         failure
	// cmds and cmdsDown say what an action would run on a node, as
	// " (on NODE: CMD; CMD)", vipd running or not.
	cmds, cmdsDown func(k ActionKind, node string) string
}

// remedy says how to return to a safe state after r failed.
func (m *Model) remedy(r *runState, f failure) string {
	plan := func(down bool) func(ActionKind, string) string {
		return func(k ActionKind, node string) string {
			a := Action{Kind: k, Pair: r.a.Pair, Node: node, Instance: r.a.Instance}
			cmds := m.plan(a, down)
			if len(cmds) == 0 {
				return ""
			}
			var lines []string
			for _, c := range cmds {
				lines = append(lines, c.Line)
			}
			return " (on " + node + ": " + strings.Join(lines, "; ") + ")"
		}
	}
	rc := remedyCtx{target: r.target, peer: r.peer, fail: f, cmds: plan(false), cmdsDown: plan(true)}
	if f.kind == failSplitBrain {
		return fmt.Sprintf("At once: stop vipd on %s%s so that only %s holds the VIP; then find why both took it (adverts lost between them?).",
			r.target, rc.cmds(ActionStopVipd, r.target), r.peer)
	}
	return r.a.Kind.def().remedy(rc)
}

// precheckResume: a node to re-enable is one in FAULT or whose vipd is
// stopped, with the VIP safe on another that it must not take back.
func precheckResume(p *pairView, ck *check) {
	t := ck.target
	if t.live() {
		if in := p.vipInstance(t); in != nil && in.State == control.StateBackup && p.backupProblem(t) == "" {
			ck.fail("%s is already a healthy BACKUP: nothing to re-enable", t.name)
			return
		}
	}
	if ck.peer == nil {
		var whys []string
		for _, n := range p.nodes {
			if n != t {
				whys = append(whys, p.masterProblem(n))
			}
		}
		ck.fail("no other node holds the VIP (%s): re-enabling %s would make it take the VIP, which is no rejoin; repair the pair first",
			strings.Join(whys, "; "), t.name)
		return
	}
	in, pin := p.vipInstance(t), p.vipInstance(ck.peer)
	switch {
	case in == nil:
		ck.warn = fmt.Sprintf("the console never saw %s's configuration: it cannot tell whether it is nopreempt", t.name)
	case !in.NoPreempt && pin != nil && in.BasePriority > pin.EffectivePriority:
		ck.fail("%s is not nopreempt and its priority %d is above %s's %d: it would take the VIP back; add nopreempt to its vrrp_instance first",
			t.name, in.BasePriority, ck.peer.name, pin.EffectivePriority)
	case in.NoPreempt:
		ck.pass("%s is nopreempt", t.name)
	}
}
