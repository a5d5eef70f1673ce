package guard

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

const ms = time.Millisecond

// TestNginxPolicy drives the seed's policy through the fakes in fake time:
// nginx dies (or hangs) at 310 ms; the scheduled check at 400 ms notices.
func TestNginxPolicy(t *testing.T) {
	const (
		death  = 310 * ms
		notice = 400 * ms // the first check after death
	)
	tests := []struct {
		name      string
		cfg       NginxConfig
		noProcess bool // no pid file configured
		fault     func(f *fakeNginx)
		start     func(f *fakeNginx) // the start command's behaviour
		until     time.Duration      // run this long

		want       []change // verdict changes; Reason is matched as a prefix
		wantStarts int
		wantPhases []string // results from the failing check on
	}{
		{
			name:  "healthy stays healthy",
			fault: func(f *fakeNginx) {},
			until: 2 * time.Second,
			want:  []change{{0, Healthy, ""}},
		},
		{
			name:  "restart within the deadline keeps it healthy",
			fault: func(f *fakeNginx) { f.alive, f.answers = false, false },
			// up when the start command returns, 120 ms in: re-checks at
			// 50 and 100 ms fail, the one right after the command passes.
			start:      func(f *fakeNginx) { f.startFor = 120 * ms },
			until:      2 * time.Second,
			want:       []change{{0, Healthy, ""}},
			wantStarts: 1,
			wantPhases: []string{"check-", "restart-", "restart-", "start+", "restart+", "check+"},
		},
		{
			name:  "start command fails: FAULT at once",
			fault: func(f *fakeNginx) { f.alive, f.answers = false, false },
			start: func(f *fakeNginx) {
				f.startFor, f.startErr = 10*ms, errors.New("exit status 1: nginx: [emerg] unknown directive")
			},
			until: 2 * time.Second,
			want: []change{{0, Healthy, ""},
				{notice + 10*ms, Failed, "nginx: master process 42 is gone; restart: exit status 1: nginx: [emerg] unknown directive"}},
			wantStarts: 1, // the next comes after Retry (2 s)
			wantPhases: []string{"check-", "start-", "restart-", "check-"},
		},
		{
			name:      "connection refused, start fails, no pid file configured",
			noProcess: true,
			fault:     func(f *fakeNginx) { f.answers = false },
			start: func(f *fakeNginx) {
				f.startFor, f.startErr = 30*ms, errors.New("exit status 1")
			},
			until: 2 * time.Second,
			want: []change{{0, Healthy, ""},
				{notice + 30*ms, Failed, "nginx: GET http://fake/: connect: connection refused; restart: exit status 1"}},
			wantStarts: 1,
		},
		{
			name:  "start command succeeds but nginx does not answer: FAULT at the deadline",
			fault: func(f *fakeNginx) { f.alive, f.answers = false, false },
			start: func(f *fakeNginx) { f.startFor, f.startNop = 10*ms, true },
			until: 2 * time.Second,
			want: []change{{0, Healthy, ""},
				{notice + time.Second, Failed, "nginx: master process 42 is gone; restart: no answer 1s after start: master process 42 is gone"}},
			wantStarts: 1,
		},
		{
			name:  "the started master exits again: FAULT at once, not at the deadline",
			fault: func(f *fakeNginx) { f.alive, f.answers = false, false },
			// The start command returns at 410 ms; the master it started
			// is alive but silent at 410 and 450 ms, gone at 500 ms.
			start: func(f *fakeNginx) {
				f.startFor, f.startNop = 10*ms, true
				time.AfterFunc(95*ms, func() { f.set(func(f *fakeNginx) { f.alive = true }) })
				time.AfterFunc(170*ms, func() { f.set(func(f *fakeNginx) { f.alive = false }) })
			},
			until: 2 * time.Second,
			want: []change{{0, Healthy, ""},
				{notice + 100*ms, Failed, "nginx: master process 42 is gone; restart: the started master exited again: master process 42 is gone"}},
			wantStarts: 1,
			wantPhases: []string{"check-", "start+", "restart-", "restart-", "restart-", "check-"},
		},
		{
			name:  "start command hangs: killed at the deadline",
			fault: func(f *fakeNginx) { f.alive, f.answers = false, false },
			start: func(f *fakeNginx) { f.startFor = time.Hour },
			until: 2 * time.Second,
			want: []change{{0, Healthy, ""},
				{notice + time.Second, Failed, "nginx: master process 42 is gone; restart: start command still running after 1s, killed"}},
			wantStarts: 1,
		},
		{
			name:  "hung nginx: the probe's timeout is a failure",
			fault: func(f *fakeNginx) { f.hung = true },
			// systemctl start on an active unit: exit 0 and nothing changes.
			start: func(f *fakeNginx) { f.startFor, f.startNop = 10*ms, true },
			until: 2 * time.Second,
			// check 400-550 times out, its confirmation 550-700 too; the
			// master is alive, so no start command (it could not help) and
			// no restart deadline to wait.
			want: []change{{0, Healthy, ""},
				{notice + 300*ms, Failed, "nginx: GET http://fake/: no answer after 150ms; not restarted: the master process is alive"}},
			wantStarts: 0,
		},
		{
			name: "stopping nginx (SIGQUIT): started again once its master exits",
			// Listeners closed at 310 ms, the master exits 120 ms later;
			// the re-check at 450 ms finds it gone, and the start command
			// brings nginx up.
			fault: func(f *fakeNginx) {
				f.answers = false
				time.AfterFunc(120*ms, func() { f.set(func(f *fakeNginx) { f.alive = false }) })
			},
			start:      func(f *fakeNginx) { f.startFor = 10 * ms },
			until:      2 * time.Second,
			want:       []change{{0, Healthy, ""}},
			wantStarts: 1,
			wantPhases: []string{"check-", "restart-", "start+", "restart+", "check+"},
		},
		{
			name: "stopping nginx resets the connection queued as its listeners close: started again once its master exits",
			fault: func(f *fakeNginx) {
				f.answers, f.reset = false, true
				time.AfterFunc(120*ms, func() { f.set(func(f *fakeNginx) { f.alive = false }) })
			},
			start:      func(f *fakeNginx) { f.startFor = 10 * ms },
			until:      2 * time.Second,
			want:       []change{{0, Healthy, ""}},
			wantStarts: 1,
			wantPhases: []string{"check-", "restart-", "start+", "restart+", "check+"},
		},
		{
			name:  "stopping nginx whose master never exits: FAULT at the deadline, no start",
			fault: func(f *fakeNginx) { f.answers = false },
			start: func(f *fakeNginx) { f.startFor = 10 * ms },
			until: 2 * time.Second,
			want: []change{{0, Healthy, ""},
				{notice + time.Second, Failed, "nginx: GET http://fake/: connect: connection refused; restart: the master process closed its listeners and was still alive after 1s"}},
			wantStarts: 0,
		},
		{
			name:  "fall 3: two failures do nothing",
			cfg:   NginxConfig{Fall: 3},
			fault: func(f *fakeNginx) { f.alive = false },
			start: func(f *fakeNginx) { f.startErr = errors.New("exit status 1") },
			until: 710 * ms, // checks at 400 and 600 fail
			want:  []change{{0, Healthy, ""}},
		},
		{
			name:  "fall 3: the third failure acts",
			cfg:   NginxConfig{Fall: 3},
			fault: func(f *fakeNginx) { f.alive = false },
			start: func(f *fakeNginx) { f.startErr = errors.New("exit status 1") },
			until: time.Second,
			want: []change{{0, Healthy, ""},
				{800 * ms, Failed, "nginx: master process 42 is gone; restart: exit status 1"}},
			wantStarts: 1,
		},
		{
			name:  "no restart configured",
			cfg:   NginxConfig{RestartDeadline: -1},
			fault: func(f *fakeNginx) { f.alive = false },
			until: time.Second,
			want:  []change{{0, Healthy, ""}, {notice, Failed, "nginx: master process 42 is gone"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				cfg := tt.cfg
				g, rec := newNginx(t, cfg, f)
				if tt.noProcess {
					g.proc = nil
				}
				runGuard(t, g.Run)
				at(rec, death)
				f.set(tt.fault)
				if tt.start != nil {
					f.set(tt.start)
				}
				at(rec, tt.until)
				synctest.Wait()

				wantChanges(t, rec.verdicts(), tt.want)
				if n := len(f.startTimes()); n != tt.wantStarts {
					t.Errorf("start command ran %d times, want %d", n, tt.wantStarts)
				}
				if tt.wantPhases != nil {
					var phases []string
					for _, r := range rec.since(notice) {
						phases = append(phases, string(r.Phase)+map[bool]string{true: "+", false: "-"}[r.OK])
					}
					if len(phases) > len(tt.wantPhases) {
						phases = phases[:len(tt.wantPhases)]
					}
					if !slices.Equal(phases, tt.wantPhases) {
						t.Errorf("results %v, want %v", phases, tt.wantPhases)
					}
				}
				if f.overlap {
					t.Error("probes overlapped")
				}
			})
		})
	}
}

