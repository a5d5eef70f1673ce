package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DefaultScriptInterval is keepalived's vrrp_script default interval, the
// only definition of it: node/config fills a vrrp_script block from
// ScriptConfig.WithDefaults.
const DefaultScriptInterval = time.Second

// DefaultScriptTimeout is keepalived's vrrp_script default timeout: the
// interval.
func DefaultScriptTimeout(interval time.Duration) time.Duration { return interval }

// ScriptConfig configures a keepalived-style vrrp_script check. Zero values
// take keepalived's defaults.
type ScriptConfig struct {
	Name    string   // the vrrp_script's name; required
	Command []string // program and arguments; exit 0 is success
	User    string   // run as this user when we are root and it exists

	Interval time.Duration // between starts; default DefaultScriptInterval
	Timeout  time.Duration // the program is killed then; default DefaultScriptTimeout(Interval)
	Rise     int           // default 1
	Fall     int           // default 1
	Weight   int           // reported in Status as-is
	History  int           // default DefaultHistory

	Runner    Runner                // nil: Exec
	Logger    *slog.Logger          // nil: no logging
	OnResult  func(Result)          // every result, in order, on Run's goroutine
	OnVerdict func(Verdict, string) // every verdict change with its reason, ditto
}

// WithDefaults returns c with every zero setting given its default, as
// NewScript runs it. It is idempotent.
func (c ScriptConfig) WithDefaults() ScriptConfig {
	s := c.schedule()
	s.fill(DefaultScriptInterval, DefaultScriptTimeout)
	c.Interval, c.Timeout, c.Rise, c.Fall, c.History = s.interval, s.timeout, s.rise, s.fall, s.history
	return c
}

func (c ScriptConfig) schedule() schedule {
	return schedule{interval: c.Interval, timeout: c.Timeout, rise: c.Rise, fall: c.Fall, history: c.History}
}

// Validate returns every reason NewScript would refuse c (with its defaults
// applied), joined; nil when it would accept it.
func (c ScriptConfig) Validate() error {
	c = c.WithDefaults()
	errs := c.schedule().problems()
	if c.Name == "" {
		errs = append(errs, errors.New("no name"))
	}
	if len(c.Command) == 0 {
		errs = append(errs, errors.New("no command"))
	}
	return errors.Join(errs...)
}

// Script runs a program on a schedule, as keepalived runs a vrrp_script:
// exit 0 is a success, anything else or outliving Timeout a failure (the
// program's whole process group is then killed). Runs never overlap.
type Script struct {
	cfg    ScriptConfig
	runner Runner
	m      *monitor
}

// NewScript checks cfg (Validate) and returns a checker; call Run to start
// it.
func NewScript(cfg ScriptConfig) (*Script, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
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
