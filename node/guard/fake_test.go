package guard

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeNginx is nginx as a guard sees it: a master process, an HTTP answer
// and a start command. It implements ProcessChecker, Prober and Runner.
type fakeNginx struct {
	mu       sync.Mutex
	alive    bool          // master process alive
	answers  bool          // GET answers (when alive and not hung)
	reset    bool          // a GET that gets no answer is reset, not refused
	hung     bool          // alive, accepts, never answers (SIGSTOP)
	slow     time.Duration // every probe takes this long, ignoring its deadline
	startFor time.Duration // the start command runs this long
	startErr error         // and then exits with this; nil brings nginx up
	startNop bool          // unless this is set
	starts   []time.Time   // when each start command began
	inflight int           // probes running now
	overlap  bool          // two probes ever ran at once
	gets     int           // probes run
	clients  int           // clients waiting in the accept queue while hung
}

// Queued implements Backlog: closed listeners are no listener, and a hung
// nginx leaves its clients queued.
func (f *fakeNginx) Queued(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !f.alive || !f.answers:
		return 0, ErrNoListener
	case f.hung:
		return f.clients, nil
	}
	return 0, nil
}

func (f *fakeNginx) getCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets
}

func newFake() *fakeNginx { return &fakeNginx{alive: true, answers: true} }

func (f *fakeNginx) set(fn func(f *fakeNginx)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeNginx) Check(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.alive {
		return errors.New("master process 42 is gone")
	}
	return nil
}

func (f *fakeNginx) Probe(ctx context.Context) error {
	f.mu.Lock()
	f.inflight++
	f.gets++
	if f.inflight > 1 {
		f.overlap = true
	}
	hung, slow, up, reset := f.hung, f.slow, f.alive && f.answers, f.reset
	f.mu.Unlock()
	defer f.set(func(f *fakeNginx) { f.inflight-- })

	start := time.Now()
	if slow > 0 {
		time.Sleep(slow) // a probe that ignores its deadline
	}
	if hung {
		<-ctx.Done()
		return fmt.Errorf("GET http://fake/: %w after %v", errNoAnswer, time.Since(start))
	}
	if !up && reset {
		return fmt.Errorf("GET http://fake/: read: %w", syscall.ECONNRESET)
	}
	if !up {
		return fmt.Errorf("GET http://fake/: connect: %w", syscall.ECONNREFUSED)
	}
	return nil
}

func (f *fakeNginx) Run(ctx context.Context, c Command) error {
	f.mu.Lock()
	f.starts = append(f.starts, time.Now())
	d, err := f.startFor, f.startErr
	f.mu.Unlock()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return fmt.Errorf("killed: %w", ctx.Err())
	}
	if err == nil {
		f.set(func(f *fakeNginx) {
			if !f.startNop {
				f.alive, f.answers, f.hung = true, true, false
			}
		})
	}
	return err
}

func (f *fakeNginx) startTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.starts...)
}

// change is a verdict change as the callback saw it, with its time since the
// guard started.
type change struct {
	At      time.Duration
	Verdict Verdict
	Reason  string
}

// recorder collects a guard's callbacks.
type recorder struct {
	t0       time.Time
	mu       sync.Mutex
	changes  []change
	results  []Result
	callback chan struct{} // receives on every verdict change
}

func newRecorder() *recorder {
	return &recorder{t0: time.Now(), callback: make(chan struct{}, 100)}
}

func (r *recorder) onResult(res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
}

func (r *recorder) onVerdict(v Verdict, reason string) {
	r.mu.Lock()
	r.changes = append(r.changes, change{time.Since(r.t0), v, reason})
	r.mu.Unlock()
	r.callback <- struct{}{}
}

func (r *recorder) verdicts() []change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]change(nil), r.changes...)
}

func (r *recorder) phases() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, res := range r.results {
		mark := "+"
		if !res.OK {
			mark = "-"
		}
		s = append(s, string(res.Phase)+mark)
	}
	return s
}

// since returns the results from time at on.
func (r *recorder) since(at time.Duration) []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []Result
	for _, res := range r.results {
		if res.Time.Sub(r.t0) >= at {
			s = append(s, res)
		}
	}
	return s
}

// runGuard starts g's Run in the bubble and stops it at the end of the test,
// checking that it returns nil.
func runGuard(t *testing.T, run func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	})
}

// policyInterval is the schedule the policy tests are written against
// (timeout 3/4 of it, 150 ms), whatever the default.
const policyInterval = 200 * time.Millisecond

// newNginx builds a guard on f whose callbacks go to a new recorder.

func newNginx(t *testing.T, cfg NginxConfig, f *fakeNginx) (*Nginx, *recorder) {
	t.Helper()
	rec := newRecorder()
	if cfg.Interval == 0 {
		cfg.Interval = policyInterval
	}
	cfg.Process, cfg.Probe, cfg.Runner = f, f, f
	cfg.OnResult, cfg.OnVerdict = rec.onResult, rec.onVerdict
	g, err := NewNginx(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g, rec
}

// at sleeps until d after the recorder's start, then lets the bubble settle.
func at(r *recorder, d time.Duration) {
	time.Sleep(time.Until(r.t0.Add(d)))
}

// watchedFake is a fakeNginx whose master's exit is announced, as PIDWatch
// announces it.
type watchedFake struct {
	*fakeNginx
	exited chan struct{}
	closed bool
}

func (w *watchedFake) Exited() <-chan struct{} { return w.exited }
func (w *watchedFake) Close() error            { w.closed = true; return nil }

// die kills the master and announces it.
func (w *watchedFake) die() {
	w.set(func(f *fakeNginx) { f.alive, f.answers = false, false })
	w.exited <- struct{}{}
}
