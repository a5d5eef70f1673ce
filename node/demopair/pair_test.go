package demopair

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node"
	"github.com/vipkit/vip/node/control"
)

// Each node's keepalived.conf, written with node/config, is what `vipd -t`
// accepts without a warning.
func TestConfigLoads(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, n := range p.nodes {
		var stdout, stderr strings.Builder
		if !node.CheckFile(&stdout, &stderr, n.conf, n.sys) || !strings.Contains(stderr.String(), "successful (0 warning(s))") {
			b, _ := os.ReadFile(n.conf)
			t.Errorf("vipd -t %s: %s\n%s", n.name, stderr.String(), b)
		}
		if !strings.Contains(stdout.String(), "pidfile") {
			t.Errorf("%s: vipd -t shows no pid file:\n%s", n.name, stdout.String())
		}
	}
}

// The pair end to end through its shells: a master is elected and answers
// on the VIP; nginx stopped is started again by its guard; nginx broken
// moves the VIP within a few advert intervals (its death is seen at once,
// its start fails at once: no restart_deadline to wait out); vipd stopped
// hands over and started again comes back as BACKUP.
func TestPair(t *testing.T) {
	// The daemons' logs go to the test's output: shown when it fails.
	p, err := New(Options{Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	dir := p.dir
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s left behind", dir)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()

	wait := func(what string, within time.Duration, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > within {
				t.Fatalf("%s: not within %v", what, within)
			}
			time.Sleep(2 * time.Millisecond)
		}
		took := time.Since(start)
		t.Logf("%s after %v", what, took.Round(time.Millisecond))
		return took
	}
	state := func(name string) control.State {
		st, ok := p.Status(name)
		if !ok || len(st.Instances) == 0 {
			return ""
		}
		return st.Instances[0].State
	}
	held := func(name string) func() bool {
		return func() bool { return slices.Equal(p.Holders(), []string{name}) && state(name) == control.StateMaster }
	}
	exec := func(name, line string) string {
		t.Helper()
		var stdout, stderr strings.Builder
		if code := p.Exec(ctx, name, line, &stdout, &stderr, nil); code != 0 {
			t.Fatalf("%s on %s: exit %d: %s", line, name, code, stderr.String())
		}
		return stdout.String()
	}
	answers := func(name string) {
		t.Helper()
		c := http.Client{Timeout: time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return p.DialVIP(ctx, network, VIP.String())
			}}}
		r, err := c.Get("http://" + VIP.String() + "/")
		if err != nil {
			t.Fatalf("GET the VIP: %v", err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		if string(b) != "ok "+name+"\n" {
			t.Errorf("the VIP answers %q, want ok %s", b, name)
		}
	}

	wait("nginx-01 master", 5*time.Second, held("nginx-01"))
	answers("nginx-01")
	if out := exec("nginx-01", "sudo -n vipd status --json"); !strings.Contains(out, `"router_id":"nginx-01"`) {
		t.Errorf("vipd status --json: %s", out)
	}

	exec("nginx-01", "demo nginx stop")
	// The restart attempt is over when a re-check after the start command
	// has passed; breaking nginx before that would test a race with the
	// attempt, not a failover.
	wait("nginx restarted by its guard", 2*time.Second, func() bool {
		st, ok := p.Status("nginx-01")
		if !ok || st.Nginx == nil || len(st.Nginx.History) == 0 {
			return false
		}
		last := st.Nginx.History[len(st.Nginx.History)-1]
		return p.Nginx("nginx-01").Up() && last.OK && last.Phase != control.PhaseStart
	})
	if st, _ := p.Status("nginx-01"); st.Nginx == nil || st.Nginx.Restarts != 1 || state("nginx-01") != control.StateMaster {
		t.Errorf("after the restart: %s with %+v, want MASTER after one restart", state("nginx-01"), st.Nginx)
	}

	exec("nginx-01", "demo nginx break")
	// Skew_Time of nginx-02 at v3 0.1 s is 61 ms; the guard's interval is
	// 200 ms and its restart deadline 1 s, which a failover must not wait for.
	if took := wait("nginx-02 takes over from a broken nginx", 5*time.Second, held("nginx-02")); took > 400*time.Millisecond {
		t.Errorf("the failover took %v: more than Skew_Time and a guard interval", took)
	}
	answers("nginx-02")
	if st := state("nginx-01"); st != control.StateFault {
		t.Errorf("nginx-01 %s with nginx broken, want FAULT", st)
	}
	if out := exec("nginx-01", "demo nginx start"); !strings.Contains(out, "running") {
		t.Errorf("demo nginx start: %s", out)
	}
	wait("nginx-01 BACKUP again", 3*time.Second, func() bool { return state("nginx-01") == control.StateBackup })

	exec("nginx-02", "demo vipd stop")
	wait("nginx-01 takes over from a stopped vipd", 2*time.Second, held("nginx-01"))
	var stdout, stderr strings.Builder
	if code := p.Exec(ctx, "nginx-02", "demo vipd status", &stdout, &stderr, nil); code != 3 || stdout.String() != "inactive\n" {
		t.Errorf("demo vipd status of a stopped vipd: exit %d, %q", code, stdout.String())
	}
	exec("nginx-02", "demo vipd start")
	wait("nginx-02 BACKUP again", 3*time.Second, func() bool { return state("nginx-02") == control.StateBackup })
	if !slices.Equal(p.Holders(), []string{"nginx-01"}) {
		t.Errorf("the VIP is on %q after nginx-02's vipd came back, want nginx-01 (nopreempt)", p.Holders())
	}
}
