package guard

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Verdict is a guard's judgement of what it watches.
type Verdict int

// Verdicts. A guard starts Unknown and its first result decides, as
// keepalived's vrrp_script does; after that rise and fall apply.
const (
	Unknown Verdict = iota
	Healthy
	Failed
)

func (v Verdict) String() string {
	switch v {
	case Unknown:
		return "unknown"
	case Healthy:
		return "healthy"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Phase says what produced a Result.
type Phase string

// Phases.
const (
	PhaseCheck   Phase = "check"   // a scheduled check
	PhaseStart   Phase = "start"   // the start command of a restart attempt
	PhaseRestart Phase = "restart" // a re-check during a restart attempt
	PhaseConfirm Phase = "confirm" // the re-check of a timed-out GET
)

// Result is the outcome of one check (or of the start command).
type Result struct {
	Time    time.Time     // when it started
	OK      bool          //
	Latency time.Duration // how long it took
	Err     string        // why it failed; "" when OK
	Phase   Phase
}

// DefaultHistory is how many results Status keeps.
const DefaultHistory = 20

// Status is a snapshot of a guard.
type Status struct {
	Name        string
	Verdict     Verdict
	Since       time.Time // when Verdict was reached; zero while Unknown
	Reason      string    // why Failed; "" otherwise
	LastErr     string    // the last failed result's Err, kept after recovery
	LastErrTime time.Time
	LastLatency time.Duration // of the last result of any phase
	Successes   int           // consecutive scheduled successes
	Failures    int           // consecutive scheduled failures
	Checks      uint64        // scheduled checks run
	Restarts    uint64        // restart attempts (nginx only)
	Weight      int           // as configured; the daemon decides its meaning
	History     []Result      // the last results of every phase, oldest first
}

// monitor is what the nginx guard and the script checker share: the
// schedule, rise/fall hysteresis, history and reporting. Everything but
// Status runs on Run's goroutine.
type monitor struct {
	name      string
	interval  time.Duration
	rise      int
	fall      int
	log       *slog.Logger
	onResult  func(Result)
	onVerdict func(Verdict, string)

	running atomic.Bool

	mu   sync.Mutex
	st   Status   // History unused: ring holds it
	ring []Result // len = capacity
	n    int      // results recorded so far
}

func newMonitor(name string, interval time.Duration, rise, fall, weight, history int,
	log *slog.Logger, onResult func(Result), onVerdict func(Verdict, string)) *monitor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &monitor{
		name:      name,
		interval:  interval,
		rise:      rise,
		fall:      fall,
		log:       log.With("guard", name),
		onResult:  onResult,
		onVerdict: onVerdict,
		st:        Status{Name: name, Weight: weight},
		ring:      make([]Result, history),
	}
}

// run calls round on a fixed schedule until ctx is done: a round starts
// interval after the previous one started, or as soon as it ended if it
// took longer. Rounds run one at a time on this goroutine, so checks never
// overlap whatever they take (the seed's check_nginx.sh could). A receive
// on wake (nil: never) starts a round at once. every, if not nil, returns
// the interval before the next round in place of the fixed one.
func (m *monitor) run(ctx context.Context, round func(context.Context), every func() time.Duration, wake ...<-chan struct{}) error {
	if !m.running.CompareAndSwap(false, true) {
		return fmt.Errorf("guard %s is already running", m.name)
	}
	defer m.running.Store(false)
	var w1, w2 <-chan struct{}
	if len(wake) > 0 {
		w1 = wake[0]
	}
	if len(wake) > 1 {
		w2 = wake[1]
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w1:
			t.Stop() // Go 1.23 timers: no stale tick to drain
		case <-w2:
			t.Stop()
		}
		start := time.Now()
		round(ctx)
		interval := m.interval
		if every != nil {
			interval = every()
		}
		t.Reset(max(0, time.Until(start.Add(interval))))
	}
}

