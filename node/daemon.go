package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/node/guard"
	"golang.org/x/sync/errgroup"
)

// Defaults of Options.
const (
	DefaultLinkInterval  = 100 * time.Millisecond // track_interface poll without link notices
	LinkSafetyPoll       = 10 * time.Second       // with them
	DefaultRetryInterval = time.Second            // reopen an instance whose socket failed
)

// Options configures a Daemon. Zero values take the defaults.
type Options struct {
	ConfigPath    string        // keepalived.conf; required
	Logger        *slog.Logger  // nil discards
	Version       string        // vipd's build version, reported in Status
	System        System        // nil: OS{}, the host
	Notify        NotifyRunner  // nil: run notify scripts as child processes
	NotifyTimeout time.Duration // per notify script; default DefaultNotifyTimeout
	LinkInterval  time.Duration // default DefaultLinkInterval
	RetryInterval time.Duration // default DefaultRetryInterval
}

// Daemon is vipd: one VRRP engine per vrrp_instance of keepalived.conf,
// the guards its track_script entries name, track_interface, notify
// scripts, and the control.Handler behind the control socket.
//
// An instance is in FAULT while any fault source holds: a tracked guard
// that failed (whatever its weight: vipd never adjusts priorities), a
// tracked interface that is down, or an operator's Fault. Each source
// clears on its own, so nginx turning healthy does not end a fault the
// operator asked for; only Resume does.
type Daemon struct {
	opts     Options
	log      *slog.Logger
	hub      control.Hub
	notifier *notifier
	metrics  *metrics
	started  time.Time
	hostname string
	reloads  chan chan error
	running  atomic.Bool
	stopped  chan struct{}   // closed when Run returns
	tasks    *errgroup.Group // Run's: every long-lived part runs on it
	unitsCtx context.Context // the instances': Run cancels it once they all know vipd stops
	socks    *sockets        // the advert sockets the instances share
	vipSocks *vipSockets     // the VIP sockets (netlink, ARP, NDP) they share per interface

	mu         sync.Mutex
	cfg        *config.Config
	loadedAt   time.Time // when cfg was loaded
	units      []*unit   // in configuration order
	guards     map[string]*guardRun
	guardOrder []string
	verdicts   map[string]verdictState
	links      map[string]linkState
}

// linkState is the last seen state of a tracked interface.
type linkState struct {
	up  bool
	err string
}

func (l linkState) reason(ifname string) string {
	if l.err != "" {
		return "interface " + ifname + " unusable: " + l.err
	}
	return "interface " + ifname + " down (no carrier)"
}

