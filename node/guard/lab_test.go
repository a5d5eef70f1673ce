//go:build linux

package guard_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/node/guard"
)

// labRounds is how often each lab case repeats; GUARD_LAB_ROUNDS raises it
// to collect figures.
func labRounds(t *testing.T) int {
	n := 3
	if s := os.Getenv("GUARD_LAB_ROUNDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 50 {
			t.Fatalf("GUARD_LAB_ROUNDS=%q: want 1 to 50", s)
		}
		n = v
	}
	return n
}

// event is a verdict change seen by a guard under test.
type event struct {
	at      time.Time
	verdict guard.Verdict
	reason  string
}

// labGuard is the guard of one node's nginx, run by the test in the root
// namespace as vipd would run it inside the node: its HTTP sockets are made
// in the node's namespace, and its start command enters it.
type labGuard struct {
	g        *guard.Nginx
	verdicts chan event

	mu      sync.Mutex
	results []guard.Result
}

func startGuard(t *testing.T, ng *netns.Nginx, cfg guard.NginxConfig) *labGuard {
	t.Helper()
	node := ng.Node
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := node.Do(func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	lg := &labGuard{verdicts: make(chan event, 100)}
	cfg.Probe = guard.NewHTTPProbe(ng.URL, 0, dial)
	// The accept queue is read through a netlink socket made in the
	// node's namespace, as vipd's own is.
	q := guard.NewListenQueue(netip.MustParseAddrPort(strings.TrimSuffix(strings.TrimPrefix(ng.URL, "http://"), "/")))
	if err := node.Do(q.Open); err != nil {
		t.Fatal(err)
	}
	cfg.Backlog = q
	cfg.PIDFile = ng.PIDFile
	cfg.Start = ng.NetnsArgv() // inside the namespace this would be ng.Argv()
	cfg.OnResult = func(r guard.Result) {
		lg.mu.Lock()
		lg.results = append(lg.results, r)
		lg.mu.Unlock()
	}
	cfg.OnVerdict = func(v guard.Verdict, reason string) {
		select {
		case lg.verdicts <- event{time.Now(), v, reason}:
		default:
			t.Errorf("verdict %v dropped: test not reading", v)
		}
	}
	g, err := guard.NewNginx(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lg.g = g
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("guard: %v", err)
		}
		if t.Failed() {
			for _, r := range g.Status().History {
				t.Logf("history: %s %-7s ok=%v %v %s", r.Time.Format("15:04:05.000"), r.Phase, r.OK, r.Latency, r.Err)
			}
		}
	})
	return lg
}

// wait returns the next verdict change, which must be want, within d.
func (lg *labGuard) wait(t *testing.T, want guard.Verdict, d time.Duration) event {
	t.Helper()
	select {
	case e := <-lg.verdicts:
		if e.verdict != want {
			t.Fatalf("verdict %v (%s), want %v", e.verdict, e.reason, want)
		}
		return e
	case <-time.After(d):
		t.Fatalf("no verdict %v within %v; status %+v", want, d, lg.g.Status())
	}
	panic("unreachable")
}

// noVerdict fails if a verdict change arrives.
func (lg *labGuard) noVerdict(t *testing.T) {
	t.Helper()
	select {
	case e := <-lg.verdicts:
		t.Fatalf("unexpected verdict %v (%s)", e.verdict, e.reason)
	default:
	}
}

// firstResult returns the first result that ended after t0 and matches: a
// check already running at a fault can be the one that sees it.
func (lg *labGuard) firstResult(t0 time.Time, match func(guard.Result) bool) (guard.Result, bool) {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	for _, r := range lg.results {
		if end(r).After(t0) && match(r) {
			return r, true
		}
	}
	return guard.Result{}, false
}

