package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults of NginxConfig, the only definition of them: node/config fills
// a vipd_nginx_check block from WithDefaults, and vipd -t prints these.
//
// A check costs no request while nginx is healthy: it looks at the master
// through its pidfd (nothing read while it lives) and at the accept queue of
// the socket the URL reaches (one sock_diag lookup, about 1.3 µs here), and
// GETs only when clients wait there, when nothing listens, or once every
// ProbeEvery. A hung nginx leaves the next client in that queue, so with
// clients it is seen at most Interval*Fall + Timeout + Timeout (confirm)
// after it stops answering (0.25 s); with none, nobody waits for it and the
// slow GET finds it within ProbeEvery. A dead one is seen at once when its
// master's exit wakes the guard (PIDWatch: 0.1-0.2 ms here). The verdict
// follows as soon as the start command fails (nginx killed with a broken
// config: death to Failed in a few ms), or at RestartDeadline when it cannot
// help. That keeps a dead nginx's failover within a few ms of keepalived's
// Skew_Time, like track_process. The 75 ms timeout is seventy times a local
// nginx's answer (about 1 ms here); a GET lost to a moment of CPU starvation
// is confirmed by a second before anything is done.
const (
	DefaultInterval        = 100 * time.Millisecond
	DefaultProbeEvery      = 10 * time.Second      // a GET however quiet the queue
	DefaultRestartDeadline = time.Second           // the seed's `sleep 1`
	DefaultRecheck         = 50 * time.Millisecond // re-check period after a start
	DefaultRetry           = 2 * time.Second       // start again while failed: the seed's interval
	DefaultName            = "nginx"
)

// NoRestart as NginxConfig.RestartDeadline: no restart attempt, a failed
// check is a Failed verdict at once (keepalived.conf: restart_deadline 0).
const NoRestart time.Duration = -1

// DefaultTimeout is the default per-check timeout for an interval: a probe
// that takes most of the interval has failed, and the next one still starts
// on time.
func DefaultTimeout(interval time.Duration) time.Duration { return interval * 3 / 4 }

// DefaultStart is the start command on a real host. The lab, without
// systemd, uses `nginx -c FILE`.
var DefaultStart = []string{"systemctl", "start", "nginx"}

// NginxConfig configures an nginx guard. Zero values take the defaults.
type NginxConfig struct {
	Name string // in Status and logs; default DefaultName

	// URL is GET on every check unless Probe is set; PIDFile names the
	// master's pid file unless Process is set. At least one is needed;
	// only the URL notices a hung nginx.
	URL       string
	PIDFile   string
	MaxStatus int // highest healthy HTTP status; default DefaultMaxStatus

	Interval   time.Duration // between check starts; default DefaultInterval
	ProbeEvery time.Duration // longest between GETs while the accept queue is empty; default DefaultProbeEvery, <0: a GET every check
	Timeout    time.Duration // per check; default DefaultTimeout(Interval)
	Rise       int           // successes in a row to be healthy again; default 1
	Fall       int           // failures in a row to act; default 1
	Weight     int           // reported in Status as-is

	Start           []string      // start command; default DefaultStart
	RestartDeadline time.Duration // for nginx to answer after Start; default DefaultRestartDeadline, NoRestart (<0): none
	Recheck         time.Duration // re-check period meanwhile; <=0: DefaultRecheck
	Retry           time.Duration // between restart attempts while Failed; default DefaultRetry, <0: never
	History         int           // results kept in Status; default DefaultHistory

	// OS effects; nil means the real thing built from the fields above.
	// Backlog is built only with neither Probe nor Backlog set and a URL
	// whose host is an IP address or localhost; without one every check
	// GETs.
	Process ProcessChecker
	Probe   Prober
	Backlog Backlog
	Runner  Runner

	Logger    *slog.Logger          // nil: no logging
	OnResult  func(Result)          // every result, in order, on Run's goroutine
	OnVerdict func(Verdict, string) // every verdict change with its reason, ditto
}

// WithDefaults returns c with every zero setting given its default, as
// NewNginx runs it. It is idempotent.
func (c NginxConfig) WithDefaults() NginxConfig {
	if c.Name == "" {
		c.Name = DefaultName
	}
	s := c.schedule()
	s.fill(DefaultInterval, DefaultTimeout)
	c.Interval, c.Timeout, c.Rise, c.Fall, c.History = s.interval, s.timeout, s.rise, s.fall, s.history
	if c.MaxStatus == 0 {
		c.MaxStatus = DefaultMaxStatus
	}
	if c.Start == nil {
		c.Start = DefaultStart
	}
	if c.RestartDeadline == 0 {
		c.RestartDeadline = DefaultRestartDeadline
	}
	if c.Recheck <= 0 {
		c.Recheck = DefaultRecheck
	}
	if c.Retry == 0 {
		c.Retry = DefaultRetry
	}
	if c.ProbeEvery == 0 {
		c.ProbeEvery = DefaultProbeEvery
	}
	return c
}

