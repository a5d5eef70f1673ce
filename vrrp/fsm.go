package vrrp

import (
	"fmt"
	"net/netip"
	"time"
)

// This file is the VRRP state machine of RFC 5798 section 6.4 (which RFC
// 3768 section 6.4 matches for IPv4) with keepalived's extensions. It does
// no I/O and never reads the clock: every input carries the time, and the
// output is a list of actions for the Instance to carry out. That keeps the
// protocol testable row by row without sockets or timers.

// timerID names a deadline of the state machine. The Instance keeps one
// deadline per ID and feeds inTimer back when it passes.
type timerID uint8

const (
	timerMasterDown timerID = iota // Master_Down_Timer
	timerAdvert                    // Adver_Timer
	timerPreempt                   // end of preempt_delay: take over from a lower master
	timerGARP                      // next gratuitous ARP of a burst, or a refresh
	numFSMTimers
)

var timerNames = [...]string{"masterDown", "advert", "preempt", "garp"}

func (t timerID) String() string {
	if int(t) < len(timerNames) {
		return timerNames[t]
	}
	return fmt.Sprintf("timer%d", t)
}

type inputKind uint8

const (
	inStartup    inputKind = iota // the Startup event
	inAdvert                      // an accepted ADVERTISEMENT
	inTimer                       // a deadline passed
	inShutdown                    // the Shutdown event
	inFault                       // enter FAULT (keepalived)
	inResume                      // leave FAULT
	inSyncMaster                  // a sync group member became MASTER: BACKUP takes over now
	inSyncBackup                  // a sync group member became BACKUP: MASTER steps down
)

// An input is one event for the state machine.
type input struct {
	kind inputKind
	// inAdvert: the sender's primary address, its priority and (v3) its
	// advertisement interval.
	src      netip.Addr
	priority uint8
	interval time.Duration
	timer    timerID // inTimer
	reason   string  // inFault, inSyncMaster, inSyncBackup
	// inStartup: some virtual address is already on the interface;
	// inTimer for Master_Down_Timer: the sync group holds us BACKUP.
	held bool
}

type actionKind uint8

const (
	actSend       actionKind = iota // send an advertisement with priority
	actAddVIPs                      // add every virtual address
	actRemoveVIPs                   // remove every virtual address
	actAnnounce                     // one gratuitous ARP for every virtual address
	actSetTimer                     // set timer to at
	actStopTimer                    // cancel timer
	actTransition                   // the state changed: from, to, reason, master
)

// An action is one thing the Instance must do, in order.
type action struct {
	kind     actionKind
	priority uint8     // actSend
	timer    timerID   // actSetTimer, actStopTimer
	at       time.Time // actSetTimer
	from, to State     // actTransition
	reason   string    // actTransition
	master   netip.Addr
	adopting bool // actTransition: see Event.Adopting
}

// Transition reasons: constants, so that a transition allocates nothing.
const (
	reasonStartup      = "startup"
	reasonOwner        = "address owner (priority 255)"
	reasonInitMaster   = "initial state MASTER"
	reasonMasterDown   = "master down"
	reasonReleased     = "master released (priority 0)"
	reasonPreempt      = "preempt delay over"
	reasonHigherPrio   = "higher priority advert"
	reasonHigherAddr   = "equal priority advert from higher address"
	reasonShutdown     = "shutdown"
	reasonResume       = "resume"
	reasonDefaultFault = "fault"
	reasonAdoptListen  = "startup holding leftover VIPs: listening for a master"
	reasonAdopted      = "no master heard: kept leftover VIPs"
)

// fsmConfig is the part of Config the state machine needs, with defaults
// applied.
type fsmConfig struct {
	Priority      uint8
	Version       Version
	Interval      time.Duration // Advertisement_Interval
	Preempt       bool          // Preempt_Mode (not keepalived's nopreempt)
	PreemptDelay  time.Duration
	InitialMaster bool // keepalived "state MASTER"
	Primary       netip.Addr
	GARPRepeat    int // announcements in a burst, the first included
	GARPInterval  time.Duration
	GARPRefresh   time.Duration // 0: no refresh
	StartupDelay  time.Duration
	AdoptVIPs     bool // keep VIPs found at startup while listening for a master
}

// SkewTime is RFC 5798's Skew_Time, ((256 - priority) * interval) / 256:
// the extra wait that lets the highest-priority backup take over first.
// For VRRPv2 (RFC 3768) pass interval = 1 s: v2's Skew_Time does not scale.
func SkewTime(priority uint8, interval time.Duration) time.Duration {
	return time.Duration(256-int(priority)) * interval / 256
}

