package guard

import (
	"reflect"
	"testing"
	"testing/synctest"
	"time"
)

func TestNginxDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  NginxConfig
		want NginxConfig
	}{
		{
			name: "zero",
			cfg:  NginxConfig{URL: "http://x/"},
			want: NginxConfig{Name: DefaultName, URL: "http://x/", MaxStatus: DefaultMaxStatus,
				Interval: DefaultInterval, ProbeEvery: DefaultProbeEvery, Timeout: 75 * ms, Rise: 1, Fall: 1,
				Start: DefaultStart, RestartDeadline: DefaultRestartDeadline,
				Recheck: DefaultRecheck, Retry: DefaultRetry, History: DefaultHistory},
		},
		{
			name: "timeout follows the interval; NoRestart and Retry<0 stay",
			cfg:  NginxConfig{Name: "ng", PIDFile: "/run/nginx.pid", Interval: time.Second, RestartDeadline: NoRestart, Retry: -1},
			want: NginxConfig{Name: "ng", PIDFile: "/run/nginx.pid", MaxStatus: DefaultMaxStatus,
				Interval: time.Second, ProbeEvery: DefaultProbeEvery, Timeout: 750 * ms, Rise: 1, Fall: 1,
				Start: DefaultStart, RestartDeadline: NoRestart,
				Recheck: DefaultRecheck, Retry: -1, History: DefaultHistory},
		},
		{
			name: "set values stay",
			cfg: NginxConfig{Name: "ng", URL: "http://x/", MaxStatus: 399, Interval: 100 * ms, ProbeEvery: time.Minute, Timeout: 300 * ms,
				Rise: 2, Fall: 3, Weight: -4, Start: []string{"nginx"}, RestartDeadline: 1500 * ms,
				Recheck: 10 * ms, Retry: time.Second, History: 5},
			want: NginxConfig{Name: "ng", URL: "http://x/", MaxStatus: 399, Interval: 100 * ms, ProbeEvery: time.Minute, Timeout: 300 * ms,
				Rise: 2, Fall: 3, Weight: -4, Start: []string{"nginx"}, RestartDeadline: 1500 * ms,
				Recheck: 10 * ms, Retry: time.Second, History: 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.WithDefaults()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("WithDefaults:\n got %+v\nwant %+v", got, tt.want)
			}
			if again := got.WithDefaults(); !reflect.DeepEqual(again, got) {
				t.Errorf("WithDefaults is not idempotent: %+v", again)
			}
			g, err := NewNginx(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g.cfg, tt.want) {
				t.Errorf("NewNginx runs %+v, want %+v", g.cfg, tt.want)
			}
		})
	}
}

func TestScriptDefaults(t *testing.T) {
	tests := []struct {
		cfg  ScriptConfig
		want ScriptConfig
	}{
		{ScriptConfig{Name: "a"}, ScriptConfig{Name: "a", Interval: time.Second, Timeout: time.Second, Rise: 1, Fall: 1, History: DefaultHistory}},
		{ScriptConfig{Name: "a", Interval: 2 * time.Second}, ScriptConfig{Name: "a", Interval: 2 * time.Second, Timeout: 2 * time.Second, Rise: 1, Fall: 1, History: DefaultHistory}},
		{ScriptConfig{Name: "a", Interval: 2 * time.Second, Timeout: 5 * time.Second, Fall: 3},
			ScriptConfig{Name: "a", Interval: 2 * time.Second, Timeout: 5 * time.Second, Rise: 1, Fall: 3, History: DefaultHistory}},
	}
	for _, tt := range tests {
		if got := tt.cfg.WithDefaults(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v.WithDefaults():\n got %+v\nwant %+v", tt.cfg, got, tt.want)
		}
	}
}

// TestDetection: the figures vipd -t adds Skew_Time to.
func TestDetection(t *testing.T) {
	url, pid := "http://127.0.0.1/", "/run/nginx.pid"
	tests := []struct {
		name  string
		cfg   NginxConfig
		death Detection
		hang  Detection // zero: a hang is never seen
	}{
		{
			name:  "defaults, url and pid file",
			cfg:   NginxConfig{URL: url, PIDFile: pid},
			death: Detection{time.Second, "at once (pid watched) + 1s restart"},
			hang:  Detection{250 * ms, "0.1s×1 + 0.075s + 0.075s confirm"},
		},
		{
			name:  "the sample: fall 2, timeout 0.2",
			cfg:   NginxConfig{URL: url, PIDFile: pid, Timeout: 200 * ms, Rise: 2, Fall: 2},
			death: Detection{1100 * ms, "0.1s×1 + 1s restart"},
			hang:  Detection{700 * ms, "0.1s + 0.2s×2 + 0.2s confirm"},
		},
		{
			name:  "url only: a hang is restarted too",
			cfg:   NginxConfig{URL: url},
			death: Detection{1175 * ms, "0.1s×1 + 0.075s + 1s restart"},
			hang:  Detection{1175 * ms, "0.1s×1 + 0.075s + 1s restart"},
		},
		{
			name:  "pid file only: a hang is never seen",
			cfg:   NginxConfig{PIDFile: pid, RestartDeadline: 1500 * ms},
			death: Detection{1500 * ms, "at once (pid watched) + 1.5s restart"},
		},
		{
			name:  "no restart",
			cfg:   NginxConfig{URL: url, RestartDeadline: NoRestart, Fall: 3},
			death: Detection{375 * ms, "0.1s×3 + 0.075s"},
			hang:  Detection{375 * ms, "0.1s×3 + 0.075s"},
		},
		{
			name:  "timeout beyond the interval",
			cfg:   NginxConfig{URL: url, PIDFile: pid, Interval: 100 * ms, Timeout: 250 * ms, Fall: 2},
			death: Detection{1100 * ms, "0.1s×1 + 1s restart"},
			hang:  Detection{850 * ms, "0.1s + 0.25s×2 + 0.25s confirm"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.Death(); got != tt.death {
				t.Errorf("Death = %+v, want %+v", got, tt.death)
			}
			got, ok := tt.cfg.Hang()
			if ok != (tt.hang != Detection{}) || got != tt.hang {
				t.Errorf("Hang = %+v, %v; want %+v", got, ok, tt.hang)
			}
		})
	}
	for _, tt := range []struct {
		cfg  ScriptConfig
		want Detection
	}{
		{ScriptConfig{Interval: 2 * time.Second}, Detection{4 * time.Second, "2s×1 + 2s"}},
		{ScriptConfig{Fall: 2}, Detection{3 * time.Second, "1s×2 + 1s"}},
		{ScriptConfig{Timeout: 3 * time.Second, Fall: 2}, Detection{7 * time.Second, "1s + 3s×2"}},
	} {
		if got := tt.cfg.Failure(); got != tt.want {
			t.Errorf("%+v.Failure() = %+v, want %+v", tt.cfg, got, tt.want)
		}
	}
}

