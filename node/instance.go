package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/vrrp"
	"golang.org/x/sync/errgroup"
)

// Fault sources: an instance is in FAULT while any of them holds. Each
// source comes and goes on its own, so that a guard turning healthy does
// not end a fault the operator asked for.
const srcOperator = "operator"

func srcTrack(name string) string  { return "track_script " + name }
func srcLink(ifname string) string { return "interface " + ifname }

type fault struct{ src, reason string }

// unit runs one vrrp_instance: its engine, reopened if its socket fails,
// and the fault sources that decide whether it is in FAULT.
type unit struct {
	d   *Daemon
	log *slog.Logger

	mu          sync.Mutex
	spec        spec
	eng         *vrrp.Instance // nil while not running
	vips        *vips          // the running engine's
	base        vrrp.Stats     // of engines that stopped
	faults      []fault        // in the order they came
	resumeWhy   string         // reason of the Resume just asked for
	lastTrans   time.Time
	transitions uint64
	master      bool       // the engine's last transition was to MASTER
	openErr     string     // why the engine does not run; "" when it does
	group       *syncGroup // its vrrp_sync_group, or nil

	task *task // Run, once started
}

// newUnit makes the unit of s. Its VIPs count among the daemon's from now until Run returns: the
// daemon makes every unit of a configuration before it starts any, so the
// first to look for connections left on absent VIPs sweeps them all in one
// batch (vipSockets.cleanse). Run it.
func newUnit(d *Daemon, s spec) *unit {
	d.vipSocks.register(s.VIPs)
	return &unit{d: d, spec: s, log: d.log.With("instance", s.Name)}
}

func (u *unit) name() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.spec.Name
}

// faultText joins the reasons of every fault source.
func (u *unit) faultText() string {
	rs := make([]string, len(u.faults))
	for i, f := range u.faults {
		rs[i] = f.reason
	}
	return strings.Join(rs, "; ")
}

// setFault adds (or updates) a fault source. The first one puts the engine
// in FAULT. A fault of u's own takes the rest of its sync group along.
func (u *unit) setFault(src, reason string) {
	u.setFaultLocked(src, reason)
	if g := u.syncGroup(); g != nil && src != srcSync {
		g.faultsChanged()
	}
}

func (u *unit) setFaultLocked(src, reason string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i, f := range u.faults {
		if f.src == src {
			u.faults[i].reason = reason
			return
		}
	}
	u.faults = append(u.faults, fault{src, reason})
	if len(u.faults) == 1 {
		u.log.Warn("entering FAULT", "source", src, "reason", reason)
		if u.eng != nil {
			u.eng.Fault(reason)
		}
	} else {
		u.log.Info("another fault while in FAULT", "source", src, "reason", reason)
	}
}

// clearFault removes a fault source; when none is left, the engine resumes
// as BACKUP (never preempting under nopreempt). why explains the resume.
// The last own fault of a sync group's members lets the group resume.
func (u *unit) clearFault(src, why string) {
	u.clearFaultLocked(src, why)
	if g := u.syncGroup(); g != nil && src != srcSync {
		g.faultsChanged()
	}
}

func (u *unit) clearFaultLocked(src, why string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	i := -1
	for j, f := range u.faults {
		if f.src == src {
			i = j
		}
	}
	if i < 0 {
		return
	}
	u.faults = append(u.faults[:i], u.faults[i+1:]...)
	if len(u.faults) > 0 {
		u.log.Info("fault source cleared; still in FAULT", "source", src, "remaining", u.faultText())
		return
	}
	u.log.Info("leaving FAULT", "source", src, "reason", why)
	u.resumeWhy = why
	if u.eng != nil {
		u.eng.Resume()
	}
}

// faultedBy returns the reasons of the fault sources other than exclude, joined.
func (u *unit) faultedBy(exclude string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var rs []string
	for _, f := range u.faults {
		if f.src != exclude {
			rs = append(rs, f.reason)
		}
	}
	return strings.Join(rs, "; ")
}

// state returns the engine's state; INIT when it does not run.
func (u *unit) state() vrrp.State {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.eng == nil {
		return vrrp.StateInit
	}
	return u.eng.Status().State
}

// start runs the unit on g until ctx is done or stop.
func (u *unit) start(g *errgroup.Group, ctx context.Context) {
	u.task = goTask(g, ctx, u.Run)
}

// stopping tells u's VIPs that the daemon is stopping (see vips.stop).
func (u *unit) stopping(collect func(netip.Addr)) {
	u.mu.Lock()
	v := u.vips
	u.mu.Unlock()
	if v != nil {
		v.stop(collect)
	}
}

// leave has the engine give up now (see vrrp.Instance.Leave), if it runs.
func (u *unit) leave() {
	u.mu.Lock()
	eng := u.eng
	u.mu.Unlock()
	if eng != nil {
		eng.Leave()
	}
}

// stop shuts the engine down (a master sends priority 0 and drops its
// VIPs) and waits for it.
func (u *unit) stop() { u.task.stop() }

