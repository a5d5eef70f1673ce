package ui

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
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

// TestDrawEvery: a feed's news within DrawEvery of the last screen waits
// for the frame (a frameMsg is asked for), then shows; a key, a transition
// and news that moves the VIP are drawn at once, with all the news held.
func TestDrawEvery(t *testing.T) {
	opts := testOptions()
	opts.DrawEvery = 50 * time.Millisecond
	l := newLabOpts(t, opts, "web")
	l.steady()
	l.screen()
	drawn := l.m.cache.renders
	counters := func(n uint64) Update {
		in := l.instance(control.StateMaster, 150, true)
		in.Stats.AdvertSent = n
		return Update{Status: status(l.name(0), in)}
	}

	l.clock = l.clock.Add(10 * time.Millisecond)
	for n := range uint64(5) {
		l.send(0, counters(4000+n))
	}
	if got := l.screen(); l.m.cache.renders != drawn || strings.Contains(got, "adverts sent 4004") {
		t.Fatalf("news 10 ms after a screen was drawn at once")
	}
	if !l.m.cache.frameArmed {
		t.Errorf("no frame asked for the news held")
	}

	l.clock = l.clock.Add(40 * time.Millisecond)
	l.apply(frameMsg{})
	contains(t, l.screen(), "adverts sent 4004")

	// A key does not wait.
	l.send(0, counters(4100))
	l.apply(tea.KeyPressMsg{Code: tea.KeyTab})
	contains(t, l.screen(), "adverts sent 4100")

	// A transition, and a status that moves the VIP, do not wait.
	l.clock = l.clock.Add(10 * time.Millisecond)
	l.send(1, Update{Event: transition(2*time.Second, control.StateBackup, control.StateMaster, netip.Addr{}, "master down")})
	contains(t, l.screen(), "held by nginx-01, nginx-02 MASTER too")
	l.clock = l.clock.Add(10 * time.Millisecond)
	l.send(1, Update{Status: status(l.name(1), l.instance(control.StateMaster, 100, true))})
	contains(t, l.screen(), "held by nginx-01 and nginx-02")

	// News long after the last screen is drawn at once.
	l.clock = l.clock.Add(time.Second)
	l.send(0, counters(4200))
	contains(t, l.screen(), "adverts sent 4200")
}