// MasterDownInterval is RFC 5798's Master_Down_Interval, 3 * interval +
// Skew_Time: how long a backup waits without adverts before it takes over.
// For VRRPv2 it is 3 * interval + SkewTime(priority, time.Second), as
// Version.MasterDownInterval has it. With priority 100 and a 1 s interval
// it is 3.609375 s.
func MasterDownInterval(priority uint8, interval time.Duration) time.Duration {
	return 3*interval + SkewTime(priority, interval)
}

// SkewTime is Skew_Time as an instance of version v waits it at this
// priority and advert interval. RFC 3768 (v2) defines it in whole seconds,
// (256 - priority) / 256 s, whatever the advert interval, and keepalived
// does the same; only v3 scales it with the interval. The engine uses
// it, and so does anything that predicts the engine's failover times.
func (v Version) SkewTime(priority uint8, interval time.Duration) time.Duration {
	if v == Version2 {
		return SkewTime(priority, time.Second)
	}
	return SkewTime(priority, interval)
}

// MasterDownInterval is Master_Down_Interval as an instance of version v
// computes it: 3 * interval + v.SkewTime(priority, interval).
func (v Version) MasterDownInterval(priority uint8, interval time.Duration) time.Duration {
	return 3*interval + v.SkewTime(priority, interval)
}

// fsm is the state machine. The zero value is not usable; use newFSM.
type fsm struct {
	cfg   fsmConfig
	state State

	started   bool
	preemptAt time.Time // a lower master is tolerated until then

	masterAdverInterval time.Duration // Master_Adver_Interval
	master              netip.Addr    // the master we believe in
	masterPrio          uint8
	released            bool // the master sent priority 0
	garpLeft            int  // announcements left in the current burst
	adopting            bool // BACKUP holding leftover VIPs until a master is heard
	wantMaster          bool // BACKUP held back by its sync group: Master_Down_Timer expired

	out []action // reused by step: the result is valid until the next step
}

func newFSM(cfg fsmConfig) *fsm {
	return &fsm{
		cfg:                 cfg,
		state:               StateInit,
		masterAdverInterval: cfg.Interval,
		out:                 make([]action, 0, 4), // grows to the longest step's, once
	}
}

// step feeds one input at now and returns what to do. The slice is reused by
// the next call.
func (m *fsm) step(now time.Time, in input) []action {
	m.out = m.out[:0]
	switch in.kind {
	case inStartup:
		m.startup(now, in.held)
	case inAdvert:
		m.advert(now, in)
	case inTimer:
		m.timer(now, in.timer, in.held)
	case inShutdown:
		m.shutdown()
	case inFault:
		m.fault(in.reason)
	case inResume:
		m.resume(now)
	case inSyncMaster:
		if m.state == StateBackup {
			m.becomeMaster(now, in.reason)
		}
	case inSyncBackup:
		m.syncBackup(now, in.reason)
	}
	return m.out
}

// skew is Skew_Time for the configured version, scaled (in v3) by
// Master_Adver_Interval.
func (m *fsm) skew() time.Duration {
	return m.cfg.Version.SkewTime(m.cfg.Priority, m.masterAdverInterval)
}

func (m *fsm) masterDown() time.Duration {
	return m.cfg.Version.MasterDownInterval(m.cfg.Priority, m.masterAdverInterval)
}

func (m *fsm) emit(a action)   { m.out = append(m.out, a) }
func (m *fsm) send(prio uint8) { m.emit(action{kind: actSend, priority: prio}) }
func (m *fsm) set(t timerID, at time.Time) {
	m.emit(action{kind: actSetTimer, timer: t, at: at})
}
func (m *fsm) stop(t timerID) { m.emit(action{kind: actStopTimer, timer: t}) }

func (m *fsm) transition(to State, reason string) {
	from := m.state
	m.state = to
	m.wantMaster = false
	var master netip.Addr
	switch to {
	case StateMaster:
		master = m.cfg.Primary
	case StateBackup:
		master = m.master
	}
	m.emit(action{kind: actTransition, from: from, to: to, reason: reason, master: master, adopting: m.adopting})
}

// AdoptWindow is how long an instance with Config.AdoptVIPs that finds its
// virtual addresses already on the interface listens for a master before it
// takes over with them: one advertisement interval and a half. A master
// sends one advert per interval, so a live one is heard in the window, and
// the window ends well before a backup's Master_Down_Interval (at least 3
// intervals since the crashed router's last advert) runs out.
func AdoptWindow(interval time.Duration) time.Duration { return interval * 3 / 2 }

