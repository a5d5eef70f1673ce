package feed

import (
	"context"
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
