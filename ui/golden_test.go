package ui

import (
	"net/netip"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/vipkit/vip/node/control"
)

// TestGolden replays each scenario into a running program and compares
// the emulated terminal's screen with testdata/TestGolden/*.golden (go test
// -run TestGolden -update rewrites them). The clock is fixed and the ticker
// off, and the screen is awaited until it equals the model's own view of
// the same messages, so a slow machine only makes the test slower.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		w, h  int
		pairs []string
		scene func(*lab)
	}{
		{"steady_80x24", 80, 24, nil, (*lab).steady},
		{"failover_80x24", 80, 24, nil, (*lab).failover},
		{"fault_80x24", 80, 24, nil, (*lab).faulted},
		{"split_brain_80x24", 80, 24, nil, (*lab).splitBrain},
		{"no_master_80x24", 80, 24, nil, (*lab).noMaster},
		{"disconnected_80x24", 80, 24, nil, (*lab).lostLink},
		{"bad_input_120x30", 120, 30, nil, (*lab).badInput},
		{"pairs_120x30", 120, 30, []string{"web", "api", "db"}, (*lab).threePairs},
		{"config_mismatch_80x24", 80, 24, nil, (*lab).configMismatch},
		{"vip_mismatch_80x24", 80, 24, nil, (*lab).vipMismatch},
		{"stranger_80x24", 80, 24, nil, (*lab).stranger},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Record the scenario on one model ...
			rec := newLab(t, tc.pairs...)
			rec.resize(tc.w, tc.h)
			tc.scene(rec)
			want := plain(rec.m.View(), tc.h)

			// ... and replay it into a running program.
			live := newLab(t, tc.pairs...)
			tt := runTerm(t, live.m, tc.w, tc.h)
			for _, msg := range rec.msgs {
				tt.tm.Send(msg)
			}
			got, _ := tt.waitScreen(t, 10*time.Second, func(s string) bool { return s == want })
			golden.RequireEqual(t, got+"\n")
		})
	}
}

// threePairs: web steady, api in split brain, db with a node down, and the
// list of pairs open on db.
func (l *lab) threePairs() {
	l.p = 0
	l.steady()
	l.p = 1
	l.splitBrain()
	l.p = 2
	l.lostLink()
	for _, k := range []tea.KeyPressMsg{{Code: 'p', Text: "p"}, {Code: tea.KeyDown}, {Code: tea.KeyDown}} {
		l.apply(k)
	}
}

// configMismatch: a steady pair whose configurations mismatch (package
// ui/check): the banner under the header.
func (l *lab) configMismatch() {
	l.steady()
	l.apply(configCheckMsg{pair: l.p, r: mismatchReport()})
}

// vipMismatch: a VIP moved on nginx-01 only (.100 to .101), heard by
// nginx-02, whose own list is the old one: the banner, wrapped in two.
func (l *lab) vipMismatch() {
	l.steady()
	in := l.instance(control.StateBackup, 100, false)
	in.MismatchPeer, in.MismatchAt = addr1, t0.Add(-time.Second)
	in.MismatchAddresses = []netip.Addr{netip.MustParseAddr("198.51.100.101")}
	in.Stats.AddressMismatch = 12
	l.send(1, Update{Status: status(l.name(1), in)})
}

// stranger: a host that is not a peer sent adverts for VI_1, heard by
// both nodes.
func (l *lab) stranger() {
	l.steady()
	for i, st := range []control.State{control.StateMaster, control.StateBackup} {
		in := l.instance(st, uint8(150-50*i), st == control.StateMaster)
		in.Stranger, in.StrangerAt = netip.MustParseAddr("198.51.100.50"), t0.Add(-time.Second)
		in.Stats.Strangers = 10
		l.send(i, Update{Status: status(l.name(i), in)})
	}
}