// TestNginxStartFailsAtOnce measures what the headline figure depends on:
// a start command that fails ends the attempt without waiting the deadline.
func TestNginxStartFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		g, rec := newNginx(t, NginxConfig{}, f)
		runGuard(t, g.Run)
		at(rec, 310*ms)
		f.set(func(f *fakeNginx) {
			f.alive, f.answers = false, false
			f.startFor, f.startErr = 7*ms, errors.New("exit status 1")
		})
		<-rec.callback // Healthy
		<-rec.callback // Failed
		starts := f.startTimes()
		if len(starts) != 1 {
			t.Fatalf("start command ran %d times, want 1", len(starts))
		}
		elapsed := time.Since(starts[0])
		if elapsed != 7*ms {
			t.Errorf("Failed %v after the start command began, want 7ms (the command's run time)", elapsed)
		}
		if detect := time.Since(rec.t0.Add(310 * ms)); detect > DefaultInterval+10*ms {
			t.Errorf("Failed %v after nginx died, want at most interval + 10ms", detect)
		}
		st := g.Status()
		if st.Verdict != Failed || st.Restarts != 1 || !strings.Contains(st.Reason, "restart: exit status 1") {
			t.Errorf("status %+v", st)
		}
	})
}

// TestNginxHungProbe: a probe that gets no answer is cut at Timeout and
// counts as a failure like any other.
func TestNginxHungProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		g, rec := newNginx(t, NginxConfig{Timeout: 120 * ms, RestartDeadline: -1}, f)
		runGuard(t, g.Run)
		at(rec, 310*ms)
		f.set(func(f *fakeNginx) { f.hung = true })
		at(rec, 900*ms)
		synctest.Wait()
		r := rec.since(400 * ms)[0]
		if r.OK || r.Latency != 120*ms || r.Err != "GET http://fake/: no answer after 120ms" {
			t.Errorf("result %+v, want a failure after the 120ms timeout", r)
		}
		// The timed-out GET is confirmed by a second at once (400-520,
		// 520-640): then Failed.
		if c := rec.since(401 * ms)[0]; c.Phase != PhaseConfirm || c.Time.Sub(rec.t0) != 520*ms || c.OK {
			t.Errorf("result after the timeout %+v, want a failed confirmation at 520ms", c)
		}
		if v := rec.verdicts(); len(v) != 2 || v[1].Verdict != Failed || v[1].At != 640*ms {
			t.Errorf("verdicts %+v, want Failed at 640ms", v)
		}
		// The round overran its interval: the next check starts at once.
		if next := rec.since(521 * ms); len(next) < 1 || next[0].Time.Sub(rec.t0) != 640*ms {
			t.Errorf("results after the confirmation %+v, want the next check at 640ms", next)
		}
	})
}

