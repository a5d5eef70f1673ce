package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DefaultScriptInterval is keepalived's vrrp_script default interval.
const DefaultScriptInterval = time.Second

// ScriptConfig configures a keepalived-style vrrp_script check. Zero values
// take keepalived's defaults.
type ScriptConfig struct {
	Name    string   // the vrrp_script's name; required
	Command []string // program and arguments; exit 0 is success
	User    string   // run as this user when we are root and it exists

	Interval time.Duration // between starts; default DefaultScriptInterval
	Timeout  time.Duration // the program is killed then; at most Interval, default Interval
	Rise     int           // default 1
	Fall     int           // default 1
	Weight   int           // reported in Status as-is
	History  int           // default DefaultHistory

	Runner    Runner                // nil: Exec
	Logger    *slog.Logger          // nil: no logging
	OnResult  func(Result)          // every result, in order, on Run's goroutine
	OnVerdict func(Verdict, string) // every verdict change with its reason, ditto
}

// Script runs a program on a schedule, as keepalived runs a vrrp_script:
// exit 0 is a success, anything else or outliving Timeout a failure (the
// program's whole process group is then killed). Runs never overlap.
type Script struct {
	cfg    ScriptConfig
	runner Runner
	m      *monitor
}

// NewScript checks cfg and returns a checker; call Run to start it.
func NewScript(cfg ScriptConfig) (*Script, error) {
	s := schedule{interval: cfg.Interval, timeout: cfg.Timeout, rise: cfg.Rise, fall: cfg.Fall, history: cfg.History}
	err := s.fill(DefaultScriptInterval, func(i time.Duration) time.Duration { return i })
	cfg.Interval, cfg.Timeout, cfg.Rise, cfg.Fall, cfg.History = s.interval, s.timeout, s.rise, s.fall, s.history
	errs := []error{err}
	if cfg.Name == "" {
		errs = append(errs, errors.New("no name"))
	}
	if len(cfg.Command) == 0 {
		errs = append(errs, errors.New("no command"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid script %q: %w", cfg.Name, err)
	}
	sc := &Script{cfg: cfg, runner: cfg.Runner}
	if sc.runner == nil {
		sc.runner = Exec{}
	}
	sc.m = newMonitor(cfg.Name, cfg.Interval, cfg.Rise, cfg.Fall, cfg.Weight, cfg.History,
		cfg.Logger, cfg.OnResult, cfg.OnVerdict)
	return sc, nil
}

// Run runs the script every Interval until ctx is done, then returns nil.
func (s *Script) Run(ctx context.Context) error { return s.m.run(ctx, s.round, nil) }

// Status returns the current verdict and recent history.
func (s *Script) Status() Status { return s.m.status() }

func (s *Script) round(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	start := time.Now()
	err := s.runner.Run(cctx, Command{Argv: s.cfg.Command, User: s.cfg.User})
	timedOut := cctx.Err() != nil
	cancel()
	if ctx.Err() != nil {
		return
	}
	r := Result{Time: start, OK: err == nil, Latency: time.Since(start), Phase: PhaseCheck}
	switch {
	case err == nil:
	case timedOut:
		r.Err = fmt.Sprintf("timed out after %v, killed", s.cfg.Timeout)
	default:
		r.Err = err.Error()
	}
	s.m.record(r)
	if r.OK {
		s.m.succeeded()
	} else if s.m.failed() {
		s.m.set(Failed, s.cfg.Name+": "+r.Err)
	}
}
