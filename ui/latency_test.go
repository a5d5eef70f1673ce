package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
)

// roleBudget is how soon a role change must be on screen.
const roleBudget = 200 * time.Millisecond

// TestRoleChangeLatency pushes transitions through a Feed into a running
// program and measures until the emulated terminal shows the new role in
// nginx-02's panel: the feed's Cmd, Update, View, the renderer's next
// frame and the bytes on the wire, with nothing faked but the terminal.
func TestRoleChangeLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("measures wall-clock latency")
	}
	l := newLab(t)
	tt := runTerm(t, l.m, 80, 24)
	l.feeds[0][0].ch <- Update{Conn: connected(t0), Event: snapshot("nginx-01", instance(control.StateMaster, 150, true))}
	l.feeds[0][1].ch <- Update{Conn: connected(t0), Event: snapshot("nginx-02", instance(control.StateBackup, 100, false))}
	tt.waitScreen(t, 5*time.Second, func(s string) bool { return strings.Contains(rightPanel(s), "VI_1 BACKUP") })

	const rounds = 30
	var lat []time.Duration
	from, to := control.StateBackup, control.StateMaster
	for i := range rounds {
		l.feeds[0][1].ch <- Update{Event: transition(time.Duration(i)*time.Second, from, to, addr2, "latency test")}
		_, d := tt.waitScreen(t, 5*time.Second, func(s string) bool {
			return strings.Contains(rightPanel(s), "VI_1 "+string(to))
		})
		lat = append(lat, d)
		from, to = to, from
	}
	slices.Sort(lat)
	p50, p90, worst := lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)-1]
	t.Logf("role change to screen over %d transitions: min %s, p50 %s, p90 %s, max %s",
		rounds, lat[0].Round(time.Microsecond), p50.Round(time.Microsecond), p90.Round(time.Microsecond), worst.Round(time.Microsecond))
	// The median and p90 hold the budget; a lone slow frame on a loaded
	// machine (go test -race on 2 cores) is reported, not failed.
	if p90 > roleBudget {
		t.Errorf("p90 %s over the %s budget", p90, roleBudget)
	}
}

// rightPanel is the right half of an 80-column screen: nginx-02's panel.
func rightPanel(screen string) string {
	lines := strings.Split(column(screen, 40, 80), "\n")
	return strings.Join(lines[1:min(len(lines), 8)], "\n")
}

// BenchmarkRoleChangeToScreen reports the same latency as ns/op.
func BenchmarkRoleChangeToScreen(b *testing.B) {
	l := newLab(b)
	tt := runTerm(b, l.m, 80, 24)
	l.feeds[0][1].ch <- Update{Conn: connected(t0), Event: snapshot("nginx-02", instance(control.StateBackup, 100, false))}
	tt.waitScreen(b, 5*time.Second, func(s string) bool { return strings.Contains(rightPanel(s), "VI_1 BACKUP") })
	from, to := control.StateBackup, control.StateMaster
	for i := 0; b.Loop(); i++ {
		l.feeds[0][1].ch <- Update{Event: transition(time.Duration(i)*time.Second, from, to, addr2, "benchmark")}
		tt.waitScreen(b, 5*time.Second, func(s string) bool { return strings.Contains(rightPanel(s), "VI_1 "+string(to)) })
		from, to = to, from
	}
}