// Run opens and runs the engine, and opens it again after
// Options.RetryInterval if that fails, until ctx is done; then it returns
// nil.
//
// Run's and runOnce's frames are what an instance's goroutine keeps on
// its stack while the engine runs (it waits in eng.Run): whatever works
// with big values (the spec, the engine's Config and Status, a log line)
// is in helpers that return first, so that the stack startup grew shrinks
// back to a few KiB at the next collections. A thousand instances are a
// thousand such stacks.
func (u *unit) Run(ctx context.Context) error {
	defer u.unregister()
	for {
		err := u.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		u.openFailed(err)
		t := time.NewTimer(u.d.opts.RetryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// unregister gives up the unit's VIPs' sockets when it ends.
func (u *unit) unregister() {
	u.mu.Lock()
	vips := u.spec.VIPs
	u.mu.Unlock()
	u.d.vipSocks.unregister(vips)
}

// openFailed says that the engine could not be opened or stopped, and
// that it will be tried again.
func (u *unit) openFailed(err error) {
	u.mu.Lock()
	u.openErr = err.Error()
	u.mu.Unlock()
	u.log.Error("VRRP instance is not running; retrying", "err", err, "retry", u.d.opts.RetryInterval)
	u.d.publish(control.Event{Type: control.EventError, Instance: u.name(), Error: err.Error()})
}

func (u *unit) runOnce(ctx context.Context) error {
	eng, conn, v, err := u.open()
	if err != nil {
		return err
	}
	// The engine runs on this goroutine, and its transitions come to
	// onEvent here too (Config.OnEvent): on a shared socket that is the
	// one goroutine an instance has.
	err = eng.Run(ctx)
	u.closed(eng)
	v.Close()
	conn.Close()
	if err == nil && ctx.Err() == nil {
		err = fmt.Errorf("VRRP instance %s stopped", u.name())
	}
	return err
}

// open makes the engine of the current spec, with its socket and VIPs.
func (u *unit) open() (*vrrp.Instance, vrrp.Conn, *vips, error) {
	u.mu.Lock()
	s := u.spec
	u.mu.Unlock()
	sys := u.d.opts.System
	cfg := s.Engine
	cfg.Logger = u.log
	cfg.SyncGate = u.syncGate
	cfg.OnEvent = u.onEvent
	if !cfg.Primary.IsValid() {
		p, err := sys.PrimaryAddr(s.Interface, primaryFamily(cfg.Addresses), u.d.vipAddrs())
		if err != nil {
			return nil, nil, nil, err
		}
		cfg.Primary = p
	}
	conn, err := u.d.socks.conn(s.Interface, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	drop, _ := sys.(SocketDropper)
	v, err := openVIPs(u.d.vipSocks, drop, s.VIPs, u.log)
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	eng, err := vrrp.NewInstance(cfg, conn, v, v)
	if err != nil {
		v.Close()
		conn.Close()
		return nil, nil, nil, err // Check refuses such a configuration before we get here
	}

	u.mu.Lock()
	u.eng, u.vips, u.openErr = eng, v, ""
	if len(u.faults) > 0 {
		eng.Fault(u.faultText()) // start in FAULT, never flapping through BACKUP
	}
	u.mu.Unlock()
	u.log.Info("VRRP instance started", "interface", s.Interface, "vrid", cfg.VRID, "primary", cfg.Primary,
		"priority", s.Engine.Priority, "vips", len(s.VIPs))
	return eng, conn, v, nil
}

// closed keeps the counters of an engine that has stopped.
func (u *unit) closed(eng *vrrp.Instance) {
	st := eng.Status()
	u.mu.Lock()
	u.base = addStats(u.base, st.Stats)
	u.eng, u.vips = nil, nil
	u.mu.Unlock()
}

// onEvent handles one transition of the engine: counters, the watch
// stream, the notify scripts.
func (u *unit) onEvent(ev vrrp.Event) {
	u.mu.Lock()
	u.lastTrans = ev.Time
	u.transitions++
	// An adopting backup holds the VIP: clients wait in its nginx.
	was := u.master
	u.master = ev.To == vrrp.StateMaster || ev.Adopting
	serving := u.master
	reason := ev.Reason
	if ev.From == vrrp.StateFault && ev.To == vrrp.StateBackup && u.resumeWhy != "" {
		reason, u.resumeWhy = u.resumeWhy, ""
	}
	s, g := u.spec, u.group
	u.mu.Unlock()
	u.d.publish(control.Event{
		Time: ev.Time, Type: control.EventTransition, Instance: s.Name,
		From: control.State(ev.From.String()), To: control.State(ev.To.String()),
		Master: ev.Master, Reason: reason,
	})
	u.d.notifier.enqueue(notifyJobs(s, ev.To)...)
	if g != nil {
		g.transition(u, ev)
	}
	if was != serving {
		u.d.mu.Lock()
		u.d.paceGuards()
		u.d.mu.Unlock()
	}
	if ev.Adopting {
		// A master heard ends the adoption with no transition: look again
		// once the window is over.
		n := u.transitionCount()
		time.AfterFunc(vrrp.AdoptWindow(s.Engine.Interval)+s.Engine.Interval/4, func() { u.adoptOver(n) })
	}
}

func (u *unit) transitionCount() uint64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.transitions
}

// adoptOver stops counting a backup that adopted leftover VIPs as serving
// once it no longer holds them (it heard a master), unless a transition
// since the one numbered n decided already.
func (u *unit) adoptOver(n uint64) {
	u.mu.Lock()
	eng := u.eng
	u.mu.Unlock()
	if eng == nil {
		return
	}
	st := eng.Status()
	if st.Adopting || st.State == vrrp.StateMaster {
		return
	}
	u.mu.Lock()
	was := u.master && u.transitions == n
	if was {
		u.master = false
	}
	u.mu.Unlock()
	if was {
		u.d.mu.Lock()
		u.d.paceGuards()
		u.d.mu.Unlock()
	}
}

func (u *unit) isMaster() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.master
}

// status returns the instance's part of a Status. It reads the VIPs back
// from the kernel: call it without the daemon's lock.
func (u *unit) status(now time.Time) control.Instance {
	u.mu.Lock()
	s, eng, v, base := u.spec, u.eng, u.vips, u.base
	ci := control.Instance{
		Name:           s.Name,
		Interface:      s.Interface,
		VRID:           s.Engine.VRID,
		Version:        int(s.Engine.Version),
		AdverInt:       control.Seconds(s.Engine.Interval),
		MasterAdverInt: control.Seconds(s.Engine.Interval),
		State:          control.StateInit,
		BasePriority:   s.Engine.Priority,
		NoPreempt:      s.Engine.NoPreempt,
		LastTransition: u.lastTrans,
		Transitions:    u.transitions,
	}
	faultText := u.faultText()
	u.mu.Unlock()
	for _, vs := range s.VIPs {
		ci.VIPs = append(ci.VIPs, vs.Prefix.String())
	}
	stats := base
	if eng != nil {
		st := eng.Status()
		stats = addStats(base, st.Stats)
		ci.State = control.State(st.State.String())
		ci.BasePriority = st.Priority
		ci.EffectivePriority = st.EffectivePriority
		ci.MasterAdverInt = control.Seconds(st.MasterAdverInterval)
		ci.Master, ci.MasterPriority = st.Master, st.MasterPriority
		if !st.LastAdvert.IsZero() {
			ci.LastAdvert = st.LastAdvert
			ci.LastAdvertAge = control.Millis(now.Sub(st.LastAdvert))
		}
		if st.State == vrrp.StateFault {
			ci.FaultReason = faultText
		}
		ci.Stranger, ci.StrangerAt = st.Stranger, st.StrangerAt
		ci.MismatchPeer, ci.MismatchAddresses, ci.MismatchAt = st.MismatchPeer, st.MismatchAddresses, st.MismatchAt
	}
	if v != nil {
		ci.VIPPresent = v.present(s.Engine.Addresses)
	}
	ci.Stats = controlStats(stats)
	return ci
}

func controlStats(s vrrp.Stats) control.Stats {
	cs := control.Stats{
		AdvertRcvd:      s.AdvertRcvd,
		AdvertSent:      s.AdvertSent,
		BecomeMaster:    s.BecomeMaster,
		ReleaseMaster:   s.ReleaseMaster,
		PriZeroRcvd:     s.PriZeroRcvd,
		PriZeroSent:     s.PriZeroSent,
		AuthFailure:     s.Drop(vrrp.DropAuth),
		IPTTLErr:        s.Drop(vrrp.DropTTL),
		GARPSent:        s.GARPSent,
		SendErrors:      s.SendErrors,
		AddressErrors:   s.AddressErrors,
		AnnounceErrors:  s.AnnounceErrors,
		Strangers:       s.Strangers,
		AddressMismatch: s.AddressMismatch,
		KernelDrops:     s.KernelDrops,
	}
	for _, r := range vrrp.DropReasons() {
		if n := s.Drop(r); n > 0 {
			if cs.Drops == nil {
				cs.Drops = map[string]uint64{}
			}
			cs.Drops[r.String()] = n
		}
	}
	return cs
}

func addStats(a, b vrrp.Stats) vrrp.Stats {
	a.AdvertRcvd += b.AdvertRcvd
	a.AdvertSent += b.AdvertSent
	a.BecomeMaster += b.BecomeMaster
	a.ReleaseMaster += b.ReleaseMaster
	a.PriZeroRcvd += b.PriZeroRcvd
	a.PriZeroSent += b.PriZeroSent
	a.GARPSent += b.GARPSent
	for i := range a.Drops {
		a.Drops[i] += b.Drops[i]
	}
	a.SendErrors += b.SendErrors
	a.AddressErrors += b.AddressErrors
	a.AnnounceErrors += b.AnnounceErrors
	a.EventsDropped += b.EventsDropped
	a.Strangers += b.Strangers
	a.AddressMismatch += b.AddressMismatch
	a.KernelDrops = max(a.KernelDrops, b.KernelDrops) // the socket's count, not a sum
	return a
}