// TestDetectionBounds runs the guard in fake time with the failure right
// after a passing check, the worst moment: the Failed verdict comes no later
// than the Detection says, and exactly then where the worst case is reached.
func TestDetectionBounds(t *testing.T) {
	const (
		polled  = "polled"  // a ProcessChecker: the pid file read on each check
		watched = "watched" // an ExitWatcher: PIDWatch
	)
	tests := []struct {
		name    string
		cfg     NginxConfig
		process string // "": no process check
		hang    bool   // the fault: a hang, else a death
		exact   bool   // the worst case is reached
	}{
		{name: "death, pid watched", cfg: NginxConfig{}, process: watched, exact: true},
		{name: "death, pid watched, fall 3", cfg: NginxConfig{Fall: 3}, process: watched, exact: true},
		{name: "death, no restart", cfg: NginxConfig{RestartDeadline: NoRestart}, process: watched, exact: true},
		// A dead master fails its check at once, not at the timeout.
		{name: "death, pid polled", cfg: NginxConfig{}, process: polled},
		{name: "hang, pid file", cfg: NginxConfig{}, process: polled, hang: true, exact: true},
		{name: "hang, fall 2", cfg: NginxConfig{Fall: 2}, process: watched, hang: true, exact: true},
		{name: "hang, timeout beyond the interval", cfg: NginxConfig{Interval: 100 * ms, Timeout: 250 * ms, Fall: 2},
			process: polled, hang: true, exact: true},
		{name: "hang, no pid file: restarted", cfg: NginxConfig{}, hang: true, exact: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				w := &watchedFake{fakeNginx: f, exited: make(chan struct{}, 1)}
				cfg := tt.cfg
				cfg.Probe, cfg.Runner = f, f
				switch tt.process {
				case polled:
					cfg.Process = f
				case watched:
					cfg.Process = w
				}
				want := cfg.Death()
				if tt.hang {
					want, _ = cfg.Hang()
				}
				rec := newRecorder()
				cfg.OnResult, cfg.OnVerdict = rec.onResult, rec.onVerdict
				g, err := NewNginx(cfg)
				if err != nil {
					t.Fatal(err)
				}
				runGuard(t, g.Run)
				<-rec.callback // Healthy at 0
				synctest.Wait()
				// The start command cannot help: it finds the hung nginx
				// running, or runs to the deadline.
				switch {
				case tt.hang:
					f.set(func(f *fakeNginx) { f.hung, f.startFor, f.startNop = true, 10*ms, true })
				case tt.process == watched:
					f.set(func(f *fakeNginx) { f.startFor = time.Hour })
					w.die()
				default:
					f.set(func(f *fakeNginx) { f.alive, f.answers, f.startFor = false, false, time.Hour })
				}
				<-rec.callback
				v := rec.verdicts()
				if v[1].Verdict != Failed {
					t.Fatalf("verdicts %+v", v)
				}
				if got := v[1].At; got > want.Time || tt.exact && got != want.Time {
					t.Errorf("Failed after %v; Detection %+v (exact: %v)", got, want, tt.exact)
				}
			})
		})
	}
	t.Run("script", func(t *testing.T) {
		for _, tt := range []struct {
			cfg      ScriptConfig
			outcomes string
		}{
			{ScriptConfig{Fall: 2}, "+hh"},
			{ScriptConfig{Timeout: 3 * time.Second}, "+h"},
		} {
			synctest.Test(t, func(t *testing.T) {
				s, rec := newScript(t, tt.cfg, &scriptRunner{outcomes: tt.outcomes})
				runGuard(t, s.Run)
				<-rec.callback // Healthy
				<-rec.callback // Failed
				if got, want := rec.verdicts()[1].At, tt.cfg.Failure().Time; got != want {
					t.Errorf("%+v: Failed after %v, Detection %v", tt.cfg, got, want)
				}
			})
		}
	})
}