// TestNginxNoOverlap: a probe that ignores its deadline and takes 500 ms
// (longer than the 200 ms interval) delays the next check; two never run at
// once.
func TestNginxNoOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.slow = 500 * ms
		g, rec := newNginx(t, NginxConfig{}, f)
		runGuard(t, g.Run)
		at(rec, 2600*ms)
		synctest.Wait()
		if f.overlap {
			t.Error("probes overlapped")
		}
		var starts []time.Duration
		for _, r := range rec.since(0) {
			starts = append(starts, r.Time.Sub(rec.t0))
		}
		want := []time.Duration{0, 500 * ms, 1000 * ms, 1500 * ms, 2000 * ms}
		if !slices.Equal(starts, want) {
			t.Errorf("checks started at %v, want %v", starts, want)
		}
	})
}

// TestNginxNoOverlapDuringRestart: scheduled checks wait for a restart
// attempt (which takes up to a second) instead of running beside it.
func TestNginxNoOverlapDuringRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		g, rec := newNginx(t, NginxConfig{}, f)
		runGuard(t, g.Run)
		at(rec, 310*ms)
		f.set(func(f *fakeNginx) { f.alive, f.startFor = false, time.Hour })
		at(rec, 1700*ms)
		synctest.Wait()
		var checks []time.Duration
		for _, r := range rec.since(0) {
			if r.Phase == PhaseCheck {
				checks = append(checks, r.Time.Sub(rec.t0))
			}
		}
		// 400: fails, restart until 1400; the next check right then.
		want := []time.Duration{0, 200 * ms, 400 * ms, 1400 * ms, 1600 * ms}
		if !slices.Equal(checks, want) {
			t.Errorf("scheduled checks at %v, want %v", checks, want)
		}
	})
}