func (c NginxConfig) schedule() schedule {
	return schedule{interval: c.Interval, timeout: c.Timeout, rise: c.Rise, fall: c.Fall, history: c.History}
}

// Validate returns every reason NewNginx would refuse c (with its defaults
// applied), joined; nil when it would accept it. node/config calls it on
// each vipd_nginx_check block, so that vipd -t refuses what vipd would.
func (c NginxConfig) Validate() error {
	c = c.WithDefaults()
	errs := c.schedule().problems()
	if len(c.Start) == 0 && c.RestartDeadline > 0 {
		errs = append(errs, errors.New("empty start command"))
	}
	if c.Probe == nil && c.URL != "" {
		if err := CheckURL(c.URL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Probe == nil && c.URL == "" && c.Process == nil && c.PIDFile == "" {
		errs = append(errs, errors.New("nothing to check: need a url or a pid file"))
	}
	return errors.Join(errs...)
}

// CheckURL says whether the guard can probe u: an http or https URL with a
// host.
func CheckURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("url %q is not an http:// or https:// URL with a host", u)
	}
	return nil
}

// Nginx guards an nginx server: a check is healthy when the master process
// is alive and the URL answers in time. On failure it runs the start
// command once and re-checks until the restart deadline; only if nginx still
// fails does the verdict become Failed. Callbacks run on Run's goroutine and
// must not block: checks wait for them.
type Nginx struct {
	cfg     NginxConfig
	proc    ProcessChecker // nil: no process check
	probe   Prober         // nil: no HTTP check
	backlog Backlog        // nil: a GET on every check
	runner  Runner
	m       *monitor

	lastRestart time.Time // Run's goroutine only
	lastGET     time.Time // Run's goroutine only

	quiet  atomic.Bool     // no clients expected (Serving(false))
	serves chan struct{}   // Serving(true) after false; capacity 1
	exited <-chan struct{} // the ExitWatcher's, or nil; Run's goroutine only
}

// NewNginx checks cfg (Validate) and returns a guard; call Run to start it.
func NewNginx(cfg NginxConfig) (*Nginx, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid nginx guard %s: %w", cfg.Name, err)
	}
	g := &Nginx{cfg: cfg, proc: cfg.Process, probe: cfg.Probe, backlog: cfg.Backlog, runner: cfg.Runner,
		serves: make(chan struct{}, 1)}
	if g.probe == nil && cfg.URL != "" {
		g.probe = NewHTTPProbe(cfg.URL, cfg.MaxStatus, nil)
		if a, ok := listenAddr(cfg.URL); ok && g.backlog == nil {
			g.backlog = NewListenQueue(a)
		}
	}
	if cfg.ProbeEvery < 0 {
		g.backlog = nil
	}
	if g.proc == nil && cfg.PIDFile != "" {
		g.proc = NewPIDWatch(PIDFile{Path: cfg.PIDFile})
	}
	if g.runner == nil {
		g.runner = Exec{}
	}
	g.m = newMonitor(cfg.Name, cfg.Interval, cfg.Rise, cfg.Fall, cfg.Weight, cfg.History,
		cfg.Logger, cfg.OnResult, cfg.OnVerdict)
	return g, nil
}

// Run checks nginx every Interval, and at once when the process checker is
// an ExitWatcher that sees the master exit, until ctx is done; then it
// returns nil. A check cut short by ctx is not reported.
func (g *Nginx) Run(ctx context.Context) error {
	if w, ok := g.proc.(ExitWatcher); ok {
		defer w.Close()
		g.exited = w.Exited()
	}
	if c, ok := g.backlog.(io.Closer); ok {
		defer c.Close()
	}
	return g.m.run(ctx, g.round, g.every, g.exited, g.serves)
}

// Serving tells the guard whether clients are expected here: whether the
// node holds the addresses nginx serves them on. While they are not, the
// guard is steadily healthy, a pidfd watches the master and the accept
// queue can be read, a check runs every ProbeEvery instead of every
// Interval: nobody waits in a backup's accept queue to show a hang, and a
// death still wakes the guard at once. Serving(true) checks at once. A
// guard starts serving; Serving is safe from any goroutine.
func (g *Nginx) Serving(on bool) {
	if g.quiet.Swap(!on) && on {
		select {
		case g.serves <- struct{}{}:
		default:
		}
	}
}