// startup is the Startup event of the Initialize state. held says whether
// some virtual address was already on the interface.
func (m *fsm) startup(now time.Time, held bool) {
	if m.started {
		return
	}
	m.started = true
	m.preemptAt = now.Add(m.cfg.PreemptDelay)
	if m.state != StateInit {
		// Faulted before startup: Resume does the rest.
		return
	}
	m.masterAdverInterval = m.cfg.Interval
	owner := m.cfg.Priority == 255
	if (owner || m.cfg.InitialMaster) && m.cfg.StartupDelay == 0 {
		reason := reasonInitMaster
		if owner {
			reason = reasonOwner
		}
		m.becomeMaster(now, reason)
		return
	}
	if held && m.cfg.AdoptVIPs {
		// A crashed run left the VIPs: if it was master, a peer has not
		// taken over yet (its Master_Down_Timer is still running), and
		// removing them now would cut clients off for nothing. Keep them
		// and listen for AdoptWindow: a master heard means drop them and
		// follow it; silence means we are still the master.
		m.adopting = true
		m.set(timerMasterDown, now.Add(AdoptWindow(m.cfg.Interval)))
		m.transition(StateBackup, reasonAdoptListen)
		return
	}
	// A would-be master waits out StartupDelay as a backup, so that a
	// master already on the segment is heard before we claim the VIP;
	// anyone else also waits a full Master_Down_Interval.
	wait := m.masterDown() + m.cfg.StartupDelay
	if owner || m.cfg.InitialMaster {
		wait = m.cfg.StartupDelay
	}
	// Addresses left over from a crashed run must go: only a master holds them.
	m.emit(action{kind: actRemoveVIPs})
	m.set(timerMasterDown, now.Add(wait))
	m.transition(StateBackup, reasonStartup)
}

func (m *fsm) becomeMaster(now time.Time, reason string) {
	m.stop(timerMasterDown)
	m.stop(timerPreempt)
	m.emit(action{kind: actAddVIPs})
	m.send(m.cfg.Priority)
	m.burst(now)
	m.set(timerAdvert, now.Add(m.cfg.Interval))
	m.master, m.masterPrio, m.released = m.cfg.Primary, m.cfg.Priority, false
	m.masterAdverInterval = m.cfg.Interval
	m.adopting = false
	m.transition(StateMaster, reason)
}

// burst announces every VIP now and schedules the rest of a GARP burst.
func (m *fsm) burst(now time.Time) {
	m.emit(action{kind: actAnnounce})
	m.garpLeft = m.cfg.GARPRepeat - 1
	m.scheduleGARP(now)
}

func (m *fsm) scheduleGARP(now time.Time) {
	switch {
	case m.garpLeft > 0:
		m.set(timerGARP, now.Add(m.cfg.GARPInterval))
	case m.cfg.GARPRefresh > 0:
		m.set(timerGARP, now.Add(m.cfg.GARPRefresh))
	default:
		m.stop(timerGARP)
	}
}

// leaveMaster undoes being master: no more adverts or GARPs, no VIPs.
func (m *fsm) leaveMaster() {
	m.stop(timerAdvert)
	m.stop(timerGARP)
	m.emit(action{kind: actRemoveVIPs})
}

func (m *fsm) advert(now time.Time, in input) {
	switch m.state {
	case StateBackup:
		if m.adopting && in.priority != 0 {
			// Another router is master: the leftover VIPs are not ours
			// any more. From here on it is a normal startup.
			m.adopting = false
			m.emit(action{kind: actRemoveVIPs})
			m.set(timerMasterDown, now.Add(m.masterDown()))
		}
		if in.priority == 0 {
			if m.released {
				return // the repeat a leaving master sends: keep the first's timer
			}
			// The master is leaving: take over after Skew_Time only, so
			// the highest-priority backup goes first.
			m.released = true
			m.masterPrio = 0
			m.set(timerMasterDown, now.Add(m.skew()))
			return
		}
		lower := in.priority < m.cfg.Priority
		tolerated := now.Before(m.preemptAt)
		if m.cfg.Preempt && lower && !tolerated {
			return // discard: we will preempt when Master_Down_Timer fires
		}
		m.learn(in)
		m.wantMaster = false // a live master: no need to take over
		m.set(timerMasterDown, now.Add(m.masterDown()))
		if m.cfg.Preempt && lower {
			m.set(timerPreempt, m.preemptAt)
		}
	case StateMaster:
		if in.priority == 0 {
			m.send(m.cfg.Priority)
			m.set(timerAdvert, now.Add(m.cfg.Interval))
			return
		}
		higherPrio := in.priority > m.cfg.Priority
		if higherPrio || in.priority == m.cfg.Priority && in.src.Compare(m.cfg.Primary) > 0 {
			// Two masters (a healed partition): the one that hears the
			// other first steps down. One last advert of ours makes the
			// winner see that there were two and re-announce (below),
			// so that clients that followed us during the split come
			// back to it now, not when their neighbour entry expires.
			m.send(m.cfg.Priority)
			m.learn(in)
			m.leaveMaster()
			m.set(timerMasterDown, now.Add(m.masterDown()))
			reason := reasonHigherAddr
			if higherPrio {
				reason = reasonHigherPrio
			}
			m.transition(StateBackup, reason)
			return
		}
		// Another master that should not be one: typically a healed
		// partition. Answer at once so it steps down now rather than at
		// our next advert, and re-announce so the clients that followed it
		// come back to us.
		m.send(m.cfg.Priority)
		m.set(timerAdvert, now.Add(m.cfg.Interval))
		m.burst(now)
	}
	// INIT and FAULT ignore adverts.
}