// TestNginxRecovers: after a FAULT, Rise successes in a row make it healthy;
// a failure in between starts the count again. Retry keeps starting it.
func TestNginxRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		g, rec := newNginx(t, NginxConfig{Rise: 3, Retry: -1}, f)
		runGuard(t, g.Run)
		at(rec, 310*ms)
		f.set(func(f *fakeNginx) { f.alive, f.startErr = false, errors.New("exit status 1") })
		at(rec, 1010*ms)
		f.set(func(f *fakeNginx) { f.alive = true }) // the operator repairs it
		at(rec, 1310*ms)                             // 1200 passes ...
		f.set(func(f *fakeNginx) { f.alive = false })
		at(rec, 1410*ms) // ... 1400 fails and starts the count again ...
		f.set(func(f *fakeNginx) { f.alive = true })
		at(rec, 2500*ms) // ... 1600, 1800, 2000 pass: healthy at 2000
		synctest.Wait()
		want := []change{{0, Healthy, ""}, {400 * ms, Failed, ""}, {2000 * ms, Healthy, ""}}
		got := rec.verdicts()
		if len(got) != len(want) {
			t.Fatalf("verdicts %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i].At != want[i].At || got[i].Verdict != want[i].Verdict {
				t.Errorf("verdict %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		if n := len(f.startTimes()); n != 1 {
			t.Errorf("start command ran %d times with Retry off, want 1", n)
		}
		st := g.Status()
		if st.Verdict != Healthy || st.Reason != "" || !strings.Contains(st.LastErr, "is gone") || st.Successes < 3 {
			t.Errorf("status %+v", st)
		}
	})
}

// TestNginxRetry: while failed, the start command runs again every Retry;
// when it works, the restart's passing re-check counts towards Rise.
func TestNginxRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		g, rec := newNginx(t, NginxConfig{}, f)
		runGuard(t, g.Run)
		at(rec, 310*ms)
		f.set(func(f *fakeNginx) { f.alive, f.startErr = false, errors.New("exit status 1") })
		at(rec, 5010*ms)
		f.set(func(f *fakeNginx) { f.startErr = nil }) // config repaired
		at(rec, 7010*ms)
		synctest.Wait()
		var got []time.Duration
		for _, s := range f.startTimes() {
			got = append(got, s.Sub(rec.t0))
		}
		want := []time.Duration{400 * ms, 2400 * ms, 4400 * ms, 6400 * ms}
		if !slices.Equal(got, want) {
			t.Errorf("start command ran at %v, want %v", got, want)
		}
		if v := rec.verdicts(); len(v) != 3 || v[2].Verdict != Healthy || v[2].At != 6400*ms {
			t.Errorf("verdicts %+v, want healthy again at 6.4s", v)
		}
	})
}