// every is the interval before the next scheduled check.
func (g *Nginx) every() time.Duration {
	if g.quiet.Load() && g.exited != nil && g.backlog != nil && g.m.steady() {
		return max(g.cfg.Interval, g.cfg.ProbeEvery)
	}
	return g.cfg.Interval
}

// Status returns the current verdict and recent history.
func (g *Nginx) Status() Status { return g.m.status() }

// round is one scheduled check and, if it is time to act, a restart attempt.
func (g *Nginx) round(ctx context.Context) {
	r, alive, err := g.check(ctx, PhaseCheck)
	if ctx.Err() != nil {
		return
	}
	g.m.record(r)
	if r.OK {
		g.m.succeeded()
		return
	}
	act := g.m.failed()
	retry := !act && g.m.verdict() == Failed && g.cfg.Retry >= 0 && time.Since(g.lastRestart) >= g.cfg.Retry
	if !act && !retry {
		return
	}
	if act && alive && g.proc != nil && errors.Is(err, errNoAnswer) {
		// A live master that did not answer in time is hung, or the host
		// (this guard included) was starved of CPU for a moment: one more
		// GET at once tells them apart, so load is not turned into a
		// failover (Hang counts it).
		c, _, cerr := g.check(ctx, PhaseConfirm)
		if ctx.Err() != nil {
			return
		}
		g.m.record(c)
		if c.OK {
			g.m.succeeded()
			return
		}
		r, err = c, cerr
	}
	reason := g.cfg.Name + ": " + r.Err
	// A live master that refuses connections has closed its listeners:
	// it is stopping (systemctl stop nginx sends SIGQUIT; the master
	// lingers while its workers finish). A connection waiting in the
	// accept queue as they close is reset: the same news. A master that
	// died between the process check and the GET reads so too. A new one
	// is started once it is gone, within the same restart deadline.
	stopping := alive && g.proc != nil && (errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET))
	switch {
	case alive && g.proc != nil && !stopping:
		// The master runs and accepts but does not answer well (hung, or
		// SIGSTOPped): a start command finds it running and cannot help,
		// so waiting out the restart deadline would only add to the outage.
		reason += "; not restarted: the master process is alive"
	case g.cfg.RestartDeadline > 0:
		ok, why := g.restart(ctx, stopping)
		if ctx.Err() != nil {
			return
		}
		if ok {
			g.m.succeeded()
			return
		}
		reason += "; restart: " + why
	}
	g.m.set(Failed, reason)
}

// check runs the process check, then (if alive) the HTTP probe, within
// Timeout; a scheduled check GETs only when ask says so. alive reports
// whether the process check passed; err is the failure r.Err describes.
//
// The deadline's timer is armed only around the GET: the process check and
// the accept queue are local reads that do not wait, and a check made of
// them alone would pay more for arming a timer (a wake-up of the runtime's
// poller) than for itself.
func (g *Nginx) check(ctx context.Context, phase Phase) (r Result, alive bool, err error) {
	start := time.Now()
	if g.proc != nil {
		err = g.proc.Check(ctx)
	}
	alive = err == nil
	if err == nil && g.probe != nil && (phase != PhaseCheck || g.ask(ctx, start)) {
		g.lastGET = start
		pctx, cancel := context.WithDeadline(ctx, start.Add(g.cfg.Timeout))
		err = g.probe.Probe(pctx)
		cancel()
	}
	r = Result{Time: start, OK: err == nil, Latency: time.Since(start), Phase: phase}
	if err != nil {
		r.Err = err.Error()
	}
	return r, alive, err
}

// ask says whether a scheduled check should GET: when there is no Backlog,
// when clients wait in the accept queue (a hung nginx, or a busy one), when
// the queue cannot be read or nothing listens (a stopping nginx: the GET
// tells refused from hung), and once every ProbeEvery (an nginx that
// accepts but answers 5xx, or hangs with no client to show it). Only a
// GET may end a failure: until the guard is healthy with no failure
// counted, every check GETs.
func (g *Nginx) ask(ctx context.Context, now time.Time) bool {
	if g.backlog == nil || now.Sub(g.lastGET) >= g.cfg.ProbeEvery || !g.m.steady() {
		return true
	}
	n, err := g.backlog.Queued(ctx)
	return err != nil || n > 0
}