// New loads and checks the configuration. It starts nothing: call Run.
func New(opts Options) (*Daemon, error) {
	if opts.ConfigPath == "" {
		return nil, errors.New("no configuration file")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.System == nil {
		opts.System = OS{}
	}
	if opts.Notify == nil {
		opts.Notify = execNotify{}
	}
	if opts.NotifyTimeout <= 0 {
		opts.NotifyTimeout = DefaultNotifyTimeout
	}
	if opts.LinkInterval <= 0 {
		opts.LinkInterval = DefaultLinkInterval
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = DefaultRetryInterval
	}
	d := &Daemon{
		opts:     opts,
		log:      opts.Logger,
		metrics:  newMetrics(),
		started:  time.Now(),
		reloads:  make(chan chan error),
		stopped:  make(chan struct{}),
		guards:   map[string]*guardRun{},
		verdicts: map[string]verdictState{},
		links:    map[string]linkState{},
	}
	d.hostname, _ = os.Hostname()
	d.socks = newSockets(opts.System, d.log)
	d.vipSocks = newVIPSockets(opts.System)
	d.notifier = newNotifier(opts.Notify, opts.NotifyTimeout, d.log, d.notified)
	c, err := d.load()
	if err != nil {
		return nil, err
	}
	d.cfg, d.loadedAt = c, time.Now()
	return d, nil
}

// load reads and checks the configuration file and logs its warnings.
func (d *Daemon) load() (*config.Config, error) {
	c, err := config.Load(d.opts.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("failed to load %s:\n%w", d.opts.ConfigPath, err)
	}
	errs, warns := Check(c, d.opts.System)
	if len(errs) > 0 {
		return nil, fmt.Errorf("vipd cannot run %s:\n%w", d.opts.ConfigPath, config.ErrorList(errs))
	}
	for _, w := range append(slices.Clone(c.Warnings), warns...) {
		d.log.Warn("configuration warning", "at", fmt.Sprintf("%s:%d", w.File, w.Line), "msg", w.Msg)
	}
	return c, nil
}

// Run runs every instance and guard until ctx is done. Then every instance
// shuts down as RFC 5798 says (a master sends priority 0 and drops its
// VIPs, so the peer takes over after Skew_Time), the notify_stop scripts
// run, and Run returns nil. It may be called once.
func (d *Daemon) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("vipd daemon is already running or has run")
	}
	defer close(d.stopped)
	// Everything runs on one errgroup: the link watcher, and each
	// instance and guard (as a task a reload can also stop on its own).
	// Only a broken invariant makes one of them fail; then vipd stops as
	// if signalled, and Run returns that error.
	tasks, tctx := errgroup.WithContext(ctx)
	d.tasks = tasks
	// The notifier outlives ctx: the notify_stop scripts of the instances
	// stopping below must still run.
	nctx, ncancel := context.WithCancel(context.WithoutCancel(ctx))
	defer ncancel()
	tasks.Go(func() error { return d.notifier.Run(nctx) })
	tasks.Go(func() error { return d.watchLinks(tctx) })
	uctx, ucancel := context.WithCancel(context.WithoutCancel(tctx))
	defer ucancel()
	d.unitsCtx = uctx

	d.mu.Lock()
	c := d.cfg
	d.mu.Unlock()
	d.apply(tctx, c)
	d.log.Info("vipd running", "config", d.opts.ConfigPath, "instances", len(c.Instances), "version", d.opts.Version)

loop:
	for {
		select {
		case <-tctx.Done():
			break loop
		case reply := <-d.reloads:
			reply <- d.reload(tctx)
		}
	}

	d.log.Info("vipd stopping: every instance gives up its VIPs")
	d.mu.Lock()
	units := slices.Clone(d.units)
	guards := make([]*guardRun, 0, len(d.guards))
	for _, g := range d.guards {
		guards = append(guards, g)
	}
	d.mu.Unlock()
	// Every instance gives up (a master: VIPs, then priority 0) before
	// any tears down, its connection drops left for later: the last
	// master's priority-0 advert then waits for the others' netlink
	// deletes and sends only, not for their sock_diag dumps, log lines
	// and socket closes.
	var (
		left   sync.WaitGroup
		goneMu sync.Mutex
		gone   []netip.Addr
	)
	collect := func(a netip.Addr) {
		goneMu.Lock()
		gone = append(gone, a)
		goneMu.Unlock()
	}
	for _, u := range units {
		u.stopping(collect)
		left.Go(u.leave)
	}
	left.Wait()
	ucancel()
	for _, u := range units {
		u.stop()
	}
	d.dropSockets(gone)
	for _, g := range guards {
		g.task.stop()
	}
	ncancel()
	err := tasks.Wait()
	if err != nil {
		d.log.Error("vipd stopped", "err", err)
		return err
	}
	d.log.Info("vipd stopped")
	return nil
}

// dropSockets drops the connections bound to the VIPs a stopping vipd
// gave up: at once where the System can (BatchDropper). Failing to is
// logged only.
func (d *Daemon) dropSockets(addrs []netip.Addr) {
	if len(addrs) == 0 {
		return
	}
	if bd, ok := d.opts.System.(BatchDropper); ok {
		n, err := bd.DropSocketsOf(addrs)
		if err != nil {
			d.log.Warn("failed to drop the connections bound to the VIPs given up", "vips", len(addrs), "dropped", n, "err", err)
		} else if n > 0 {
			d.log.Info("dropped connections left bound to the VIPs given up", "vips", len(addrs), "dropped", n)
		}
		return
	}
	sd, ok := d.opts.System.(SocketDropper)
	if !ok {
		return
	}
	for _, a := range addrs {
		if _, err := sd.DropSockets(a); err != nil {
			d.log.Warn("failed to drop the connections bound to the VIP", "vip", a, "when", "giving the VIP up", "err", err)
		}
	}
}