// TestNginxShutdown: cancelling Run in the middle of a restart attempt
// kills the start command, returns nil and reports no verdict.
func TestNginxShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		g, rec := newNginx(t, NginxConfig{}, f)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- g.Run(ctx) }()
		at(rec, 310*ms)
		f.set(func(f *fakeNginx) { f.alive, f.startFor = false, time.Hour })
		at(rec, 600*ms)
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		if got := time.Since(rec.t0); got != 600*ms {
			t.Errorf("Run returned at %v, want at once (600ms)", got)
		}
		if v := rec.verdicts(); len(v) != 1 {
			t.Errorf("verdicts %+v, want only the first Healthy", v)
		}
		if p := rec.phases(); p[len(p)-1] != "restart-" {
			t.Errorf("last result %v, want the last completed re-check", p)
		}
	})
}

func TestNginxRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, _ := newNginx(t, NginxConfig{}, newFake())
		runGuard(t, g.Run)
		synctest.Wait()
		if err := g.Run(t.Context()); err == nil {
			t.Error("second concurrent Run succeeded")
		}
	})
}

func TestNginxHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		g, rec := newNginx(t, NginxConfig{RestartDeadline: -1}, f)
		runGuard(t, g.Run)
		at(rec, 2910*ms) // checks at 0, 0.2, ..., 2.8: 15
		f.set(func(f *fakeNginx) { f.alive = false })
		at(rec, 3310*ms) // 3.0, 3.2 fail
		f.set(func(f *fakeNginx) { f.alive = true })
		at(rec, 5910*ms) // 3.4 ... 5.8 pass: 30 in all
		synctest.Wait()
		st := g.Status()
		if st.Checks != 30 || len(st.History) != DefaultHistory {
			t.Fatalf("checks %d, history %d; want 30, %d", st.Checks, len(st.History), DefaultHistory)
		}
		if first, last := st.History[0].Time.Sub(rec.t0), st.History[19].Time.Sub(rec.t0); first != 2000*ms || last != 5800*ms {
			t.Errorf("history from %v to %v, want 2s to 5.8s", first, last)
		}
		if st.History[5].OK || !st.History[7].OK {
			t.Errorf("history %+v: want the failures at 3.0 and 3.2 s", st.History)
		}
		if st.LastErr == "" || st.LastErrTime.Sub(rec.t0) != 3200*ms || st.Verdict != Healthy {
			t.Errorf("status %+v", st)
		}
	})
}

func TestNewNginxErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  NginxConfig
		want string // "" for no error
	}{
		{"defaults with a url", NginxConfig{URL: "http://127.0.0.1/"}, ""},
		{"pid file only", NginxConfig{PIDFile: "/run/nginx.pid"}, ""},
		{"nothing to check", NginxConfig{}, "nothing to check"},
		{"bad url", NginxConfig{URL: "ftp://x/"}, "not an http:// or https:// URL"},
		{"url without a host", NginxConfig{URL: "http:///x"}, "not an http:// or https:// URL"},
		{"bad url, probe given", NginxConfig{URL: "ftp://x/", Probe: newFake()}, ""},
		{"process given, no pid file", NginxConfig{Process: newFake()}, ""},
		// As keepalived allows: checks never overlap, the next starts when
		// the slow one ends (Detection accounts for it).
		{"timeout beyond interval", NginxConfig{URL: "http://x/", Interval: 100 * ms, Timeout: 200 * ms}, ""},
		{"timeout equal to interval", NginxConfig{URL: "http://x/", Interval: 100 * ms, Timeout: 100 * ms}, ""},
		{"negative interval", NginxConfig{URL: "http://x/", Interval: -ms}, "interval -1ms is not positive"},
		{"negative timeout", NginxConfig{URL: "http://x/", Timeout: -ms}, "timeout -1ms is not positive"},
		{"negative rise", NginxConfig{URL: "http://x/", Rise: -1}, "must be positive"},
		{"negative history", NginxConfig{URL: "http://x/", History: -1}, "history -1 is not positive"},
		{"empty start", NginxConfig{URL: "http://x/", Start: []string{}}, "empty start command"},
		{"empty start, no restart", NginxConfig{URL: "http://x/", Start: []string{}, RestartDeadline: NoRestart}, ""},
		{"every error at once", NginxConfig{Interval: -ms, Timeout: ms, Start: []string{}}, "interval -1ms is not positive\nempty start command\nnothing to check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewNginx(tt.cfg)
			if verr := tt.cfg.Validate(); (verr == nil) != (err == nil) {
				t.Errorf("Validate = %v, NewNginx = %v: they must agree", verr, err)
			}
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if g.cfg.Interval != DefaultInterval && tt.cfg.Interval == 0 {
					t.Errorf("interval %v", g.cfg.Interval)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	g, err := NewNginx(NginxConfig{URL: "http://x/"})
	if err != nil {
		t.Fatal(err)
	}
	if c := g.cfg; c.Interval != 100*ms || c.Timeout != 75*ms || c.Rise != 1 || c.Fall != 1 ||
		c.RestartDeadline != time.Second || !slices.Equal(c.Start, DefaultStart) {
		t.Errorf("defaults %+v", c)
	}
}

// TestNginxExitWakes: with an ExitWatcher the guard checks the moment the
// master exits, not at its next tick, and the schedule carries on from there.
func TestNginxExitWakes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &watchedFake{fakeNginx: newFake(), exited: make(chan struct{}, 1)}
		rec := newRecorder()
		g, err := NewNginx(NginxConfig{Interval: policyInterval, Process: w, Probe: w, Runner: w, OnResult: rec.onResult, OnVerdict: rec.onVerdict})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		<-rec.callback // Healthy
		at(rec, 310*ms)
		w.set(func(f *fakeNginx) { f.startFor, f.startErr = 7*ms, errors.New("exit status 1") })
		w.die()
		<-rec.callback // Failed
		if v := rec.verdicts(); v[1].Verdict != Failed || v[1].At != 317*ms {
			t.Errorf("verdicts %+v, want Failed at 317ms: the exit plus the start command's 7ms", v)
		}
		at(rec, 700*ms)
		synctest.Wait()
		// The next tick came an interval after the woken round began.
		if next := rec.since(318 * ms); len(next) == 0 || next[0].Time.Sub(rec.t0) != 510*ms {
			t.Errorf("checks after the wake-up %+v, want the first at 510ms", next)
		}
		cancel()
		if err := <-done; err != nil || !w.closed {
			t.Errorf("Run = %v, watcher closed %v; want nil, true", err, w.closed)
		}
	})
}

