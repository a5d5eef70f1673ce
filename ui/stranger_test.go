package ui

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
)

// A stranger in the nodes' status is a banner naming its address and the
// nodes that heard it, one per stranger, until it has been quiet for
// strangerRecent.
func TestStrangerBanner(t *testing.T) {
	stranger := netip.MustParseAddr("198.51.100.50")
	tests := []struct {
		name  string
		heard []time.Duration // by node, since the stranger's last packet; <0: not heard
		want  string
	}{
		{"heard by both", []time.Duration{time.Second, 2 * time.Second},
			"STRANGER VI_1: 198.51.100.50 is not a peer (nginx-01, nginx-02, 03:04:04)"},
		{"heard by the backup only", []time.Duration{-1, time.Second},
			"STRANGER VI_1: 198.51.100.50 is not a peer (nginx-02, 03:04:04)"},
		{"quiet for long", []time.Duration{strangerRecent + time.Second, -1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			l.steady()
			for i, st := range []control.State{control.StateMaster, control.StateBackup} {
				in := l.instance(st, 100, st == control.StateMaster)
				if ago := tt.heard[i]; ago >= 0 {
					in.Stranger, in.StrangerAt = stranger, t0.Add(-ago)
					in.Stats.Strangers = 3
				}
				l.send(i, Update{Status: status(l.name(i), in)})
			}
			screen := l.screen()
			if tt.want == "" {
				lacks(t, screen, "STRANGER")
				return
			}
			contains(t, screen, tt.want)
		})
	}
}

// The focused node's details show the packets the kernel dropped from its
// socket and those from strangers, beside the drops by reason.
func TestKernelDropsDetails(t *testing.T) {
	l := newLab(t)
	l.steady()
	in := l.instance(control.StateMaster, 100, true)
	in.Stats.KernelDrops, in.Stats.Strangers = 168958, 4
	in.Stats.Drops = map[string]uint64{"unknown_vrid": 12}
	l.send(0, Update{Status: status(l.name(0), in)})
	l.apply(press("enter"))
	contains(t, l.screen(), "drops unknown_vrid 12", "kernel drops 168958 · strangers 4")
}
