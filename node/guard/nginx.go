package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Defaults of NginxConfig. A hung nginx is seen at most Interval*Fall +
// Timeout after it stops answering (350 ms: the GET times out). A dead one
// is seen at once when its master's exit wakes the guard (PIDWatch: 0.1-0.2
// ms here), else by the next check. The verdict follows as soon as the start
// command fails (nginx killed with a broken config: death to Failed in a few
// ms), or at RestartDeadline when it cannot help. That keeps a dead nginx's
// failover within a few ms of keepalived's Skew_Time (0.61 s at priority
// 100), like track_process. Five checks a second cost a pid file and /proc
// read and a local GET each, for the hung case only a GET can see. The 150
// ms timeout is a hundred times a local nginx's answer (about 1 ms here), so
// a loaded host does not trip it; a false alarm costs only a restart
// attempt, whose re-checks absorb it.
const (
	DefaultInterval        = 200 * time.Millisecond
	DefaultRestartDeadline = time.Second           // the seed's `sleep 1`
	DefaultRecheck         = 50 * time.Millisecond // re-check period after a start
	DefaultRetry           = 2 * time.Second       // start again while failed: the seed's interval
)

// DefaultStart is the start command on a real host. The lab, without
// systemd, uses `nginx -c FILE`.
var DefaultStart = []string{"systemctl", "start", "nginx"}

// NginxConfig configures an nginx guard. Zero values take the defaults.
type NginxConfig struct {
	Name string // in Status and logs; default "nginx"

	// URL is GET on every check unless Probe is set; PIDFile names the
	// master's pid file unless Process is set. At least one is needed;
	// only the URL notices a hung nginx.
	URL       string
	PIDFile   string
	MaxStatus int // highest healthy HTTP status; default DefaultMaxStatus

	Interval time.Duration // between check starts; default DefaultInterval
	Timeout  time.Duration // per check, at most Interval; default 3/4 Interval
	Rise     int           // successes in a row to be healthy again; default 1
	Fall     int           // failures in a row to act; default 1
	Weight   int           // reported in Status as-is

	Start           []string      // start command; default DefaultStart
	RestartDeadline time.Duration // for nginx to answer after Start; default 1 s, <0: no restart
	Recheck         time.Duration // re-check period meanwhile; default DefaultRecheck
	Retry           time.Duration // between restart attempts while Failed; default DefaultRetry, <0: never
	History         int           // results kept in Status; default DefaultHistory

	// OS effects; nil means the real thing built from the fields above.
	Process ProcessChecker
	Probe   Prober
	Runner  Runner

	Logger    *slog.Logger          // nil: no logging
	OnResult  func(Result)          // every result, in order, on Run's goroutine
	OnVerdict func(Verdict, string) // every verdict change with its reason, ditto
}

// Nginx guards an nginx server: a check is healthy when the master process
// is alive and the URL answers in time. On failure it runs the start
// command once and re-checks until the restart deadline; only if nginx still
// fails does the verdict become Failed. Callbacks run on Run's goroutine and
// must not block: checks wait for them.
type Nginx struct {
	cfg    NginxConfig
	proc   ProcessChecker // nil: no process check
	probe  Prober         // nil: no HTTP check
	runner Runner
	m      *monitor

	lastRestart time.Time // Run's goroutine only
}

