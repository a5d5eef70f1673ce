package ui

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
)

// keepalivedSteady is steady on a pair whose nodes run keepalived, as the
// keepalived feed reports them (its version line names the daemon).
func (l *lab) keepalivedSteady() {
	l.steady()
	for i, in := range []control.Instance{l.instance(control.StateMaster, 100, true), l.instance(control.StateBackup, 100, false)} {
		st := status(l.name(i), in)
		st.VipdVersion = "Keepalived v2.2.7 (01/16,2022)"
		st.Time = at(0)
		l.send(i, Update{Status: st})
	}
}

// The gate on keepalived nodes: the same actions through the same checks,
// with keepalived's commands; no operator fault (keepalived has none); a
// failed nginx that makes check_nginx.sh stop keepalived leaves both to
// repair; and the node stays a keepalived node while keepalived is
// stopped, so that re-enabling it starts keepalived.
func TestGateKeepalived(t *testing.T) {
	c := planCommands
	for _, tc := range []struct {
		kind    ActionKind
		refused string
		want    []string
		leaves  Debt
		effect  string
	}{
		{kind: ActionStopVipd, want: c.KeepalivedStop, leaves: DebtVipdStopped, effect: "keepalived on nginx-01 stops gracefully"},
		{kind: ActionFailNginx, want: c.NginxBreak, leaves: DebtNginxHeld | DebtVipdStopped, effect: "check_nginx.sh cannot start it and stops keepalived"},
		{kind: ActionRestartNginx, want: c.NginxStop, leaves: DebtNginxStopped, effect: "check_nginx.sh (every 2 s) must start it again"},
		{kind: ActionFault, refused: "nginx-01 runs keepalived, which has no operator fault"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			g := newGateLab(t, false)
			g.keepalivedSteady()
			g.apply(ActionMsg{Action: Action{Kind: tc.kind}})
			if tc.refused != "" {
				if o := g.m.gate.shown; o == nil || o.Result != ResultRefused || !strings.Contains(o.Why, tc.refused) {
					t.Fatalf("outcome %+v, want refused: %q", o, tc.refused)
				}
				return
			}
			cf := g.m.gate.confirm
			if cf == nil {
				t.Fatalf("no confirmation: %+v", g.m.gate.shown)
			}
			if !cf.a.Keepalived || !strings.Contains(effect(cf.a, cf.peer), tc.effect) {
				t.Errorf("confirmation for keepalived %v, effect %q", cf.a.Keepalived, effect(cf.a, cf.peer))
			}
			var lines []string
			for _, p := range cf.plan {
				lines = append(lines, p.Line)
			}
			if !reflect.DeepEqual(lines, tc.want) {
				t.Errorf("plan %q, want %q", lines, tc.want)
			}
			g.typeText(cf.a.Node)
			g.apply(press("enter"))
			if r := g.m.gate.run; r == nil || r.a.Leaves != tc.leaves {
				t.Fatalf("run %+v, want leaves %b", r, tc.leaves)
			}
		})
	}

	t.Run("stopped, then re-enabled", func(t *testing.T) {
		g := newGateLab(t, false)
		g.keepalivedSteady()
		stopped := &keepalivedStoppedErr{}
		g.send(0, Update{Err: stopped})
		in := g.instance(control.StateMaster, 100, true)
		st := status(g.name(1), in)
		st.VipdVersion, st.Time = "Keepalived v2.2.7 (01/16,2022)", at(time.Second)
		g.send(1, Update{Status: st})
		if n := g.m.pairs[0].nodes[0]; !n.keepalived {
			t.Fatal("a keepalived node whose keepalived stopped is no longer one")
		}
		g.apply(ActionMsg{Action: Action{Kind: ActionResume}})
		cf := g.m.gate.confirm
		if cf == nil {
			t.Fatalf("no confirmation: %+v", g.m.gate.shown)
		}
		if len(cf.plan) != 1 || cf.plan[0].Line != "plan start-keepalived" {
			t.Errorf("plan %+v, want plan start-keepalived", cf.plan)
		}
		if d := diagnose(stopped); d.title != "keepalived stopped" || !strings.Contains(d.remedy, "systemctl start keepalived") {
			t.Errorf("diagnosis %+v", d)
		}
	})

	t.Run("drill steps", func(t *testing.T) {
		steps, err := DrillStepsFor(ActionFailNginx, true)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []ActionKind
		for _, s := range steps {
			kinds = append(kinds, s.Kind)
		}
		if want := []ActionKind{ActionBaseline, ActionRestartNginx, ActionFailNginx, ActionRepair, ActionResume}; !reflect.DeepEqual(kinds, want) {
			t.Errorf("steps %v, want %v", kinds, want)
		}
		if u := Undo(DebtNginxHeld|DebtVipdStopped, c, planVipd{}, "me", true); len(u) != 2 || u[1].What != "started keepalived" || u[1].Lines[0] != "plan start-keepalived" {
			t.Errorf("Undo %+v", u)
		}
	})
}

type keepalivedStoppedErr struct{}

func (*keepalivedStoppedErr) Error() string {
	return "keepalived stopped on root@lb1: keepalived (pid 42) exited"
}
func (*keepalivedStoppedErr) Unwrap() error { return ErrKeepalivedStopped }

var _ = errors.Is
