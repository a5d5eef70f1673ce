package vrrp

import (
	"slices"
	"testing"
	"time"
)

func startupHeldAt(at time.Duration) fsmIn { return fsmIn{at, input{kind: inStartup, held: true}} }

// TestFSMAdopt covers Config.AdoptVIPs: leftover VIPs found at startup are
// kept while the instance listens for a master for AdoptWindow.
func TestFSMAdopt(t *testing.T) {
	const s = time.Second
	ms := time.Millisecond
	mdi := 3609375 * time.Microsecond // priority 100, 1 s
	adopt := func(c *fsmConfig) { c.AdoptVIPs = true }
	toAdopting := []fsmIn{startupHeldAt(0)}
	tests := []struct {
		name  string
		cfg   func(*fsmConfig)
		setup []fsmIn
		in    fsmIn
		want  []string
		state State
	}{
		{
			name:  "held VIPs kept while listening for 1.5 intervals",
			cfg:   adopt,
			in:    startupHeldAt(0),
			want:  []string{"set masterDown @1.5s", "INIT->BACKUP: " + reasonAdoptListen},
			state: StateBackup,
		},
		{
			name:  "held VIPs, v3 100ms: window 150ms",
			cfg:   func(c *fsmConfig) { c.AdoptVIPs, c.Interval = true, 100*ms },
			in:    startupHeldAt(0),
			want:  []string{"set masterDown @150ms", "INIT->BACKUP: " + reasonAdoptListen},
			state: StateBackup,
		},
		{
			name:  "nothing held: a normal startup",
			cfg:   adopt,
			in:    startupAt(0),
			want:  []string{"remove", "set masterDown @3.609375s", "INIT->BACKUP: startup"},
			state: StateBackup,
		},
		{
			name:  "held without AdoptVIPs: removed as before",
			in:    startupHeldAt(0),
			want:  []string{"remove", "set masterDown @3.609375s", "INIT->BACKUP: startup"},
			state: StateBackup,
		},
		{
			name:  "silence: master with the VIPs it never dropped",
			cfg:   adopt,
			setup: toAdopting,
			in:    timerAt(1500*ms, timerMasterDown),
			want:  becomeMasterAt(1500*ms, 100, StateBackup, reasonAdopted),
			state: StateMaster,
		},
		{
			name:  "a master's advert: drop the VIPs and follow it",
			cfg:   adopt,
			setup: toAdopting,
			in:    advertAt(400*ms, fsmLow, 100),
			want:  []string{"remove", "set masterDown @4.009375s", "set masterDown @4.009375s"},
			state: StateBackup,
		},
		{
			name:  "a lower master's advert with preempt: drop, preempt after Master_Down_Interval",
			cfg:   adopt,
			setup: toAdopting,
			in:    advertAt(400*ms, fsmHigh, 50),
			want:  []string{"remove", "set masterDown @4.009375s"},
			state: StateBackup,
		},
		{
			name:  "after the drop the window is over: Master_Down_Timer is a normal takeover",
			cfg:   func(c *fsmConfig) { c.AdoptVIPs, c.Preempt = true, false },
			setup: []fsmIn{startupHeldAt(0), advertAt(400*ms, fsmLow, 100)},
			in:    timerAt(400*ms+mdi, timerMasterDown),
			want:  becomeMasterAt(400*ms+mdi, 100, StateBackup, reasonMasterDown),
			state: StateMaster,
		},
		{
			name:  "priority 0 keeps the VIPs: take over after Skew_Time",
			cfg:   adopt,
			setup: toAdopting,
			in:    advertAt(400*ms, fsmLow, 0),
			want:  []string{"set masterDown @1.009375s"},
			state: StateBackup,
		},
		{
			name:  "fault while listening leaves as a master: VIPs removed, priority 0",
			cfg:   adopt,
			setup: toAdopting,
			in:    faultAt(100*ms, "nginx failed"),
			want:  []string{"stop masterDown", "stop preempt", "remove", "send 0", "BACKUP->FAULT: nginx failed"},
			state: StateFault,
		},
		{
			name:  "resume after such a fault is a normal backup",
			cfg:   adopt,
			setup: []fsmIn{startupHeldAt(0), faultAt(100*ms, "x")},
			in:    resumeAt(s),
			want:  []string{"set masterDown @4.609375s", "FAULT->BACKUP: resume"},
			state: StateBackup,
		},
		{
			name:  "shutdown while listening leaves as a master: VIPs removed, priority 0",
			cfg:   adopt,
			setup: toAdopting,
			in:    shutdownAt(100 * ms),
			want:  []string{"stop masterDown", "stop preempt", "remove", "send 0", "BACKUP->INIT: shutdown"},
			state: StateInit,
		},
		{
			name:  "shutdown after a master was heard: a plain backup, no priority 0",
			cfg:   adopt,
			setup: []fsmIn{startupHeldAt(0), advertAt(400*ms, fsmLow, 100)},
			in:    shutdownAt(500 * ms),
			want:  []string{"stop masterDown", "stop preempt", "remove", "BACKUP->INIT: shutdown"},
			state: StateInit,
		},
		{
			name:  "the owner goes master at once, VIPs held or not",
			cfg:   func(c *fsmConfig) { c.AdoptVIPs, c.Priority = true, 255 },
			in:    startupHeldAt(0),
			want:  becomeMasterAt(0, 255, StateInit, reasonOwner),
			state: StateMaster,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fsmBase()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			m := newFSM(cfg)
			for _, in := range tt.setup {
				m.step(fsmT0.Add(in.at), in.in)
			}
			got := fmtActions(m.step(fsmT0.Add(tt.in.at), tt.in.in))
			if !slices.Equal(got, tt.want) {
				t.Errorf("actions:\n got %q\nwant %q", got, tt.want)
			}
			if m.state != tt.state {
				t.Errorf("state %v, want %v", m.state, tt.state)
			}
		})
	}
}

func TestAdoptWindowUnderMasterDown(t *testing.T) {
	for _, iv := range []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second, 255 * time.Second} {
		w := AdoptWindow(iv)
		if w <= iv || w >= 3*iv {
			t.Errorf("AdoptWindow(%v) = %v: want more than one interval and less than three (Master_Down_Interval > 3 intervals)", iv, w)
		}
	}
}
