package ui

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vipkit/vip/node/config"
	cfgcheck "github.com/vipkit/vip/ui/check"
)

func mismatchReport() cfgcheck.Report {
	return cfgcheck.Report{
		A: cfgcheck.Node{Name: "nginx-01", Daemon: "keepalived", Path: "/etc/keepalived/keepalived.conf"},
		B: cfgcheck.Node{Name: "nginx-02", Daemon: "vipd", Path: "/etc/vipd/keepalived.conf"},
		Findings: []cfgcheck.Finding{{
			Kind: cfgcheck.Mismatch, Instance: "VI_1 (VRID 60 on eth0)", Topic: "advert_int",
			Msg: "advert_int 1s on nginx-01, 2s on nginx-02: both can become MASTER",
			A:   cfgcheck.Place{Pos: config.Pos{File: "/etc/keepalived/keepalived.conf", Line: 14}},
			B:   cfgcheck.Place{Pos: config.Pos{File: "/etc/vipd/keepalived.conf", Line: 15}},
		}, {
			Kind: cfgcheck.Warning, Instance: "VI_1 (VRID 60 on eth0)", Topic: "priority",
			Msg: "priority 100 on nginx-01, 100 on nginx-02: a handover waits Skew_Time 609ms",
			A:   cfgcheck.Place{Pos: config.Pos{File: "/etc/keepalived/keepalived.conf", Line: 12}},
			B:   cfgcheck.Place{Pos: config.Pos{File: "/etc/vipd/keepalived.conf", Line: 9}, Default: true},
		}},
	}
}

// A pair's configuration check: a one-line banner while it mismatches,
// the report in the full help, a timeline note when the verdict changes,
// and the next check scheduled.
func TestConfigCheckBanner(t *testing.T) {
	opts := testOptions()
	opts.CheckEvery = time.Minute
	l := newLabOpts(t, opts)
	l.steady()
	calls := 0
	l.m.pairs[0].checkFn = func(ctx context.Context) cfgcheck.Report {
		calls++
		if _, ok := ctx.Deadline(); !ok {
			t.Error("a check without a deadline")
		}
		return mismatchReport()
	}
	msg := l.m.runCheck(0)()
	if calls != 1 {
		t.Fatalf("check ran %d times", calls)
	}
	cmd := l.apply(msg)
	if cmd == nil {
		t.Error("no next check scheduled")
	}
	screen := l.screen()
	contains(t, screen, "CONFIG MISMATCH web (1): VI_1 (VRID 60 on eth0): advert_int 1s on", "[? details]",
		"config mismatch (1 mismatch): advert_int") // the timeline
	lacks(t, screen, "config check of web")

	l.apply(tea.KeyPressMsg{Code: '?', Text: "?"})
	contains(t, l.screen(), "config check of web",
		"nginx-01: keepalived, /etc/keepalived/keepalived.conf",
		"MISMATCH: VI_1 (VRID 60 on eth0): advert_int 1s on nginx-01, 2s on nginx-02",
		"    nginx-01: /etc/keepalived/keepalived.conf:14",
		"    nginx-02: /etc/vipd/keepalived.conf:15",
		"warning: VI_1 (VRID 60 on eth0): priority 100",
		"    nginx-02: /etc/vipd/keepalived.conf:9 (not set: default)")
	l.apply(tea.KeyPressMsg{Code: '?', Text: "?"})

	// Repaired: the banner goes, the timeline says so.
	l.apply(configCheckMsg{pair: 0, r: cfgcheck.Report{A: mismatchReport().A, B: mismatchReport().B}})
	screen = l.screen()
	lacks(t, screen, "CONFIG MISMATCH")
	contains(t, screen, "configs consistent")

	// Due again: the check runs again.
	if cmd := l.apply(configCheckDueMsg{pair: 0}); cmd == nil {
		t.Error("a due check ran nothing")
	} else if _, ok := cmd().(configCheckMsg); !ok || calls != 2 {
		t.Errorf("a due check ran %d checks", calls)
	}
}

// A node whose configuration cannot be read is no mismatch: no banner,
// a warning on the timeline, the reason in the details.
func TestConfigCheckUnreadable(t *testing.T) {
	l := newLab(t)
	l.steady()
	r := mismatchReport()
	r.Findings, r.ErrB = nil, errors.New("neither vipd nor keepalived runs in nginx-02's network namespace")
	if cmd := l.apply(configCheckMsg{pair: 0, r: r}); cmd == nil {
		t.Error("no next check scheduled")
	}
	// The first: links may still be coming up; only the details say.
	lacks(t, l.screen(), "CONFIG MISMATCH", "config check: cannot read")
	l.apply(tea.KeyPressMsg{Code: '?', Text: "?"})
	contains(t, l.screen(), "nginx-02: cannot read: neither vipd nor keepalived", "not checked")
	l.apply(tea.KeyPressMsg{Code: '?', Text: "?"})
	// Readable, then not: the timeline says.
	l.apply(configCheckMsg{pair: 0, r: cfgcheck.Report{A: r.A, B: r.B}})
	l.apply(configCheckMsg{pair: 0, r: r})
	screen := l.screen()
	lacks(t, screen, "CONFIG MISMATCH")
	contains(t, screen, "config check: cannot read nginx-02")
}

// A first check that finds the pair consistent adds nothing to the screen,
// and a pair without a check runs none.
func TestConfigCheckQuiet(t *testing.T) {
	opts := testOptions()
	opts.CheckEvery = -1
	l := newLabOpts(t, opts)
	l.steady()
	before := l.screen()
	if cmd := l.apply(configCheckMsg{pair: 0, r: cfgcheck.Report{}}); cmd != nil {
		t.Error("CheckEvery < 0 scheduled another check")
	}
	if after := l.screen(); after != before {
		t.Errorf("a consistent first check changed the screen:\n%s\n---\n%s", before, after)
	}
	if l.m.runCheck(0) != nil {
		t.Error("a pair without Check ran one")
	}
}

// An unreadable node is checked again soon, then less and less often, up
// to CheckEvery; a readable one resets the pace.
func TestConfigCheckRetry(t *testing.T) {
	opts := testOptions()
	opts.CheckEvery = time.Minute
	l := newLabOpts(t, opts)
	unreadable := cfgcheck.Report{ErrA: errors.New("not connected")}
	var waits []time.Duration
	for range 6 {
		l.apply(configCheckMsg{pair: 0, r: unreadable})
		waits = append(waits, l.m.pairs[0].checkWait)
	}
	l.apply(configCheckMsg{pair: 0, r: cfgcheck.Report{}})
	waits = append(waits, l.m.pairs[0].checkWait)
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute, time.Minute}
	if !slices.Equal(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	l.apply(configCheckMsg{pair: 0, r: unreadable})
	if got := l.m.pairs[0].checkWait; got != 5*time.Second {
		t.Errorf("after a good check, an unreadable one waits %v, want 5s", got)
	}
}