// learn records the master of an accepted advert and, in version 3, its
// interval. The decoder lets an interval of 0 through: keep ours then.
func (m *fsm) learn(in input) {
	m.master, m.masterPrio, m.released = in.src, in.priority, false
	if m.cfg.Version == Version3 && in.interval > 0 {
		m.masterAdverInterval = in.interval
	}
}

func (m *fsm) timer(now time.Time, t timerID, held bool) {
	switch t {
	case timerMasterDown:
		if m.state == StateBackup && held {
			// A sync group member waits for the others to want it too.
			m.wantMaster = true
			m.set(timerMasterDown, now.Add(m.masterDown()))
			return
		}
		if m.state == StateBackup {
			reason := reasonMasterDown
			switch {
			case m.released:
				reason = reasonReleased
			case m.adopting:
				reason = reasonAdopted
			}
			m.becomeMaster(now, reason)
		}
	case timerAdvert:
		if m.state == StateMaster {
			m.send(m.cfg.Priority)
			m.set(timerAdvert, now.Add(m.cfg.Interval))
		}
	case timerPreempt:
		if m.state == StateBackup && m.cfg.Preempt && !m.released &&
			m.masterPrio != 0 && m.masterPrio < m.cfg.Priority {
			m.becomeMaster(now, reasonPreempt)
		}
	case timerGARP:
		if m.state == StateMaster {
			m.emit(action{kind: actAnnounce})
			if m.garpLeft > 0 {
				m.garpLeft--
			}
			m.scheduleGARP(now)
		}
	}
}

func (m *fsm) shutdown() {
	if m.state == StateInit {
		return
	}
	m.giveUp()
	m.adopting = false
	m.transition(StateInit, reasonShutdown)
}

func (m *fsm) fault(reason string) {
	if reason == "" {
		reason = reasonDefaultFault
	}
	if m.state == StateFault {
		return
	}
	m.giveUp()
	m.master, m.masterPrio, m.released = netip.Addr{}, 0, false
	m.adopting = false
	m.transition(StateFault, reason)
}

// giveUp ends the current state's duties on the way to INIT or FAULT. A
// master gives the VIP up first, then tells the backups to take over after
// Skew_Time rather than Master_Down_Interval; anyone else drops whatever
// VIP it may hold. A backup adopting leftover VIPs is the master as far as
// clients know: it leaves as one, or the peer, which heard the last
// advert of the run that crashed, waits out Master_Down_Interval from
// there with nobody holding the VIP.
func (m *fsm) giveUp() {
	switch m.state {
	case StateMaster:
		m.leaveMaster()
		m.send(0)
		return
	case StateBackup:
		m.stop(timerMasterDown)
		m.stop(timerPreempt)
		if m.adopting {
			m.emit(action{kind: actRemoveVIPs})
			m.send(0)
			return
		}
	}
	m.emit(action{kind: actRemoveVIPs})
}

// syncBackup steps a master down to BACKUP because another member of its
// sync group did, as keepalived's vrrp_sync_backup: no priority-0 advert
// (the peer's group takes over as a group), and a full
// Master_Down_Interval before this instance may take over again.
func (m *fsm) syncBackup(now time.Time, reason string) {
	if m.state != StateMaster {
		return
	}
	m.leaveMaster()
	m.master, m.masterPrio, m.released = netip.Addr{}, 0, false
	m.set(timerMasterDown, now.Add(m.masterDown()))
	m.transition(StateBackup, reason)
}

// resume leaves FAULT for BACKUP, as after startup: a full
// Master_Down_Interval to hear the master, and the preempt delay starts
// again (keepalived: "after startup or restart").
func (m *fsm) resume(now time.Time) {
	if m.state != StateFault {
		return
	}
	m.masterAdverInterval = m.cfg.Interval
	m.master, m.masterPrio, m.released = netip.Addr{}, 0, false
	m.preemptAt = now.Add(m.cfg.PreemptDelay)
	m.set(timerMasterDown, now.Add(m.masterDown()))
	m.transition(StateBackup, reasonResume)
}