// Reload reads the configuration file again, as SIGHUP asks. A file with
// errors is refused: the error is logged and returned, and everything keeps
// running as it was. Otherwise instances whose engine settings changed are
// restarted (a master hands over with priority 0), new ones started and
// removed ones stopped; the others keep running without a blip, taking
// changed notify scripts, track_script and track_interface entries in place.
// Guards are replaced when their settings changed.
func (d *Daemon) Reload(ctx context.Context) error {
	if !d.running.Load() {
		return errors.New("vipd daemon is not running")
	}
	reply := make(chan error, 1)
	select {
	case d.reloads <- reply:
	case <-d.stopped:
		return errors.New("vipd daemon stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Daemon) reload(ctx context.Context) error {
	c, err := d.load()
	if err == nil {
		d.mu.Lock()
		running := d.cfg
		d.mu.Unlock()
		refuse, warns := reloadHazards(running, c, d.opts.System)
		if len(refuse) > 0 {
			err = fmt.Errorf("%s", strings.Join(refuse, "\n"))
		}
		for _, w := range warns {
			if err == nil {
				d.log.Warn("reload", "at", fmt.Sprintf("%s:%d", w.File, w.Line), "msg", w.Msg)
				d.publish(control.Event{Type: control.EventError, Error: fmt.Sprintf("reload: %s:%d: %s", w.File, w.Line, w.Msg)})
			}
		}
	}
	if err != nil {
		d.log.Error("reload refused: keeping the running configuration", "err", err)
		d.publish(control.Event{Type: control.EventError, Error: "reload refused: " + err.Error()})
		return err
	}
	d.apply(ctx, c)
	d.mu.Lock()
	d.loadedAt = time.Now()
	d.mu.Unlock()
	return nil
}

// apply makes the running instances and guards those of c.
func (d *Daemon) apply(ctx context.Context, c *config.Config) {
	var specs []spec
	for i := range c.Instances {
		s, _ := newSpec(c, &c.Instances[i]) // Check refused errors
		specs = append(specs, s)
	}
	defs := guardDefs(c)

	type restart struct{ old, new *unit }
	var (
		stopUnits, startUnits []*unit
		restarts              []restart
		kept, restarted       []string
		added, removed        []string
		stopGuards            []*guardRun
		startDefs             []guardDef
	)
	d.mu.Lock()
	old := map[string]*unit{}
	for _, u := range d.units {
		old[u.name()] = u
	}
	var units []*unit
	for _, s := range specs {
		o := old[s.Name]
		delete(old, s.Name)
		switch {
		case o != nil && sameEngine(o.currentSpec(), s):
			o.update(s)
			units = append(units, o)
			kept = append(kept, s.Name)
		case o != nil:
			n := newUnit(d, s)
			stopUnits = append(stopUnits, o)
			restarts = append(restarts, restart{o, n})
			startUnits = append(startUnits, n)
			units = append(units, n)
			restarted = append(restarted, s.Name)
		default:
			n := newUnit(d, s)
			startUnits = append(startUnits, n)
			units = append(units, n)
			added = append(added, s.Name)
		}
	}
	for _, u := range d.units {
		if old[u.name()] == u {
			stopUnits = append(stopUnits, u)
			removed = append(removed, u.name())
		}
	}
	guards := map[string]*guardRun{}
	var order []string
	for _, def := range defs {
		order = append(order, def.Name)
		if g := d.guards[def.Name]; g != nil && g.def.same(def) {
			guards[def.Name] = g
			continue
		}
		startDefs = append(startDefs, def)
	}
	for name, g := range d.guards {
		if guards[name] != g {
			stopGuards = append(stopGuards, g)
		}
		if !slices.Contains(order, name) {
			delete(d.verdicts, name)
		}
	}
	for _, u := range stopUnits {
		u.setGroup(nil) // its last transitions move no group
	}
	newSyncGroups(d, c, units)
	d.cfg, d.units, d.guards, d.guardOrder = c, units, guards, order
	d.mu.Unlock()

	// Stop what goes without the lock: guard callbacks take it.
	var wg sync.WaitGroup
	for _, u := range stopUnits {
		wg.Go(u.stop)
	}
	for _, g := range stopGuards {
		wg.Go(g.task.stop)
	}
	wg.Wait()
	d.pollLinks()

	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range restarts {
		r.new.inherit(r.old)
	}
	for _, def := range startDefs {
		d.startGuard(ctx, def)
	}
	d.paceGuards()
	for _, u := range d.units {
		d.applySources(u)
	}
	for _, u := range d.units {
		if g := u.syncGroup(); g != nil {
			g.faultsChanged()
		} else {
			u.clearFault(srcSync, "no longer in a vrrp_sync_group")
		}
	}
	for _, u := range startUnits {
		u.start(d.tasks, d.unitsCtx)
	}
	d.log.Info("configuration applied", "kept", kept, "restarted", restarted, "added", added, "removed", removed,
		"guards_started", len(startDefs), "guards_stopped", len(stopGuards))
}

// startGuard starts the guard of def. d.mu is held.
func (d *Daemon) startGuard(ctx context.Context, def guardDef) {
	if ns, ok := d.opts.System.(NginxSystem); ok && def.Nginx {
		def.NginxC.Process, def.NginxC.Probe, def.NginxC.Runner = ns.NginxGuard(def.Check)
	}
	g := &guardRun{def: def}
	c, err := newChecker(def, d.log, func(v guard.Verdict, reason string) { d.onVerdict(g, v, reason) },
		func(r guard.Result) { d.onResult(g, r) })
	if err != nil {
		// config validated the same guard: this cannot happen.
		d.log.Error("failed to start guard", "guard", def.Name, "err", err)
		delete(d.guards, def.Name)
		return
	}
	g.c = c
	if _, ok := d.verdicts[def.Name]; !ok && def.InitFail {
		d.verdicts[def.Name] = verdictState{v: guard.Failed, reason: def.Name + ": init_fail: no success yet", since: time.Now()}
	}
	d.guards[def.Name] = g
	g.task = goTask(d.tasks, ctx, c.Run)
}

// applySources brings u's track and link fault sources in line with the
// guards' verdicts and the links' states. d.mu is held.
func (d *Daemon) applySources(u *unit) {
	s := u.currentSpec()
	for _, src := range u.sourcesWith("track_script ") {
		if !slices.Contains(s.Tracks, strings.TrimPrefix(src, "track_script ")) {
			u.clearFault(src, "no longer tracked")
		}
	}
	for _, src := range u.sourcesWith("interface ") {
		if !slices.Contains(s.Links, strings.TrimPrefix(src, "interface ")) {
			u.clearFault(src, "no longer tracked")
		}
	}
	for _, t := range s.Tracks {
		if v := d.verdicts[t]; v.v == guard.Failed {
			u.setFault(srcTrack(t), v.reason)
		} else {
			u.clearFault(srcTrack(t), t+" healthy")
		}
	}
	for _, l := range s.Links {
		if st, ok := d.links[l]; ok && !st.up {
			u.setFault(srcLink(l), st.reason(l))
		} else {
			u.clearFault(srcLink(l), "interface "+l+" up")
		}
	}
}

// onVerdict is a guard's verdict callback.
func (d *Daemon) onVerdict(g *guardRun, v guard.Verdict, reason string) {
	name := g.def.Name
	d.mu.Lock()
	if d.guards[name] != g {
		d.mu.Unlock()
		return // replaced by a reload
	}
	d.verdicts[name] = verdictState{v: v, reason: reason, since: time.Now()}
	for _, u := range d.units {
		if !slices.Contains(u.currentSpec().Tracks, name) {
			continue
		}
		switch v {
		case guard.Failed:
			u.setFault(srcTrack(name), reason)
		case guard.Healthy:
			u.clearFault(srcTrack(name), name+" healthy again")
		}
	}
	d.mu.Unlock()
	ev := control.Event{Type: control.EventVerdict, Guard: name, Verdict: controlVerdict(v)}
	if v != guard.Healthy {
		ev.Reason = reason
	}
	d.publish(ev)
}

// onResult is a guard's result callback.
func (d *Daemon) onResult(g *guardRun, r guard.Result) {
	d.mu.Lock()
	current := d.guards[g.def.Name] == g
	d.mu.Unlock()
	if !current {
		return
	}
	if r.Phase == guard.PhaseCheck {
		d.metrics.observe(g.def.Name, r)
	}
	c := controlCheck(r)
	d.publish(control.Event{Time: r.Time.Add(r.Latency), Type: control.EventCheck, Guard: g.def.Name, Check: &c})
}

// notified is the notifier's callback after each script.
func (d *Daemon) notified(instance string, n control.Notify) {
	d.metrics.notified(n)
	d.publish(control.Event{Type: control.EventNotify, Instance: instance, Notify: &n})
}

func (d *Daemon) publish(ev control.Event) { d.hub.Publish(ev) }

// watchLinks reads the tracked interfaces whenever the System says a link
// changed (LinkWatcher) and every LinkSafetyPoll in case a notice was lost;
// without notices, every LinkInterval. Either finds a lost carrier well
// within a Master_Down_Interval; polling costs a netlink dump each time. It
// returns nil when ctx is done.
func (d *Daemon) watchLinks(ctx context.Context) error {
	interval := d.opts.LinkInterval
	changed := make(chan struct{}, 1)
	if w, ok := d.opts.System.(LinkWatcher); ok {
		stop, err := w.WatchLinks(func() {
			select {
			case changed <- struct{}{}:
			default: // one pending look is enough
			}
		})
		if err == nil {
			defer stop()
			interval = LinkSafetyPoll
		} else {
			d.log.Warn("polling links instead", "err", err, "interval", interval)
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-changed:
		}
		d.pollLinks()
	}
}

// pollLinks reads every tracked interface and applies changes.
func (d *Daemon) pollLinks() {
	d.mu.Lock()
	var names []string
	for _, u := range d.units {
		for _, l := range u.currentSpec().Links {
			if !slices.Contains(names, l) {
				names = append(names, l)
			}
		}
	}
	d.mu.Unlock()
	states := make([]linkState, len(names))
	for i, n := range names {
		up, err := d.opts.System.LinkUp(n)
		states[i].up = up && err == nil
		if err != nil {
			states[i].err = err.Error()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, n := range names {
		st := states[i]
		old, known := d.links[n]
		d.links[n] = st
		if known && old.up == st.up || !known && st.up {
			continue
		}
		if st.up {
			d.log.Info("tracked interface up", "interface", n)
		} else {
			d.log.Warn("tracked interface down", "interface", n, "reason", st.reason(n))
		}
		for _, u := range d.units {
			if !slices.Contains(u.currentSpec().Links, n) {
				continue
			}
			if st.up {
				u.clearFault(srcLink(n), "interface "+n+" up")
			} else {
				u.setFault(srcLink(n), st.reason(n))
			}
		}
	}
}

// vipAddrs returns every VIP of the configuration: not candidates for an
// instance's primary address.
func (d *Daemon) vipAddrs() []netip.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	return vipAddrs(d.cfg)
}

func (u *unit) currentSpec() spec {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.spec
}

// update takes the settings a reload changes in place.
func (u *unit) update(s spec) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.spec = s
}

// inherit carries what outlives a restart of the engine by a reload: the
// operator's fault and the counters.
func (u *unit) inherit(o *unit) {
	o.mu.Lock()
	base, trans, last := o.base, o.transitions, o.lastTrans
	var op *fault
	for _, f := range o.faults {
		if f.src == srcOperator {
			op = &f
		}
	}
	o.mu.Unlock()
	u.mu.Lock()
	u.base, u.transitions, u.lastTrans = base, trans, last
	u.mu.Unlock()
	if op != nil {
		u.setFault(op.src, op.reason)
	}
}

// sourcesWith returns the fault sources starting with prefix.
func (u *unit) sourcesWith(prefix string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var srcs []string
	for _, f := range u.faults {
		if strings.HasPrefix(f.src, prefix) {
			srcs = append(srcs, f.src)
		}
	}
	return srcs
}
