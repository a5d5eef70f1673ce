package guard

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// scriptRunner plays a script: each run takes `took` and then exits
// according to the next outcome: '+' status 0, '-' status 1, 'h' hangs until
// killed. It records when each run saw its context end.
type scriptRunner struct {
	mu       sync.Mutex
	outcomes string
	took     time.Duration
	runs     int
	inflight int
	overlap  bool
	killedAt []time.Time
	cmds     []Command
}

func (s *scriptRunner) Run(ctx context.Context, c Command) error {
	s.mu.Lock()
	o := byte('+')
	if s.runs < len(s.outcomes) {
		o = s.outcomes[s.runs]
	}
	s.runs++
	s.inflight++
	s.overlap = s.overlap || s.inflight > 1
	s.cmds = append(s.cmds, c)
	took := s.took
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inflight--; s.mu.Unlock() }()

	if took > 0 {
		time.Sleep(took) // ignores ctx, like a script that blocks signals
	}
	switch o {
	case '-':
		return errors.New("exit status 1")
	case 'h':
		<-ctx.Done()
		s.mu.Lock()
		s.killedAt = append(s.killedAt, time.Now())
		s.mu.Unlock()
		return errors.New("signal: killed")
	}
	return nil
}

func newScript(t *testing.T, cfg ScriptConfig, r Runner) (*Script, *recorder) {
	t.Helper()
	rec := newRecorder()
	if cfg.Name == "" {
		cfg.Name = "chk_nginx"
	}
	if cfg.Command == nil {
		cfg.Command = []string{"/etc/keepalived/check_nginx.sh"}
	}
	cfg.Runner, cfg.OnResult, cfg.OnVerdict = r, rec.onResult, rec.onVerdict
	s, err := NewScript(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

// TestScriptRiseFall checks keepalived's hysteresis: the first result
// decides; then fall failures in a row fail it and rise successes in a row
// bring it back, any other result resetting the count.
func TestScriptRiseFall(t *testing.T) {
	tests := []struct {
		rise, fall int
		outcomes   string // one per run, a second apart
		want       string // verdict after each run: H(ealthy), F(ailed)
	}{
		{1, 1, "++-+--+", "HHFHFFH"},
		{2, 3, "+--+---+-+++", "HHHHHHFFFFHH"},
		{2, 3, "-+-++", "FFFFH"}, // the first result decides, whatever fall says
		{3, 1, "+-++-+++", "HFFFFFFH"},
		{1, 2, "+-+-+--", "HHHHHHF"},
	}
	for _, tt := range tests {
		t.Run(tt.outcomes, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, rec := newScript(t, ScriptConfig{Rise: tt.rise, Fall: tt.fall}, &scriptRunner{outcomes: tt.outcomes})
				runGuard(t, s.Run)
				var got strings.Builder
				for i := range tt.outcomes {
					at(rec, time.Duration(i)*time.Second+500*ms)
					got.WriteString(map[Verdict]string{Unknown: "?", Healthy: "H", Failed: "F"}[s.Status().Verdict])
				}
				if got.String() != tt.want {
					t.Errorf("rise %d fall %d, results %s: verdicts %s, want %s", tt.rise, tt.fall, tt.outcomes, got.String(), tt.want)
				}
			})
		})
	}
}

// TestScriptKilledAtDeadline: a script that outlives its timeout is killed
// (its context ends) exactly then and counts as a failure.
func TestScriptKilledAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &scriptRunner{outcomes: "+h+"}
		s, rec := newScript(t, ScriptConfig{Interval: 2 * time.Second, Timeout: 300 * ms, Weight: -20}, r)
		runGuard(t, s.Run)
		at(rec, 3*time.Second)
		synctest.Wait()
		if len(r.killedAt) != 1 || r.killedAt[0].Sub(rec.t0) != 2300*ms {
			t.Fatalf("killed at %v, want once at 2.3s", r.killedAt)
		}
		st := s.Status()
		if st.Verdict != Failed || st.Reason != "chk_nginx: timed out after 300ms, killed" || st.Weight != -20 {
			t.Errorf("status %+v", st)
		}
		if h := st.History[1]; h.OK || h.Latency != 300*ms || h.Phase != PhaseCheck {
			t.Errorf("result %+v, want a failure after 300ms", h)
		}
		want := []change{{0, Healthy, ""}, {2300 * ms, Failed, "chk_nginx: timed out after 300ms, killed"}}
		if got := rec.verdicts(); !slices.Equal(got, want) {
			t.Errorf("verdicts %+v, want %+v", got, want)
		}
	})
}

// TestScriptNoOverlap: a script that takes longer than the interval (and
// ignores its deadline) delays the next run instead of overlapping it: the
// seed's warning about check_nginx.sh.
func TestScriptNoOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &scriptRunner{took: 1500 * ms}
		s, rec := newScript(t, ScriptConfig{Interval: time.Second}, r)
		runGuard(t, s.Run)
		at(rec, 5*time.Second)
		synctest.Wait()
		if r.overlap {
			t.Error("runs overlapped")
		}
		var starts []time.Duration
		for _, res := range rec.since(0) {
			starts = append(starts, res.Time.Sub(rec.t0))
		}
		want := []time.Duration{0, 1500 * ms, 3000 * ms}
		if !slices.Equal(starts, want) {
			t.Errorf("runs started at %v, want %v", starts, want)
		}
	})
}

func TestScriptCommand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &scriptRunner{}
		s, _ := newScript(t, ScriptConfig{Command: []string{"/bin/check", "-x"}, User: "nobody"}, r)
		runGuard(t, s.Run)
		synctest.Wait()
		want := Command{Argv: []string{"/bin/check", "-x"}, User: "nobody"}
		if len(r.cmds) != 1 || !slices.Equal(r.cmds[0].Argv, want.Argv) || r.cmds[0].User != want.User {
			t.Errorf("ran %+v, want %+v", r.cmds, want)
		}
	})
}

func TestNewScriptErrors(t *testing.T) {
	tests := []struct {
		cfg  ScriptConfig
		want string
	}{
		{ScriptConfig{Name: "a", Command: []string{"true"}}, ""},
		{ScriptConfig{Command: []string{"true"}}, "no name"},
		{ScriptConfig{Name: "a"}, "no command"},
		// keepalived allows it; runs never overlap.
		{ScriptConfig{Name: "a", Command: []string{"true"}, Interval: time.Second, Timeout: 2 * time.Second}, ""},
		{ScriptConfig{Name: "a", Command: []string{"true"}, Timeout: -time.Second}, "timeout -1s is not positive"},
		{ScriptConfig{Name: "a", Command: []string{"true"}, Fall: -1}, "must be positive"},
	}
	for _, tt := range tests {
		s, err := NewScript(tt.cfg)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tt.cfg, err)
			} else if s.cfg.Interval != time.Second || s.cfg.Timeout != max(time.Second, tt.cfg.Timeout) {
				t.Errorf("defaults: interval %v timeout %v, want keepalived's 1s and 1s", s.cfg.Interval, s.cfg.Timeout)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.cfg, err, tt.want)
		}
	}
}
