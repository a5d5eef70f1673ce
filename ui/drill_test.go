package ui

import (
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vipkit/vip/node/control"
)

// reports collects a drill's reports.
type reports struct {
	mu   sync.Mutex
	list []DrillReport
}

func (r *reports) add(rep DrillReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rep)
}

func (r *reports) last(t *testing.T) DrillReport {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.list) == 0 {
		t.Fatal("no report")
	}
	return r.list[len(r.list)-1]
}

func drillLab(t *testing.T, auto bool, steps ...DrillStep) (*gateLab, *reports) {
	t.Helper()
	reps := &reports{}
	g := newGateLabOpts(t, func(o *Options) {
		o.Drill = &Drill{Title: "test", Steps: steps, Auto: auto, Report: reps.add, StartWait: 10 * time.Second}
	})
	return g, reps
}

// do applies msg and what its Cmds answer at once, as the program would:
// reports, actions, the gate's results.
func (g *gateLab) do(msg tea.Msg) {
	queue := []tea.Msg{msg}
	for len(queue) > 0 {
		msg, queue = queue[0], queue[1:]
		for _, m := range cmdMsgs(g.apply(msg), 20*time.Millisecond) {
			switch m.(type) {
			case ActionMsg, drillActionMsg, actionResultMsg:
				queue = append(queue, m)
			}
		}
	}
}

var seedSteps = []DrillStep{
	{Kind: ActionBaseline, Title: "baseline"},
	{Kind: ActionFailNginx, Title: "failover"},
	{Kind: ActionRepair, Target: TargetFailed, Title: "repair"},
}

func TestDrillByHand(t *testing.T) {
	g, reps := drillLab(t, false, seedSteps...)
	g.steady()
	contains(t, g.screen(), "▶ 1 baseline · nginx-01", "enter runs step 1")

	// Step 1: enter, confirm, watch.
	g.do(press("enter"))
	if g.m.gate.confirm == nil || g.m.gate.confirm.typed {
		t.Fatalf("step 1: confirmation %+v, want an untyped one", g.m.gate.confirm)
	}
	g.do(press("enter"))
	for i := range 20 {
		g.sample(ProbeSample{Time: at(time.Duration(i) * 200 * time.Millisecond), OK: true, Backend: "nginx-01", Latency: time.Millisecond})
	}
	g.tick()
	g.advance(3 * time.Second)
	g.do(gateTickMsg{id: g.m.gate.run.id})
	if rep := reps.last(t); rep.Steps[0].Outcome == nil || rep.Steps[0].Outcome.Result != ResultPass || rep.Done {
		t.Fatalf("after step 1: %+v", rep.Steps[0].Outcome)
	}

	// Step 2: the failover, typed.
	g.do(press("enter"))
	if cf := g.m.gate.confirm; cf == nil || !cf.typed || cf.a.Node != "nginx-01" {
		t.Fatalf("step 2: confirmation %+v, want nginx-01 typed", cf)
	}
	g.typeText("nginx-01")
	g.do(press("enter"))
	g.nginxFails()
	g.confirmTakeover()
	g.advance(2 * time.Second)
	g.do(gateTickMsg{id: g.m.gate.run.id})
	if g.m.drill.failedFrom != "nginx-01" || g.m.drill.cur != 2 {
		t.Fatalf("after step 2: failed from %q, step %d; outcome %+v", g.m.drill.failedFrom, g.m.drill.cur+1, g.m.gate.shown)
	}
	contains(t, g.screen(), "✓ 1 baseline · nginx-01", "✓ 2 failover · nginx-01", "▶ 3 repair · nginx-01")

	// Step 3: repair the node the failover failed: vipd's guard turns
	// healthy after the command.
	g.do(press("enter"))
	g.do(press("y"))
	g.send(0, Update{Event: &control.Event{Time: at(5 * time.Second), Type: control.EventCheck, Guard: "nginx",
		Check: &control.Check{Time: at(5 * time.Second), OK: true, Phase: control.PhaseCheck}}})
	g.send(0, Update{Event: &control.Event{Time: at(5 * time.Second), Type: control.EventVerdict, Guard: "nginx", Verdict: control.VerdictHealthy}})
	// and the node rejoins as BACKUP by itself.
	g.send(0, Update{Event: transition(5*time.Second, control.StateFault, control.StateBackup, addr2, "nginx healthy")})
	g.send(0, Update{Status: status("nginx-01", g.instance(control.StateBackup, 150, false))})
	g.sample(ProbeSample{Time: g.clock, OK: true, Backend: "nginx-02", Latency: time.Millisecond})
	g.tick()
	g.advance(time.Second)
	g.do(gateTickMsg{id: g.m.gate.run.id})
	rep := reps.last(t)
	if !rep.Done || !rep.Passed() || rep.Aborted != "" {
		for _, s := range rep.Steps {
			t.Logf("%s: %+v", s.Step.Title, s.Outcome)
		}
		t.Fatalf("the drill did not pass: done %v aborted %q", rep.Done, rep.Aborted)
	}
	contains(t, g.screen(), "PASSED", "q quits and writes the report")
}

func TestDrillQuit(t *testing.T) {
	g, reps := drillLab(t, false, seedSteps...)
	g.steady()
	g.m.drill.cur = 1 // at the failover
	g.do(press("enter"))
	g.typeText("nginx-01")
	g.do(press("enter"))
	if g.m.gate.run == nil {
		t.Fatal("the failover does not run")
	}
	cmd := g.apply(press("q")) // not typing any more: q quits
	if cmd == nil {
		t.Fatal("q did nothing")
	}
	// The sequence reports, then quits.
	cmdMsgs(cmd, 50*time.Millisecond)
	rep := reps.last(t)
	if !rep.Done || !strings.Contains(rep.Aborted, "the operator quit at step 2 (failover)") {
		t.Fatalf("report done %v aborted %q", rep.Done, rep.Aborted)
	}
	if o := rep.Steps[1].Outcome; o == nil || o.Result != ResultFail || !strings.Contains(o.Why, "interrupted while it ran") {
		t.Errorf("step 2: %+v, want it failed as interrupted", o)
	}
	if g.m.gate.run != nil {
		t.Error("the action still runs in the model")
	}
}

func TestDrillUnattended(t *testing.T) {
	t.Run("starts once settled", func(t *testing.T) {
		g, _ := drillLab(t, true, seedSteps...)
		g.noMaster()
		g.do(drillTickMsg{})
		if g.m.gate.seen != 0 {
			t.Fatalf("asked the gate %d times while no node was MASTER", g.m.gate.seen)
		}
		g.steady()
		g.do(drillTickMsg{})
		r := g.m.gate.run
		if r == nil || r.a.Kind != ActionBaseline || r.confirmed != "--yes (unattended)" {
			t.Fatalf("run %+v, want the baseline confirmed by --yes", r)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		g, reps := drillLab(t, true, seedSteps...)
		g.noMaster()
		g.do(drillTickMsg{})
		g.advance(11 * time.Second)
		g.do(drillTickMsg{})
		rep := reps.last(t)
		if !rep.Done || rep.Steps[0].Outcome == nil || rep.Steps[0].Outcome.Result != ResultRefused ||
			!strings.Contains(rep.Steps[0].Outcome.Why, "no node is MASTER holding the VIP") {
			t.Fatalf("report %+v; step 1 %+v", rep, rep.Steps[0].Outcome)
		}
	})
}