// record adds r to the history and reports it.
func (m *monitor) record(r Result) {
	m.mu.Lock()
	m.ring[m.n%len(m.ring)] = r
	m.n++
	m.st.LastLatency = r.Latency
	if !r.OK {
		m.st.LastErr, m.st.LastErrTime = r.Err, r.Time
	}
	if r.Phase == PhaseCheck {
		m.st.Checks++
	}
	m.mu.Unlock()
	m.log.Debug("check", "phase", r.Phase, "ok", r.OK, "latency", r.Latency, "err", r.Err)
	if m.onResult != nil {
		m.onResult(r)
	}
}

// succeeded counts a success; rise of them in a row make a failed guard
// healthy, and the first result decides an unknown one.
func (m *monitor) succeeded() {
	m.mu.Lock()
	m.st.Failures = 0
	m.st.Successes++
	become := m.st.Verdict == Unknown || m.st.Verdict == Failed && m.st.Successes >= m.rise
	m.mu.Unlock()
	if become {
		m.set(Healthy, "")
	}
}

// failed counts a failure and reports whether it is time to act: fall of
// them in a row on a healthy guard, or the first result of an unknown one.
func (m *monitor) failed() (act bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.Successes = 0
	m.st.Failures++
	return m.st.Verdict == Unknown || m.st.Verdict == Healthy && m.st.Failures >= m.fall
}

// steady reports whether the guard is healthy and its last scheduled
// check passed.
func (m *monitor) steady() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.Verdict == Healthy && m.st.Failures == 0
}

func (m *monitor) verdict() Verdict {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.Verdict
}

func (m *monitor) restarted() {
	m.mu.Lock()
	m.st.Restarts++
	m.mu.Unlock()
}

// set changes the verdict and reports the change.
func (m *monitor) set(v Verdict, reason string) {
	m.mu.Lock()
	if m.st.Verdict == v {
		m.mu.Unlock()
		return
	}
	m.st.Verdict, m.st.Reason, m.st.Since = v, reason, time.Now()
	m.mu.Unlock()
	if v == Failed {
		m.log.Warn("failed", "reason", reason)
	} else {
		m.log.Info("healthy")
	}
	if m.onVerdict != nil {
		m.onVerdict(v, reason)
	}
}

func (m *monitor) status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	k := min(m.n, len(m.ring))
	st.History = make([]Result, 0, k)
	for i := m.n - k; i < m.n; i++ {
		st.History = append(st.History, m.ring[i%len(m.ring)])
	}
	return st
}

// schedule holds the settings both kinds of guard share, defaulted and
// checked in one place.
type schedule struct {
	interval, timeout time.Duration
	rise, fall        int
	history           int
}

// fill gives each zero setting its default.
func (s *schedule) fill(defInterval time.Duration, defTimeout func(interval time.Duration) time.Duration) {
	if s.interval == 0 {
		s.interval = defInterval
	}
	if s.timeout == 0 {
		s.timeout = defTimeout(s.interval)
	}
	if s.rise == 0 {
		s.rise = 1
	}
	if s.fall == 0 {
		s.fall = 1
	}
	if s.history == 0 {
		s.history = DefaultHistory
	}
}

// problems returns every filled setting a guard cannot run with. A timeout
// longer than the interval is allowed, as keepalived allows it: checks never
// overlap, so the next one starts when the slow one ends.
func (s schedule) problems() []error {
	var errs []error
	if s.interval <= 0 {
		errs = append(errs, fmt.Errorf("interval %v is not positive", s.interval))
	}
	if s.timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout %v is not positive", s.timeout))
	}
	if s.rise <= 0 || s.fall <= 0 {
		errs = append(errs, fmt.Errorf("rise %d and fall %d must be positive", s.rise, s.fall))
	}
	if s.history <= 0 {
		errs = append(errs, fmt.Errorf("history %d is not positive", s.history))
	}
	return errs
}