// NewNginx checks cfg and returns a guard; call Run to start it.
func NewNginx(cfg NginxConfig) (*Nginx, error) {
	if cfg.Name == "" {
		cfg.Name = "nginx"
	}
	s := schedule{interval: cfg.Interval, timeout: cfg.Timeout, rise: cfg.Rise, fall: cfg.Fall, history: cfg.History}
	err := s.fill(DefaultInterval, func(i time.Duration) time.Duration { return i * 3 / 4 })
	cfg.Interval, cfg.Timeout, cfg.Rise, cfg.Fall, cfg.History = s.interval, s.timeout, s.rise, s.fall, s.history
	errs := []error{err}
	if cfg.Start == nil {
		cfg.Start = DefaultStart
	}
	if len(cfg.Start) == 0 && cfg.RestartDeadline >= 0 {
		errs = append(errs, errors.New("empty start command"))
	}
	if cfg.RestartDeadline == 0 {
		cfg.RestartDeadline = DefaultRestartDeadline
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = DefaultRecheck
	}
	if cfg.Retry == 0 {
		cfg.Retry = DefaultRetry
	}
	g := &Nginx{cfg: cfg, proc: cfg.Process, probe: cfg.Probe, runner: cfg.Runner}
	if g.probe == nil && cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("url %q is not an http(s) URL", cfg.URL))
		}
		g.probe = NewHTTPProbe(cfg.URL, cfg.MaxStatus, nil)
	}
	if g.proc == nil && cfg.PIDFile != "" {
		g.proc = NewPIDWatch(PIDFile{Path: cfg.PIDFile})
	}
	if g.probe == nil && g.proc == nil {
		errs = append(errs, errors.New("nothing to check: need a url or a pid file"))
	}
	if g.runner == nil {
		g.runner = Exec{}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid nginx guard %s: %w", cfg.Name, err)
	}
	g.m = newMonitor(cfg.Name, cfg.Interval, cfg.Rise, cfg.Fall, cfg.Weight, cfg.History,
		cfg.Logger, cfg.OnResult, cfg.OnVerdict)
	return g, nil
}

// Run checks nginx every Interval, and at once when the process checker is
// an ExitWatcher that sees the master exit, until ctx is done; then it
// returns nil. A check cut short by ctx is not reported.
func (g *Nginx) Run(ctx context.Context) error {
	var exited <-chan struct{}
	if w, ok := g.proc.(ExitWatcher); ok {
		defer w.Close()
		exited = w.Exited()
	}
	return g.m.run(ctx, g.round, exited)
}

// Status returns the current verdict and recent history.
func (g *Nginx) Status() Status { return g.m.status() }

// round is one scheduled check and, if it is time to act, a restart attempt.
func (g *Nginx) round(ctx context.Context) {
	r, alive := g.check(ctx, PhaseCheck)
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
	reason := g.cfg.Name + ": " + r.Err
	switch {
	case alive && g.proc != nil:
		// The master runs but does not answer (hung, or stopped): a start
		// command finds it running and cannot help, so waiting out the
		// restart deadline would only add to the outage.
		reason += "; not restarted: the master process is alive"
	case g.cfg.RestartDeadline > 0:
		ok, why := g.restart(ctx)
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
// Timeout. alive reports whether the process check passed.
func (g *Nginx) check(ctx context.Context, phase Phase) (r Result, alive bool) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	start := time.Now()
	var err error
	if g.proc != nil {
		err = g.proc.Check(ctx)
	}
	alive = err == nil
	if err == nil && g.probe != nil {
		err = g.probe.Probe(ctx)
	}
	r = Result{Time: start, OK: err == nil, Latency: time.Since(start), Phase: phase}
	if err != nil {
		r.Err = err.Error()
	}
	return r, alive
}

// restart runs the start command and re-checks every Recheck until nginx
// passes or RestartDeadline is reached. A start command that fails while
// nginx still fails ends the attempt at once: waiting would only delay the
// FAULT. Nothing is left running when it returns. A result of false with
// parent done means nothing: the caller discards it.
func (g *Nginx) restart(parent context.Context) (ok bool, why string) {
	g.m.restarted()
	g.lastRestart = time.Now()
	g.m.log.Info("starting nginx", "command", strings.Join(g.cfg.Start, " "))
	ctx, cancel := context.WithTimeout(parent, g.cfg.RestartDeadline)
	defer cancel()

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
	last := "" // the last re-check's error
	recheck := func() bool {
		r, _ := g.check(ctx, PhaseRestart)
		if ctx.Err() != nil {
			return false // cut short by the deadline: not a result
		}
		g.m.record(r)
		last = r.Err
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
