package vrrp

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

var (
	fsmT0   = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	fsmSelf = netip.MustParseAddr("198.51.100.2")
	fsmLow  = netip.MustParseAddr("198.51.100.1") // a lower address than ours
	fsmHigh = netip.MustParseAddr("198.51.100.3") // a higher address than ours
)

// fsmBase is priority 100, v3, 1 s: Skew_Time 0.609375 s,
// Master_Down_Interval 3.609375 s.
func fsmBase() fsmConfig {
	return fsmConfig{
		Priority:     100,
		Version:      Version3,
		Interval:     time.Second,
		Preempt:      true,
		Primary:      fsmSelf,
		GARPRepeat:   3,
		GARPInterval: 1100 * time.Millisecond,
	}
}

// An fsmIn is an input at an offset from fsmT0.
type fsmIn struct {
	at time.Duration
	in input
}

func startupAt(at time.Duration) fsmIn { return fsmIn{at, input{kind: inStartup}} }
func timerAt(at time.Duration, t timerID) fsmIn {
	return fsmIn{at, input{kind: inTimer, timer: t}}
}
func advertAt(at time.Duration, src netip.Addr, prio uint8) fsmIn {
	return fsmIn{at, input{kind: inAdvert, src: src, priority: prio, interval: time.Second}}
}
func advertIntervalAt(at time.Duration, src netip.Addr, prio uint8, iv time.Duration) fsmIn {
	return fsmIn{at, input{kind: inAdvert, src: src, priority: prio, interval: iv}}
}
func shutdownAt(at time.Duration) fsmIn { return fsmIn{at, input{kind: inShutdown}} }
func faultAt(at time.Duration, reason string) fsmIn {
	return fsmIn{at, input{kind: inFault, reason: reason}}
}
func resumeAt(at time.Duration) fsmIn { return fsmIn{at, input{kind: inResume}} }

// Setups that leave the machine in a state.
var (
	toBackup = []fsmIn{startupAt(0)}
	// master at 3.609375 s, next advert at 4.609375 s
	toMaster = []fsmIn{startupAt(0), timerAt(3609375*time.Microsecond, timerMasterDown)}
	toFault  = []fsmIn{startupAt(0), faultAt(time.Second, "check failed")}
)

// fmtActions renders actions with times as offsets from fsmT0.
func fmtActions(acts []action) []string {
	var s []string
	for _, a := range acts {
		switch a.kind {
		case actSend:
			s = append(s, fmt.Sprintf("send %d", a.priority))
		case actAddVIPs:
			s = append(s, "add")
		case actRemoveVIPs:
			s = append(s, "remove")
		case actAnnounce:
			s = append(s, "announce")
		case actSetTimer:
			s = append(s, fmt.Sprintf("set %v @%v", a.timer, a.at.Sub(fsmT0)))
		case actStopTimer:
			s = append(s, fmt.Sprintf("stop %v", a.timer))
		case actTransition:
			m := ""
			if a.master.IsValid() {
				m = " [" + a.master.String() + "]"
			}
			s = append(s, fmt.Sprintf("%v->%v: %s%s", a.from, a.to, a.reason, m))
		}
	}
	return s
}

// becomeMasterAt is what becoming master at offset at does with fsmBase.
func becomeMasterAt(at time.Duration, prio uint8, from State, reason string) []string {
	return []string{
		"stop masterDown", "stop preempt", "add", fmt.Sprintf("send %d", prio), "announce",
		fmt.Sprintf("set garp @%v", at+1100*time.Millisecond),
		fmt.Sprintf("set advert @%v", at+time.Second),
		fmt.Sprintf("%v->MASTER: %s [%v]", from, reason, fsmSelf),
	}
}

