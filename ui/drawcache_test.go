package ui

import (
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vipkit/vip/node/control"
)

// TestScreenCache: View draws anew only when a message may have changed
// what it shows, and what it returns always equals a screen drawn anew.
func TestScreenCache(t *testing.T) {
	for _, tc := range []struct {
		name    string
		act     func(*lab)
		redraws bool
		shows   []string
	}{
		{"nothing happened", func(*lab) {}, false, nil},
		{"another pair's node says the same", func(l *lab) {
			l.p = 1
			l.send(0, Update{Status: status(l.name(0), l.instance(control.StateMaster, 150, true))})
		}, false, nil},
		{"another pair's freshness timer finds it current", func(l *lab) {
			l.p = 1
			l.apply(freshMsg{pair: 1, node: 0})
		}, false, nil},
		{"another pair splits", func(l *lab) {
			l.p = 1
			l.splitBrain()
		}, true, []string{"api!"}},
		{"a shown node's counters move", func(l *lab) {
			in := l.instance(control.StateMaster, 150, true)
			in.Stats.AdvertSent = 4321
			l.send(0, Update{Status: status(l.name(0), in)})
		}, true, []string{"adverts sent 4321"}},
		{"the clock moves on", func(l *lab) { l.clock = l.clock.Add(time.Second) }, true, []string{"03:04:06"}},
		{"the window changes", func(l *lab) { l.resize(100, 30) }, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, "web", "api")
			for p := range 2 {
				l.p = p
				l.steady()
			}
			l.p = 0
			l.screen()
			before := l.m.cache.renders
			if l.screen(); l.m.cache.renders != before {
				t.Fatalf("a second View with nothing new drew the screen again")
			}
			tc.act(l)
			got := l.screen()
			if redrew := l.m.cache.renders > before; redrew != tc.redraws {
				t.Errorf("redrew %v, want %v", redrew, tc.redraws)
			}
			contains(t, got, tc.shows...)
			l.m.framed = false
			if fresh := ansi.Strip(l.m.render()); got != fresh {
				t.Errorf("the kept screen is not the one drawn anew:\n%s\nwant\n%s", got, fresh)
			}
		})
	}
}