// waitResult polls for a result that ended after t0 and matches, for up
// to d.
func (lg *labGuard) waitResult(t *testing.T, t0 time.Time, d time.Duration, what string, match func(guard.Result) bool) guard.Result {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if r, ok := lg.firstResult(t0, match); ok {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %s within %v; status %+v", what, d, lg.g.Status())
	panic("unreachable")
}

// waitingClient connects to url from inside node and returns a function
// that closes the connection: against a stopped nginx it waits in the
// accept queue.
func waitingClient(t *testing.T, node *netns.Node, url string) func() {
	t.Helper()
	var c net.Conn
	err := node.Do(func() error {
		var err error
		c, err = net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"), time.Second)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return func() { c.Close() }
}

// jitter sleeps a random part of an interval, so faults land anywhere
// between two checks and the figures show the whole spread.
func jitter() { time.Sleep(rand.N(guard.DefaultInterval)) }

func end(r guard.Result) time.Time { return r.Time.Add(r.Latency) }

// figures formats durations as min/median/max.
func figures(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	return fmt.Sprintf("min %s, median %s, max %s (n=%d)", r(s[0]), r(s[len(s)/2]), r(s[len(s)-1]), len(s))
}

// TestLabNginx runs the guard against a real nginx in a node namespace,
// with the default interval (100 ms), timeout (75 ms) and accept-queue
// watch.
func TestLabNginx(t *testing.T) {
	netns.RequireBinary(t, "nginx")
	lab := netns.New(t, netns.Config{Nodes: 1})
	node := lab.Nodes[0]
	rounds := labRounds(t)

	// nginx is SIGKILLed, master and workers: the guard starts it again
	// within the restart deadline and the verdict stays Healthy.
	t.Run("killed", func(t *testing.T) {
		ng := node.StartNginx(t, t.TempDir())
		lg := startGuard(t, ng, guard.NginxConfig{})
		lg.wait(t, guard.Healthy, 2*time.Second)
		var detect, back []time.Duration
		for range rounds {
			old, err := ng.Pid()
			if err != nil {
				t.Fatal(err)
			}
			jitter()
			t0 := time.Now()
			if err := ng.Kill(); err != nil {
				t.Fatal(err)
			}
			failed := lg.waitResult(t, t0, time.Second, "failed check", func(r guard.Result) bool { return !r.OK })
			up := lg.waitResult(t, t0, 3*time.Second, "passing re-check", func(r guard.Result) bool {
				return r.OK && r.Phase == guard.PhaseRestart
			})
			lg.noVerdict(t)
			if pid, err := ng.Pid(); err != nil || pid == old || !netns.Alive(pid) {
				t.Fatalf("nginx pid %d (%v) after restart, was %d", pid, err, old)
			}
			detect = append(detect, end(failed).Sub(t0))
			back = append(back, end(up).Sub(t0))
			time.Sleep(300 * time.Millisecond) // a passing scheduled check or so
		}
		lg.noVerdict(t)
		if st := lg.g.Status(); st.Verdict != guard.Healthy || st.Restarts != uint64(rounds) {
			t.Errorf("status %+v, want healthy after %d restarts", st, rounds)
		}
		t.Logf("SIGKILL to failed check: %s", figures(detect))
		t.Logf("SIGKILL to nginx answering again (restarted, still Healthy): %s", figures(back))
	})

	// nginx is stopped gracefully (SIGQUIT, as systemctl stop nginx does):
	// its listeners close before the master exits. The guard waits for the
	// exit and starts it again; the verdict stays Healthy.
	t.Run("stopped", func(t *testing.T) {
		ng := node.StartNginx(t, t.TempDir())
		lg := startGuard(t, ng, guard.NginxConfig{})
		lg.wait(t, guard.Healthy, 2*time.Second)
		var back []time.Duration
		for range rounds {
			old, err := ng.Pid()
			if err != nil {
				t.Fatal(err)
			}
			jitter()
			t0 := time.Now()
			if _, err := ng.Signal(syscall.SIGQUIT); err != nil {
				t.Fatal(err)
			}
			up := lg.waitResult(t, t0, 3*time.Second, "passing re-check", func(r guard.Result) bool {
				return r.OK && r.Phase == guard.PhaseRestart
			})
			lg.noVerdict(t)
			if pid, err := ng.Pid(); err != nil || pid == old || !netns.Alive(pid) {
				t.Fatalf("nginx pid %d (%v) after restart, was %d", pid, err, old)
			}
			back = append(back, end(up).Sub(t0))
			time.Sleep(300 * time.Millisecond)
		}
		lg.noVerdict(t)
		if st := lg.g.Status(); st.Verdict != guard.Healthy {
			t.Errorf("status %+v, want healthy", st)
		}
		t.Logf("SIGQUIT to nginx answering again (restarted, still Healthy): %s", figures(back))
	})

	// The config is broken and nginx dies: the start command fails and the
	// verdict is Failed at once, without waiting out the restart deadline.
	// Repaired, the guard's next retry starts it: Healthy after rise.
	t.Run("broken config", func(t *testing.T) {
		ng := node.StartNginx(t, t.TempDir())
		good, err := os.ReadFile(ng.Conf)
		if err != nil {
			t.Fatal(err)
		}
		cfg := guard.NginxConfig{Rise: 2, Retry: 500 * time.Millisecond}
		lg := startGuard(t, ng, cfg)
		lg.wait(t, guard.Healthy, 2*time.Second)
		bound := guard.DefaultInterval + 150*time.Millisecond + 300*time.Millisecond // interval + timeout + margin
		var fault, heal []time.Duration
		for range rounds {
			if err := os.WriteFile(ng.Conf, append(slices.Clone(good), "no_such_directive on;\n"...), 0o644); err != nil {
				t.Fatal(err)
			}
			jitter()
			t0 := time.Now()
			if err := ng.Kill(); err != nil {
				t.Fatal(err)
			}
			e := lg.wait(t, guard.Failed, 3*time.Second)
			fault = append(fault, e.at.Sub(t0))
			if e.at.Sub(t0) > bound {
				t.Errorf("Failed %v after nginx died, want within %v", e.at.Sub(t0), bound)
			}
			if !strings.Contains(e.reason, "; restart: exit status 1") || !strings.Contains(e.reason, "no_such_directive") {
				t.Errorf("reason %q, want the start command's failure", e.reason)
			}
			t.Logf("reason: %s", e.reason)

			if err := os.WriteFile(ng.Conf, good, 0o644); err != nil {
				t.Fatal(err)
			}
			t1 := time.Now()
			e = lg.wait(t, guard.Healthy, 3*time.Second)
			heal = append(heal, e.at.Sub(t1))
		}
		t.Logf("nginx dead, config broken: death to Failed: %s (bound %v)", figures(fault), bound)
		t.Logf("config repaired to Healthy (retry every 500ms, rise 2): %s", figures(heal))
	})

	// nginx is SIGSTOPped (alive, not answering): only the HTTP probe
	// notices, by its timeout. Starting it again cannot work (the port is
	// taken), so the verdict is Failed at the restart deadline. SIGCONT
	// makes it Healthy after rise.
	t.Run("hung", func(t *testing.T) {
		ng := node.StartNginx(t, t.TempDir())
		lg := startGuard(t, ng, guard.NginxConfig{Rise: 2})
		lg.wait(t, guard.Healthy, 2*time.Second)
		// SIGCONT at the end however the test goes, or cleanup's SIGKILL
		// still works but the logs would be confusing.
		t.Cleanup(func() { ng.Signal(syscall.SIGCONT) })
		var detect, fault, heal []time.Duration
		for range rounds {
			jitter()
			t0 := time.Now()
			if _, err := ng.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			// A client arrives and waits in the accept queue: what
			// makes the guard GET.
			closeClient := waitingClient(t, node, ng.URL)
			failed := lg.waitResult(t, t0, time.Second, "failed check", func(r guard.Result) bool { return !r.OK })
			if timeout := guard.DefaultTimeout(guard.DefaultInterval); !strings.Contains(failed.Err, "no answer after") || failed.Latency < timeout {
				t.Errorf("first failure %+v, want an HTTP timeout after %v", failed, timeout)
			}
			detect = append(detect, end(failed).Sub(t0))
			e := lg.wait(t, guard.Failed, 3*time.Second)
			fault = append(fault, e.at.Sub(t0))
			if !strings.Contains(e.reason, "no answer after") || !strings.Contains(e.reason, "not restarted") {
				t.Errorf("reason %q, want an HTTP timeout and no restart attempt", e.reason)
			}
			t.Logf("reason: %s", e.reason)

			closeClient()
			jitter()
			t1 := time.Now()
			if _, err := ng.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			e = lg.wait(t, guard.Healthy, 3*time.Second)
			heal = append(heal, e.at.Sub(t1))
		}
		t.Logf("SIGSTOP to failed check (HTTP timeout): %s", figures(detect))
		t.Logf("SIGSTOP to Failed (no restart attempt: the master is alive): %s", figures(fault))
		t.Logf("SIGCONT to Healthy (rise 2): %s", figures(heal))
	})
}