// listenAddr is the address a URL's GET connects to, when it is an IP
// address (or localhost) whose listener sock_diag can find.
func listenAddr(rawURL string) (netip.AddrPort, bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return netip.AddrPort{}, false
	}
	host := u.Hostname()
	if host == "localhost" {
		host = "127.0.0.1"
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}, false
	}
	port := map[string]uint16{"http": 80, "https": 443}[u.Scheme]
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return netip.AddrPort{}, false
		}
		port = uint16(n)
	}
	return netip.AddrPortFrom(a.Unmap(), port), true
}

// restart runs the start command and re-checks every Recheck until nginx
// passes or RestartDeadline is reached. With stopping, it first waits,
// within the same deadline, for the live master to exit. A start command that fails while
// nginx still fails ends the attempt at once, as does the started master
// exiting again once the command has returned: waiting would only delay the
// FAULT. Nothing is left running when it returns. A result of false with
// parent done means nothing: the caller discards it.
func (g *Nginx) restart(parent context.Context, stopping bool) (ok bool, why string) {
	g.m.restarted()
	g.lastRestart = time.Now()
	ctx, cancel := context.WithTimeout(parent, g.cfg.RestartDeadline)
	defer cancel()
	if stopping {
		ok, gone := g.awaitExit(ctx)
		if ok {
			return true, ""
		}
		if !gone {
			if parent.Err() != nil {
				return false, ""
			}
			return false, fmt.Sprintf("the master process closed its listeners and was still alive after %v", g.cfg.RestartDeadline)
		}
	}
	g.m.log.Info("starting nginx", "command", strings.Join(g.cfg.Start, " "))

	begin := time.Now()
	done := make(chan error, 1)
	go func() { done <- g.runner.Run(ctx, Command{Argv: g.cfg.Start}) }()
	ended, killed := false, false
	var startErr error
	// reap takes the start command's result once it has returned.
	reap := func(err error) {
		ended, killed, startErr = true, ctx.Err() != nil, err
		if parent.Err() != nil {
			return
		}
		r := Result{Time: begin, OK: err == nil, Latency: time.Since(begin), Phase: PhaseStart}
		if err != nil {
			r.Err = err.Error()
		}
		g.m.record(r)
	}
	defer func() {
		if !ended {
			cancel()
			reap(<-done)
		}
	}()

	tick := time.NewTicker(g.cfg.Recheck)
	defer tick.Stop()
	last := ""                    // the last re-check's error
	started, died := false, false // a re-check saw the new master alive; a later one saw it gone
	recheck := func() bool {
		r, alive, _ := g.check(ctx, PhaseRestart)
		if ctx.Err() != nil {
			return false // cut short by the deadline: not a result
		}
		g.m.record(r)
		last = r.Err
		died = started && !alive && g.proc != nil
		started = started || alive
		return r.OK
	}
	for ctx.Err() == nil {
		select {
		case err := <-done:
			reap(err)
			if recheck() {
				return true, ""
			}
			if err != nil && ctx.Err() == nil {
				return false, err.Error()
			}
		case <-tick.C:
			if recheck() {
				if !ended {
					reap(<-done) // let it finish; the deadline bounds it
				}
				return true, ""
			}
		case <-ctx.Done():
		}
		if died && ended {
			// The master it started has exited again and nothing will
			// start another before the deadline: waiting it out would only
			// add to the outage. (Before the master is first seen, a
			// missing pid file is a start still under way.)
			return false, "the started master exited again: " + last
		}
	}
	if parent.Err() != nil {
		return false, ""
	}
	if !ended {
		reap(<-done)
	}
	switch {
	case killed:
		why = fmt.Sprintf("start command still running after %v, killed", g.cfg.RestartDeadline)
	case startErr != nil:
		why = startErr.Error()
	default:
		why = fmt.Sprintf("no answer %v after start", g.cfg.RestartDeadline)
	}
	if last != "" {
		why += ": " + last
	}
	return false, why
}

// awaitExit waits, until ctx is done, for a stopping master to exit (woken
// by the ExitWatcher, else by a re-check every Recheck). ok: nginx answers
// again meanwhile (a reload, not a stop); gone: the master has exited.
func (g *Nginx) awaitExit(ctx context.Context) (ok, gone bool) {
	g.m.log.Info("waiting for the stopping nginx master to exit")
	tick := time.NewTicker(g.cfg.Recheck)
	defer tick.Stop()
	for {
		select {
		case <-g.exited:
		case <-tick.C:
		case <-ctx.Done():
			return false, false
		}
		r, alive, _ := g.check(ctx, PhaseRestart)
		if ctx.Err() != nil {
			return false, false
		}
		g.m.record(r)
		if r.OK {
			return true, false
		}
		if !alive {
			return false, true
		}
	}
}