func TestFSM(t *testing.T) {
	const s = time.Second
	ms := time.Millisecond
	mdi := 3609375 * time.Microsecond // priority 100, 1 s
	tests := []struct {
		name  string
		cfg   func(*fsmConfig)
		setup []fsmIn
		in    fsmIn
		want  []string
		state State
	}{
		// RFC 5798 6.4.1 Initialize.
		{
			name:  "init: startup goes backup with Master_Down_Timer",
			in:    startupAt(0),
			want:  []string{"remove", "set masterDown @3.609375s", "INIT->BACKUP: startup"},
			state: StateBackup,
		},
		{
			name:  "init: startup v3 100ms",
			cfg:   func(c *fsmConfig) { c.Interval = 100 * ms },
			in:    startupAt(0),
			want:  []string{"remove", "set masterDown @360.9375ms", "INIT->BACKUP: startup"},
			state: StateBackup,
		},
		{
			name:  "init: priority 255 (owner) goes master at once",
			cfg:   func(c *fsmConfig) { c.Priority = 255 },
			in:    startupAt(0),
			want:  becomeMasterAt(0, 255, StateInit, reasonOwner),
			state: StateMaster,
		},
		{
			name:  "init: initial state MASTER goes master at once",
			cfg:   func(c *fsmConfig) { c.InitialMaster = true },
			in:    startupAt(0),
			want:  becomeMasterAt(0, 100, StateInit, reasonInitMaster),
			state: StateMaster,
		},
		{
			name:  "init: startup delay pushes Master_Down_Timer out",
			cfg:   func(c *fsmConfig) { c.StartupDelay = 5 * s },
			in:    startupAt(0),
			want:  []string{"remove", "set masterDown @8.609375s", "INIT->BACKUP: startup"},
			state: StateBackup,
		},
		{
			name:  "init: startup delay makes a would-be master wait as backup",
			cfg:   func(c *fsmConfig) { c.InitialMaster, c.StartupDelay = true, 5*s },
			in:    startupAt(0),
			want:  []string{"remove", "set masterDown @5s", "INIT->BACKUP: startup"},
			state: StateBackup,
		},
		{
			name:  "init: adverts are ignored",
			in:    advertAt(0, fsmHigh, 150),
			state: StateInit,
		},
		{
			name:  "init: startup twice is once",
			setup: toBackup,
			in:    startupAt(s),
			state: StateBackup,
		},

		// RFC 5798 6.4.2 Backup.
		{
			name:  "backup: Master_Down_Timer fires",
			setup: toBackup,
			in:    timerAt(mdi, timerMasterDown),
			want:  becomeMasterAt(mdi, 100, StateBackup, reasonMasterDown),
			state: StateMaster,
		},
		{
			name:  "backup: higher priority resets Master_Down_Timer",
			setup: toBackup,
			in:    advertAt(2*s, fsmLow, 150),
			want:  []string{"set masterDown @5.609375s"},
			state: StateBackup,
		},
		{
			name:  "backup: equal priority is accepted too (>=)",
			setup: toBackup,
			in:    advertAt(2*s, fsmLow, 100),
			want:  []string{"set masterDown @5.609375s"},
			state: StateBackup,
		},
		{
			name:  "backup: lower priority with preempt is discarded",
			setup: toBackup,
			in:    advertAt(2*s, fsmHigh, 50),
			state: StateBackup,
		},
		{
			name:  "backup: lower priority without preempt (nopreempt) is accepted",
			cfg:   func(c *fsmConfig) { c.Preempt = false },
			setup: toBackup,
			in:    advertAt(2*s, fsmHigh, 50),
			want:  []string{"set masterDown @5.609375s"},
			state: StateBackup,
		},
		{
			name:  "backup: priority 0 sets Master_Down_Timer to Skew_Time",
			setup: toBackup,
			in:    advertAt(2*s, fsmHigh, 0),
			want:  []string{"set masterDown @2.609375s"},
			state: StateBackup,
		},
		{
			name:  "backup: priority 0 without preempt sets Skew_Time too",
			cfg:   func(c *fsmConfig) { c.Preempt = false },
			setup: toBackup,
			in:    advertAt(2*s, fsmHigh, 0),
			want:  []string{"set masterDown @2.609375s"},
			state: StateBackup,
		},
		{
			name:  "backup: a repeated priority 0 keeps the first one's timer",
			setup: []fsmIn{startupAt(0), advertAt(s, fsmHigh, 150), advertAt(2*s, fsmHigh, 0)},
			in:    advertAt(2*s+time.Millisecond, fsmHigh, 0),
			want:  nil,
			state: StateBackup,
		},
		{
			name:  "backup: takeover after priority 0 says so",
			setup: []fsmIn{startupAt(0), advertAt(s, fsmHigh, 150), advertAt(2*s, fsmHigh, 0)},
			in:    timerAt(2609375*time.Microsecond, timerMasterDown),
			want:  becomeMasterAt(2609375*time.Microsecond, 100, StateBackup, reasonReleased),
			state: StateMaster,
		},
		{
			name:  "backup: v3 learns Master_Adver_Interval",
			setup: toBackup,
			in:    advertIntervalAt(s, fsmHigh, 150, 2*s),
			want:  []string{"set masterDown @8.21875s"}, // 1 + 3*2 + 156*2/256
			state: StateBackup,
		},
		{
			name:  "backup: v3 interval 0 is not learned",
			setup: toBackup,
			in:    advertIntervalAt(s, fsmHigh, 150, 0),
			want:  []string{"set masterDown @4.609375s"},
			state: StateBackup,
		},
		{
			name:  "backup: v2 does not learn the interval",
			cfg:   func(c *fsmConfig) { c.Version = Version2 },
			setup: toBackup,
			in:    advertIntervalAt(s, fsmHigh, 150, 2*s),
			want:  []string{"set masterDown @4.609375s"},
			state: StateBackup,
		},
		{
			name:  "backup: stale advert timer does nothing",
			setup: toBackup,
			in:    timerAt(s, timerAdvert),
			state: StateBackup,
		},
		{
			name:  "backup: shutdown",
			setup: toBackup,
			in:    shutdownAt(s),
			want:  []string{"stop masterDown", "stop preempt", "remove", "BACKUP->INIT: shutdown"},
			state: StateInit,
		},

		// preempt_delay.
		{
			name:  "preempt delay: lower master tolerated until startup+delay",
			cfg:   func(c *fsmConfig) { c.PreemptDelay = 10 * s },
			setup: toBackup,
			in:    advertAt(2*s, fsmHigh, 50),
			want:  []string{"set masterDown @5.609375s", "set preempt @10s"},
			state: StateBackup,
		},
		{
			name:  "preempt delay: over, take over from the lower master",
			cfg:   func(c *fsmConfig) { c.PreemptDelay = 10 * s },
			setup: []fsmIn{startupAt(0), advertAt(9*s, fsmHigh, 50)},
			in:    timerAt(10*s, timerPreempt),
			want:  becomeMasterAt(10*s, 100, StateBackup, reasonPreempt),
			state: StateMaster,
		},
		{
			name:  "preempt delay: over, but the master is higher now",
			cfg:   func(c *fsmConfig) { c.PreemptDelay = 10 * s },
			setup: []fsmIn{startupAt(0), advertAt(8*s, fsmHigh, 50), advertAt(9*s, fsmLow, 150)},
			in:    timerAt(10*s, timerPreempt),
			state: StateBackup,
		},
		{
			name:  "preempt delay: after it, lower adverts are discarded",
			cfg:   func(c *fsmConfig) { c.PreemptDelay = 10 * s },
			setup: toBackup,
			in:    advertAt(11*s, fsmHigh, 50),
			state: StateBackup,
		},
		{
			name:  "preempt delay: restarts on resume",
			cfg:   func(c *fsmConfig) { c.PreemptDelay = 10 * s },
			setup: []fsmIn{startupAt(0), faultAt(s, "x"), resumeAt(20 * s)},
			in:    advertAt(25*s, fsmHigh, 50),
			want:  []string{"set masterDown @28.609375s", "set preempt @30s"},
			state: StateBackup,
		},

		// keepalived's vrrp_sync_group: a member follows the others.
		{
			name:  "sync: a backup takes over when its group does",
			setup: toBackup,
			in:    fsmIn{s, input{kind: inSyncMaster, reason: "sync"}},
			want:  becomeMasterAt(s, 100, StateBackup, "sync"),
			state: StateMaster,
		},
		{
			name:  "sync: a master steps down without priority 0 when its group does",
			setup: toMaster,
			in:    fsmIn{10 * s, input{kind: inSyncBackup, reason: "sync"}},
			want:  []string{"stop advert", "stop garp", "remove", "set masterDown @13.609375s", "MASTER->BACKUP: sync"},
			state: StateBackup,
		},
		{
			name:  "sync: a member held by its group waits another Master_Down_Interval",
			setup: toBackup,
			in:    fsmIn{mdi, input{kind: inTimer, timer: timerMasterDown, held: true}},
			want:  []string{"set masterDown @7.21875s"},
			state: StateBackup,
		},
		{
			name:  "sync: FAULT ignores the group's MASTER",
			setup: toFault,
			in:    fsmIn{2 * s, input{kind: inSyncMaster, reason: "sync"}},
			state: StateFault,
		},
		{
			name:  "sync: a backup ignores the group's BACKUP",
			setup: toBackup,
			in:    fsmIn{2 * s, input{kind: inSyncBackup, reason: "sync"}},
			state: StateBackup,
		},

		// RFC 5798 6.4.3 Master.
		{
			name:  "master: Adver_Timer fires",
			setup: toMaster,
			in:    timerAt(10*s, timerAdvert),
			want:  []string{"send 100", "set advert @11s"},
			state: StateMaster,
		},
		{
			name:  "master: higher priority steps down",
			setup: toMaster,
			in:    advertAt(10*s, fsmLow, 150),
			want: []string{"send 100", "stop advert", "stop garp", "remove", "set masterDown @13.609375s",
				"MASTER->BACKUP: higher priority advert [198.51.100.1]"},
			state: StateBackup,
		},
		{
			name:  "master: v3 higher priority steps down with its interval",
			setup: toMaster,
			in:    advertIntervalAt(10*s, fsmLow, 150, 2*s),
			want: []string{"send 100", "stop advert", "stop garp", "remove", "set masterDown @17.21875s",
				"MASTER->BACKUP: higher priority advert [198.51.100.1]"},
			state: StateBackup,
		},
		{
			name:  "master: equal priority from a higher address steps down",
			setup: toMaster,
			in:    advertAt(10*s, fsmHigh, 100),
			want: []string{"send 100", "stop advert", "stop garp", "remove", "set masterDown @13.609375s",
				"MASTER->BACKUP: equal priority advert from higher address [198.51.100.3]"},
			state: StateBackup,
		},
		{
			name:  "master: equal priority from a lower address is answered at once",
			setup: toMaster,
			in:    advertAt(10*s, fsmLow, 100),
			want:  []string{"send 100", "set advert @11s", "announce", "set garp @11.1s"},
			state: StateMaster,
		},
		{
			name:  "master: lower priority (two masters) is answered at once with a new GARP burst",
			setup: toMaster,
			in:    advertAt(10*s, fsmHigh, 50),
			want:  []string{"send 100", "set advert @11s", "announce", "set garp @11.1s"},
			state: StateMaster,
		},
		{
			name:  "master: priority 0 is answered at once",
			setup: toMaster,
			in:    advertAt(10*s, fsmHigh, 0),
			want:  []string{"send 100", "set advert @11s"},
			state: StateMaster,
		},
		{
			name:  "master: shutdown sends priority 0 and removes the VIPs",
			setup: toMaster,
			in:    shutdownAt(10 * s),
			want:  []string{"stop advert", "stop garp", "remove", "send 0", "MASTER->INIT: shutdown"},
			state: StateInit,
		},
		{
			name:  "master: stale Master_Down_Timer does nothing",
			setup: toMaster,
			in:    timerAt(10*s, timerMasterDown),
			state: StateMaster,
		},

		// Gratuitous ARP burst and refresh.
		{
			name:  "garp: second of three",
			cfg:   func(c *fsmConfig) { c.Priority = 255 },
			setup: []fsmIn{startupAt(0)},
			in:    timerAt(1100*ms, timerGARP),
			want:  []string{"announce", "set garp @2.2s"},
			state: StateMaster,
		},
		{
			name:  "garp: third of three ends the burst",
			cfg:   func(c *fsmConfig) { c.Priority = 255 },
			setup: []fsmIn{startupAt(0), timerAt(1100*ms, timerGARP)},
			in:    timerAt(2200*ms, timerGARP),
			want:  []string{"announce", "stop garp"},
			state: StateMaster,
		},
		{
			name:  "garp: refresh after the burst",
			cfg:   func(c *fsmConfig) { c.Priority, c.GARPRefresh = 255, 30*s },
			setup: []fsmIn{startupAt(0), timerAt(1100*ms, timerGARP)},
			in:    timerAt(2200*ms, timerGARP),
			want:  []string{"announce", "set garp @32.2s"},
			state: StateMaster,
		},
		{
			name:  "garp: refresh repeats",
			cfg:   func(c *fsmConfig) { c.Priority, c.GARPRefresh = 255, 30*s },
			setup: []fsmIn{startupAt(0), timerAt(1100*ms, timerGARP), timerAt(2200*ms, timerGARP)},
			in:    timerAt(32200*ms, timerGARP),
			want:  []string{"announce", "set garp @1m2.2s"},
			state: StateMaster,
		},
		{
			name: "garp: a burst of one",
			cfg:  func(c *fsmConfig) { c.Priority, c.GARPRepeat = 255, 1 },
			in:   startupAt(0),
			want: []string{"stop masterDown", "stop preempt", "add", "send 255", "announce",
				"stop garp", "set advert @1s", "INIT->MASTER: address owner (priority 255) [198.51.100.2]"},
			state: StateMaster,
		},
		{
			name:  "garp: stale timer in backup does nothing",
			setup: toBackup,
			in:    timerAt(s, timerGARP),
			state: StateBackup,
		},

		// FAULT (keepalived).
		{
			name:  "fault: from master sends priority 0 and removes the VIPs",
			setup: toMaster,
			in:    faultAt(10*s, "nginx down"),
			want:  []string{"stop advert", "stop garp", "remove", "send 0", "MASTER->FAULT: nginx down"},
			state: StateFault,
		},
		{
			name:  "fault: from backup",
			setup: toBackup,
			in:    faultAt(s, "nginx down"),
			want:  []string{"stop masterDown", "stop preempt", "remove", "BACKUP->FAULT: nginx down"},
			state: StateFault,
		},
		{
			name:  "fault: before startup",
			in:    faultAt(0, ""),
			want:  []string{"remove", "INIT->FAULT: fault"},
			state: StateFault,
		},
		{
			name:  "fault: startup while faulted stays faulted",
			setup: []fsmIn{faultAt(0, "x")},
			in:    startupAt(0),
			state: StateFault,
		},
		{
			name:  "fault: twice is once",
			setup: toFault,
			in:    faultAt(2*s, "again"),
			state: StateFault,
		},
		{
			name:  "fault: adverts are ignored",
			setup: toFault,
			in:    advertAt(2*s, fsmHigh, 150),
			state: StateFault,
		},
		{
			name:  "fault: no adverts are sent",
			setup: toFault,
			in:    timerAt(2*s, timerAdvert),
			state: StateFault,
		},
		{
			name:  "fault: resume goes backup with Master_Down_Interval",
			setup: toFault,
			in:    resumeAt(5 * s),
			want:  []string{"set masterDown @8.609375s", "FAULT->BACKUP: resume"},
			state: StateBackup,
		},
		{
			name:  "fault: resume forgets the learned interval",
			setup: []fsmIn{startupAt(0), advertIntervalAt(s, fsmHigh, 150, 2*s), faultAt(2*s, "x")},
			in:    resumeAt(5 * s),
			want:  []string{"set masterDown @8.609375s", "FAULT->BACKUP: resume"},
			state: StateBackup,
		},
		{
			name:  "fault: resume when not faulted does nothing",
			setup: toMaster,
			in:    resumeAt(5 * s),
			state: StateMaster,
		},
		{
			name:  "fault: shutdown",
			setup: toFault,
			in:    shutdownAt(5 * s),
			want:  []string{"remove", "FAULT->INIT: shutdown"},
			state: StateInit,
		},
		{
			name:  "nopreempt: resumed backup accepts a lower master",
			cfg:   func(c *fsmConfig) { c.Preempt = false },
			setup: []fsmIn{startupAt(0), faultAt(s, "x"), resumeAt(2 * s)},
			in:    advertAt(3*s, fsmHigh, 50),
			want:  []string{"set masterDown @6.609375s"},
			state: StateBackup,
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

func TestFSMTimes(t *testing.T) {
	tests := []struct {
		prio     uint8
		interval time.Duration
		skew     time.Duration
		mdi      time.Duration
	}{
		{100, time.Second, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{255, time.Second, 3906250 * time.Nanosecond, 3003906250 * time.Nanosecond},
		{1, time.Second, 996093750 * time.Nanosecond, 3996093750 * time.Nanosecond},
		{100, 100 * time.Millisecond, 60937500 * time.Nanosecond, 360937500 * time.Nanosecond},
	}
	for _, tt := range tests {
		if got := SkewTime(tt.prio, tt.interval); got != tt.skew {
			t.Errorf("SkewTime(%d, %v) = %v, want %v", tt.prio, tt.interval, got, tt.skew)
		}
		if got := MasterDownInterval(tt.prio, tt.interval); got != tt.mdi {
			t.Errorf("MasterDownInterval(%d, %v) = %v, want %v", tt.prio, tt.interval, got, tt.mdi)
		}
	}
}

// TestVersionTimes pins the per-version rule that the engine and vipd -t's
// failover budget share: v2's Skew_Time ignores the advert interval.
func TestVersionTimes(t *testing.T) {
	tests := []struct {
		v        Version
		prio     uint8
		interval time.Duration
		skew     time.Duration
		mdi      time.Duration
	}{
		{Version2, 100, time.Second, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{Version2, 100, 3 * time.Second, 609375 * time.Microsecond, 9609375 * time.Microsecond},
		{Version2, 254, time.Second, 7812500 * time.Nanosecond, 3007812500 * time.Nanosecond},
		{Version3, 100, time.Second, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{Version3, 100, 3 * time.Second, 1828125 * time.Microsecond, 10828125 * time.Microsecond},
		{Version3, 254, 100 * time.Millisecond, 781250 * time.Nanosecond, 300781250 * time.Nanosecond},
	}
	for _, tt := range tests {
		if got := tt.v.SkewTime(tt.prio, tt.interval); got != tt.skew {
			t.Errorf("v%d SkewTime(%d, %v) = %v, want %v", tt.v, tt.prio, tt.interval, got, tt.skew)
		}
		if got := tt.v.MasterDownInterval(tt.prio, tt.interval); got != tt.mdi {
			t.Errorf("v%d MasterDownInterval(%d, %v) = %v, want %v", tt.v, tt.prio, tt.interval, got, tt.mdi)
		}
	}
}

// TestFSMPriorityOrder checks that two machines agree on who is master, from
// every order of priorities and addresses, by exchanging one advert each way.
func TestFSMPriorityOrder(t *testing.T) {
	for _, pa := range []uint8{1, 100, 254} {
		for _, pb := range []uint8{1, 100, 254} {
			a, b := fsmBase(), fsmBase()
			a.Priority, b.Priority = pa, pb
			a.Primary, b.Primary = fsmLow, fsmHigh
			ma, mb := newFSM(a), newFSM(b)
			ma.step(fsmT0, input{kind: inStartup})
			mb.step(fsmT0, input{kind: inStartup})
			ma.step(fsmT0.Add(time.Second), input{kind: inTimer, timer: timerMasterDown})
			mb.step(fsmT0.Add(time.Second), input{kind: inTimer, timer: timerMasterDown})
			// Both are master (a partition healed); they hear each other.
			ma.step(fsmT0.Add(2*time.Second), input{kind: inAdvert, src: fsmHigh, priority: pb})
			mb.step(fsmT0.Add(2*time.Second), input{kind: inAdvert, src: fsmLow, priority: pa})
			aWins := pa > pb // at equal priority the higher address (b) wins
			if got := ma.state == StateMaster; got != aWins {
				t.Errorf("a %d, b %d: a master %v, want %v", pa, pb, got, aWins)
			}
			if got := mb.state == StateMaster; got == aWins {
				t.Errorf("a %d, b %d: b master %v, want %v", pa, pb, got, !aWins)
			}
		}
	}
}

func TestFSMAllocs(t *testing.T) {
	m := newFSM(fsmBase())
	m.step(fsmT0, input{kind: inStartup})
	now := fsmT0
	in := input{kind: inAdvert, src: fsmHigh, priority: 150, interval: time.Second}
	if n := testing.AllocsPerRun(100, func() {
		now = now.Add(time.Second)
		m.step(now, in)
	}); n != 0 {
		t.Errorf("backup receiving an advert: %v allocations, want 0", n)
	}
}

// RFC 3768 defines v2's Skew_Time in seconds, unscaled by the interval (and
// keepalived agrees); RFC 5798 scales it for v3.
func TestFSMSkewByVersion(t *testing.T) {
	tests := []struct {
		version         Version
		interval        time.Duration
		skew, masterDwn time.Duration
	}{
		{Version2, time.Second, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{Version2, 2 * time.Second, 609375 * time.Microsecond, 6609375 * time.Microsecond},
		{Version3, 2 * time.Second, 1218750 * time.Microsecond, 7218750 * time.Microsecond},
		{Version3, 100 * time.Millisecond, 60937500, 360937500},
	}
	for _, tt := range tests {
		cfg := fsmBase()
		cfg.Priority, cfg.Version, cfg.Interval = 100, tt.version, tt.interval
		m := newFSM(cfg)
		if got := m.skew(); got != tt.skew {
			t.Errorf("v%d at %v: skew %v, want %v", tt.version, tt.interval, got, tt.skew)
		}
		if got := m.masterDown(); got != tt.masterDwn {
			t.Errorf("v%d at %v: master down %v, want %v", tt.version, tt.interval, got, tt.masterDwn)
		}
	}
}
