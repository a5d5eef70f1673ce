package feed

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui"
)

func TestBackend(t *testing.T) {
	for in, want := range map[string]string{
		"ok nginx-01\n":      "nginx-01",
		"ok nginx-02":        "nginx-02",
		"  ok  n3 extra\r\n": "n3",
		"ok":                 "",
		"<html>welcome":      "",
		"":                   "",
	} {
		if got := Backend([]byte(in)); got != want {
			t.Errorf("Backend(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProbeOnce(t *testing.T) {
	var mu sync.Mutex
	status, body, delay := 200, "ok nginx-01\n", time.Duration(0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s, b, d := status, body, delay
		mu.Unlock()
		time.Sleep(d)
		w.WriteHeader(s)
		io.WriteString(w, b)
	}))
	defer srv.Close()
	set := func(s int, b string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		status, body, delay = s, b, d
	}
	// The VIP is only a name here: the dialer sends it to the test server,
	// as the lab's and the demo's dialers send it where they must.
	var dialed []string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	p := NewProbe(ProbeConfig{URL: "http://198.51.100.100:80/", Timeout: 200 * time.Millisecond, Dial: dial})
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		delay   time.Duration
		ok      bool
		backend string
		err     string
	}{
		{name: "lab nginx", status: 200, body: "ok nginx-01\n", ok: true, backend: "nginx-01"},
		{name: "other nginx", status: 200, body: "<html>", ok: true},
		{name: "server error", status: 502, body: "bad gateway", err: "status 502 Bad Gateway"},
		{name: "slow", status: 200, body: "ok nginx-01", delay: 400 * time.Millisecond, err: "no answer within 200ms"},
	} {
		set(tc.status, tc.body, tc.delay)
		s := p.Once(context.Background())
		if s.OK != tc.ok || s.Backend != tc.backend || (tc.err == "") != (s.Err == nil) ||
			(s.Err != nil && s.Err.Error() != tc.err) || s.Time.IsZero() || s.Latency <= 0 {
			t.Errorf("%s: got %+v, want ok %v backend %q err %q", tc.name, s, tc.ok, tc.backend, tc.err)
		}
	}
	mu.Lock()
	if len(dialed) == 0 || dialed[0] != "198.51.100.100:80" {
		t.Errorf("dialed %q, want the VIP", dialed)
	}
	mu.Unlock()

	addr := srv.Listener.Addr().String()
	srv.Close()
	p = NewProbe(ProbeConfig{URL: "http://" + addr + "/"})
	if s := p.Once(context.Background()); s.OK || s.Err == nil || !strings.Contains(s.Err.Error(), "connection refused") {
		t.Errorf("closed server: got %+v, want connection refused", s)
	}
}

func TestProbeRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok nginx-02\n")
	}))
	defer srv.Close()
	p := NewProbe(ProbeConfig{URL: srv.URL, Interval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var got []ui.ProbeSample
	for s := range p.Updates() {
		got = append(got, s)
		if len(got) == 5 {
			cancel()
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if len(got) < 5 {
		t.Fatalf("got %d samples", len(got))
	}
	for i, s := range got[:5] {
		if !s.OK || s.Backend != "nginx-02" {
			t.Errorf("sample %d = %+v", i, s)
		}
		if i > 0 && s.Time.Sub(got[i-1].Time) < 15*time.Millisecond {
			t.Errorf("samples %d and %d %v apart, want about 20ms", i-1, i, s.Time.Sub(got[i-1].Time))
		}
	}
}

func TestGate(t *testing.T) {
	var mu sync.Mutex
	var cmds []string
	_, cfg := server(t, func(_ context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
		mu.Lock()
		cmds = append(cmds, cmd)
		mu.Unlock()
		if strings.Contains(cmd, "-i VI_9") {
			fmt.Fprintln(stderr, `vipd ctl: vipd: unknown instance "VI_9"`)
			return 1
		}
		fmt.Fprintln(stdout, "ok")
		return 0
	})
	conn := ssh.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- conn.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	for st := range conn.Updates() {
		if st.Connected {
			break
		}
	}
	g := &Gate{By: "alice via vipctl"}
	g.Add("web", "nginx-01", cfg.Target, conn, Vipd{Socket: "/run/s.sock"})

	msg := g.Run(ui.Action{Kind: ui.ActionFault, Pair: "web", Node: "nginx-01"})()
	if r, ok := msg.(ui.ActionResultMsg); !ok || r.Err != nil || r.Action.Node != "nginx-01" {
		t.Fatalf("fault: %#v", msg)
	}
	if err := g.Do(context.Background(), ui.Action{Kind: ui.ActionResume, Pair: "web", Node: "nginx-01", Instance: "VI_1"}); err != nil {
		t.Fatal(err)
	}
	err := g.Do(context.Background(), ui.Action{Kind: ui.ActionResume, Pair: "web", Node: "nginx-01", Instance: "VI_9"})
	if err == nil || !strings.Contains(err.Error(), `unknown instance "VI_9"`) || !strings.HasPrefix(err.Error(), "resume on nginx-01 failed") {
		t.Errorf("resume VI_9 = %v", err)
	}
	if err := g.Do(context.Background(), ui.Action{Kind: ui.ActionFault, Pair: "web", Node: "nginx-03"}); err == nil {
		t.Error("fault on an unknown node succeeded")
	}
	want := []string{
		"vipd ctl fault --reason 'drill from vipctl' --by 'alice via vipctl' -socket /run/s.sock",
		"vipd ctl resume -i VI_1 --by 'alice via vipctl' -socket /run/s.sock",
		"vipd ctl resume -i VI_9 --by 'alice via vipctl' -socket /run/s.sock",
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Errorf("ran\n%s\nwant\n%s", strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
}

func TestPrompt(t *testing.T) {
	_, cfg := server(t, nil)
	kh := cfg.KnownHosts
	for _, tc := range []struct {
		answers string
		ok      bool
	}{
		{"maybe\nno\n", false},
		{"", false},
		{"y\nyes\n", true},
	} {
		var out strings.Builder
		p := &Prompt{In: strings.NewReader(tc.answers), Out: &out}
		c := cfg
		c.KnownHosts = kh + ".new" // empty: every key is unknown
		c.Confirm = p.Confirm
		errs := CheckHostKeys(context.Background(), []ssh.Config{c})
		if (errs[0] == nil) != tc.ok {
			t.Errorf("answers %q: dial error %v, want ok %v", tc.answers, errs[0], tc.ok)
		}
		if !strings.Contains(out.String(), "ssh-ed25519 key fingerprint is SHA256:") ||
			!strings.Contains(out.String(), "(yes/no)? ") {
			t.Errorf("answers %q: the prompt was\n%s", tc.answers, out.String())
		}
		if asked, want := strings.Count(out.String(), "(yes/no)? "), max(strings.Count(tc.answers, "\n"), 1); asked != want {
			t.Errorf("answers %q: asked %d times, want %d:\n%s", tc.answers, asked, want, out.String())
		}
	}
}