// TestNginxBacklog: with a Backlog the guard GETs only when clients wait in
// the accept queue, when nothing listens, while it is not steadily healthy,
// and once every ProbeEvery; a hung nginx with a client waiting fails within
// Hang, at the default schedule (100 ms, timeout 75 ms).
func TestNginxBacklog(t *testing.T) {
	const fault = 310 * ms
	tests := []struct {
		name     string
		fault    func(f *fakeNginx) // at 310 ms; nil: none
		heal     func(f *fakeNginx) // at 1.2 s; nil: none
		until    time.Duration
		want     []change
		wantGETs int
	}{
		{
			name:     "healthy and idle: a GET once every ProbeEvery",
			until:    3050 * ms,
			want:     []change{{0, Healthy, ""}},
			wantGETs: 4, // at 0, 1, 2 and 3 s; 31 checks
		},
		{
			name:  "hung with a client waiting: the next check GETs, its confirmation fails",
			fault: func(f *fakeNginx) { f.hung, f.clients = true, 1 },
			until: 1100 * ms,
			// check at 400 ms times out at 475, the confirmation at 550:
			// 240 ms after the hang, within Hang's 250.
			want:     []change{{0, Healthy, ""}, {550 * ms, Failed, "nginx: GET http://fake/: no answer after 75ms; not restarted"}},
			wantGETs: 1 + 2 + 6, // then every check GETs while Failed (550 ms to 1.05 s)
		},
		{
			name:     "hung with no client: the slow GET finds it",
			fault:    func(f *fakeNginx) { f.hung = true },
			until:    1160 * ms,
			want:     []change{{0, Healthy, ""}, {1150 * ms, Failed, "nginx: GET http://fake/: no answer after 75ms; not restarted"}},
			wantGETs: 1 + 2 + 1, // at 0 and 1 s, its confirmation, the check at 1.15 s
		},
		{
			name:  "healed: only a GET makes it healthy again",
			fault: func(f *fakeNginx) { f.hung, f.clients = true, 1 },
			heal:  func(f *fakeNginx) { f.hung = false },
			until: 2 * time.Second,
			// Failed at 550; from then every check GETs and times out
			// (550 ms to 1.15 s); the one at 1.25 s answers.
			want:     []change{{0, Healthy, ""}, {550 * ms, Failed, "nginx: GET"}, {1250 * ms, Healthy, ""}},
			wantGETs: 1 + 2 + 7 + 1,
		},
		{
			name:  "listeners closed: a GET at once tells refused from hung",
			fault: func(f *fakeNginx) { f.answers = false },
			until: 1500 * ms,
			// The master never exits: Failed at the restart deadline.
			want: []change{{0, Healthy, ""}, {1400 * ms, Failed, "nginx: GET http://fake/: connect: connection refused"}},
			// 400 ms, re-checks every 50 ms to 1.4 s (the last cut short
			// by the deadline), then every check while Failed (1.4, 1.5 s)
			wantGETs: 1 + 1 + 20 + 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				rec := newRecorder()
				g, err := NewNginx(NginxConfig{ProbeEvery: time.Second, Process: f, Probe: f, Backlog: f, Runner: f,
					OnResult: rec.onResult, OnVerdict: rec.onVerdict})
				if err != nil {
					t.Fatal(err)
				}
				runGuard(t, g.Run)
				if tt.fault != nil {
					at(rec, fault)
					f.set(tt.fault)
				}
				if tt.heal != nil {
					at(rec, 1190*ms)
					f.set(tt.heal)
				}
				at(rec, tt.until)
				synctest.Wait()
				wantChanges(t, rec.verdicts(), tt.want)
				if n := f.getCount(); n != tt.wantGETs {
					t.Errorf("%d GETs, want %d", n, tt.wantGETs)
				}
			})
		})
	}
	// The bound the test's 240 ms lies within.
	if h, _ := (NginxConfig{URL: "http://127.0.0.1/", PIDFile: "nginx.pid"}).Hang(); h.Time != 250*ms {
		t.Errorf("Hang = %v, want 250ms", h)
	}
}

// wantChanges compares verdict changes, each Reason matched as a prefix.
func wantChanges(t *testing.T, got, want []change) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("verdicts %+v, want %+v", got, want)
	}
	for i, w := range want {
		if got[i].At != w.At || got[i].Verdict != w.Verdict || !strings.HasPrefix(got[i].Reason, w.Reason) {
			t.Errorf("verdict %d = %+v, want %+v", i, got[i], w)
		}
	}
}

// TestNginxServing: a guard told no clients are expected checks only every
// ProbeEvery while steadily healthy, and at once when told they are.
func TestNginxServing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &watchedFake{fakeNginx: newFake(), exited: make(chan struct{}, 1)}
		rec := newRecorder()
		g, err := NewNginx(NginxConfig{ProbeEvery: time.Second, Process: w, Probe: w, Backlog: w, Runner: w,
			OnResult: rec.onResult, OnVerdict: rec.onVerdict})
		if err != nil {
			t.Fatal(err)
		}
		g.Serving(false)
		runGuard(t, g.Run)
		at(rec, 2050*ms)
		// at 0, then every second: each a GET (ProbeEvery has passed)
		if n, gets := len(rec.since(0)), w.getCount(); n != 3 || gets != 3 {
			t.Errorf("not serving: %d checks, %d GETs by 2.05s; want 3, 3", n, gets)
		}
		g.Serving(true)
		at(rec, 2360*ms)
		var times []time.Duration
		for _, r := range rec.since(2050 * ms) {
			times = append(times, r.Time.Sub(rec.t0))
		}
		if want := []time.Duration{2050 * ms, 2150 * ms, 2250 * ms, 2350 * ms}; !slices.Equal(times, want) {
			t.Errorf("serving: checks at %v, want %v", times, want)
		}
	})
}
