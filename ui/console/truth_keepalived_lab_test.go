//go:build linux

package console_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
)

// The console held against ground truth on the keepalived lab: the seed's
// pair (keepalived 2.2.7 with its keepalived.conf and check_nginx.sh),
// read without an agent (feed's keepalived feed). The same checks as on
// vipd's lab (runTruth), and the figure that matters to an operator: how
// long after the kernels moved the VIP the screen shows the new MASTER.

var keepalivedLab = demo.LabOptions{Keepalived: true}

// roleShown notes when the console first showed node as MASTER holding
// the VIP after since, against the kernel's move, and fails beyond
// truthWindow.
func roleShown(tr *truthRun, since time.Time, node string) {
	held := tr.truthFigure(since, node, true)
	shown := tr.firstFrame(since, func(v view) bool {
		c := v.cards[node]
		return v.current(node) && c.vip == "held" && strings.Contains(c.text, "VI_1 MASTER") && slices.Equal(v.heldBy, []string{node})
	})
	d := shown.At.Sub(held)
	tr.figure("the console shows %s MASTER holding the VIP: %s, %s after its kernel", node, tr.ms(shown.At), d.Round(time.Millisecond))
	if d > truthWindow {
		tr.t.Errorf("%s shown MASTER %v after its kernel took the VIP, want within %v", node, d, truthWindow)
	}
}

// TestLabTruthKeepalivedStopped: keepalived is stopped on the MASTER as
// systemctl would (`labctl keepalived stop`): it sends priority 0 and the
// peer takes the VIP after Skew_Time; the card says keepalived stopped.
func TestLabTruthKeepalivedStopped(t *testing.T) {
	runTruthOn(t, keepalivedLab, labConsole, func(tr *truthRun) {
		tr.fault("keepalived of "+tr.master+" stopped", func() {
			if out, err := tr.lab.Ctl(tr.ctx, tr.master, "keepalived", "stop"); err != nil {
				tr.fatal("%v", err)
			} else {
				tr.t.Logf("labctl: %s", strings.TrimSpace(out))
			}
		})
		tr.watch(4 * time.Second)
	}, func(tr *truthRun) {
		m, o := tr.master, tr.other
		tr.never("a split-brain banner", func(v view) bool { return v.banner != "" })
		stop := tr.marks[0].at
		tr.truthFigure(stop, m, false)
		roleShown(tr, stop, o)
		said := tr.firstFrame(stop, func(v view) bool { return v.cards[m].title == "keepalived stopped" })
		tr.figure("%s's card says \"keepalived stopped\": %s", m, tr.ms(said.At))
		if c := tr.frames[len(tr.frames)-1].view().cards[m]; c.title != "keepalived stopped" || !strings.Contains(c.text, "no keepalived process") && !strings.Contains(c.text, "exited") {
			tr.t.Errorf("%s's card at the end: %q\n%s", m, c.title, c.text)
		}
	})
}

// TestLabTruthKeepalivedNginxDead: nginx on the MASTER is stopped and held
// down, so that check_nginx.sh cannot start it and stops keepalived, as
// the seed does: the VIP moves, the console shows the failed node's nginx
// down and its keepalived stopped.
func TestLabTruthKeepalivedNginxDead(t *testing.T) {
	runTruthOn(t, keepalivedLab, labConsole, func(tr *truthRun) {
		tr.fault("nginx of "+tr.master+" held down", func() {
			if out, err := tr.lab.Ctl(tr.ctx, tr.master, "nginx", "break"); err != nil {
				tr.fatal("%v", err)
			} else {
				tr.t.Logf("labctl: %s", strings.TrimSpace(out))
			}
		})
		tr.watch(8 * time.Second) // check_nginx.sh runs every 2 s, waits 1 s, then stops keepalived
	}, func(tr *truthRun) {
		m, o := tr.master, tr.other
		tr.never("a split-brain banner", func(v view) bool { return v.banner != "" })
		cut := tr.marks[0].at
		down := tr.firstFrame(cut, func(v view) bool { return strings.Contains(v.cards[m].text, "nginx FAILED") })
		tr.figure("%s's nginx shown failed: %s", m, tr.ms(down.At))
		tr.truthFigure(cut, m, false)
		roleShown(tr, cut, o)
		tr.firstFrame(cut, func(v view) bool { return v.cards[m].title == "keepalived stopped" })
	})
}

// TestLabTruthKeepalivedLinkCut: the MASTER's link is cut: the console
// loses it (unknown within 500 ms of its last word) and the peer takes
// the VIP after Master_Down_Interval (3.61 s with the seed's advert_int 1).
func TestLabTruthKeepalivedLinkCut(t *testing.T) {
	runTruthOn(t, keepalivedLab, labConsole, func(tr *truthRun) {
		linkCut(tr)
	}, func(tr *truthRun) {
		m, o := tr.master, tr.other
		cut := tr.marks[0].at
		unknown := tr.firstFrame(cut, func(v view) bool { return !v.current(m) })
		last := tr.lastWord(m, unknown.At)
		tr.figure("%s unknown on the console: %s, %s after its last word", m, tr.ms(unknown.At), unknown.At.Sub(last).Round(time.Millisecond))
		if unknown.At.Sub(last) > unknownWithin {
			tr.t.Errorf("%s unknown %v after its last word, want within %v", m, unknown.At.Sub(last), unknownWithin)
		}
		roleShown(tr, cut, o)
	})
}

var _ = console.Options{}
