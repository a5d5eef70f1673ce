package feed

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

func TestServedBy(t *testing.T) {
	for in, want := range map[string]string{
		"nginx-01":              "nginx-01",
		" web1.example.com ":    "web1.example.com",
		"":                      "",
		"two words":             "",
		"bad\x7f":               "",
		strings.Repeat("x", 65): "",
	} {
		if got := ServedBy(http.Header{"X-Served-By": {in}}); got != want {
			t.Errorf("ServedBy(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProbeOnce(t *testing.T) {
	var mu sync.Mutex
	status, body, header, delay := 200, "ok nginx-01\n", "", time.Duration(0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s, b, h, d := status, body, header, delay
		mu.Unlock()
		time.Sleep(d)
		if h != "" {
			w.Header().Set("X-Served-By", h)
		}
		w.WriteHeader(s)
		io.WriteString(w, b)
	}))
	defer srv.Close()
	set := func(s int, b, h string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		status, body, header, delay = s, b, h, d
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
		header  string
		delay   time.Duration
		ok      bool
		backend string
		from    string
		err     string
	}{
		{name: "the header names the node", status: 200, body: "<html>welcome", header: "web2", ok: true, backend: "web2", from: "X-Served-By"},
		{name: "the header before the body", status: 200, body: "ok nginx-01\n", header: "nginx-02", ok: true, backend: "nginx-02", from: "X-Served-By"},
		{name: "the lab nginx's body", status: 200, body: "ok nginx-01\n", ok: true, backend: "nginx-01", from: "body"},
		{name: "a real nginx names nobody", status: 200, body: "<html>", ok: true},
		{name: "server error", status: 502, body: "bad gateway", header: "web2", err: "status 502 Bad Gateway"},
		{name: "slow", status: 200, body: "ok nginx-01", delay: 400 * time.Millisecond, err: "no answer within 200ms"},
	} {
		set(tc.status, tc.body, tc.header, tc.delay)
		s := p.Once(context.Background())
		if s.OK != tc.ok || s.Backend != tc.backend || s.From != tc.from || (tc.err == "") != (s.Err == nil) ||
			(s.Err != nil && s.Err.Error() != tc.err) || s.Time.IsZero() || s.Latency <= 0 || s.Pace != DefaultProbeInterval {
			t.Errorf("%s: got %+v, want ok %v backend %q from %q err %q", tc.name, s, tc.ok, tc.backend, tc.from, tc.err)
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

// fakeNeighbors is a neighbour table.
type fakeNeighbors map[netip.Addr]net.HardwareAddr

func (f fakeNeighbors) Lookup(addrs []netip.Addr) (map[netip.Addr]net.HardwareAddr, error) {
	out := map[netip.Addr]net.HardwareAddr{}
	for _, a := range addrs {
		if m, ok := f[a]; ok {
			out[a] = m
		}
	}
	return out, nil
}

// Without X-Served-By, the VIP's MAC in the neighbour table names the
// node whose own address (or known MAC) has it; a MAC that is no single
// node's names nobody, and an off-link VIP has no entry.
func TestProbeMAC(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>") }))
	defer srv.Close()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	vip, n1, n2 := netip.MustParseAddr("198.51.100.100"), netip.MustParseAddr("198.51.100.11"), netip.MustParseAddr("198.51.100.12")
	mac1, mac2 := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}
	vmac := net.HardwareAddr{0, 0, 0x5e, 0, 1, 60}
	nodes := []ProbeNode{{Name: "nginx-01", Host: n1.String()}, {Name: "nginx-02", Host: "[" + n2.String() + "]"}}
	for _, tc := range []struct {
		name    string
		table   fakeNeighbors
		nodes   []ProbeNode
		backend string
		mac     net.HardwareAddr
	}{
		{"by the node's address", fakeNeighbors{vip: mac2, n1: mac1, n2: mac2}, nodes, "nginx-02", mac2},
		{"by a known MAC", fakeNeighbors{vip: mac1}, []ProbeNode{{Name: "nginx-01", MAC: mac1}, {Name: "nginx-02", MAC: mac2}}, "nginx-01", mac1},
		{"a virtual MAC is no node's", fakeNeighbors{vip: vmac, n1: mac1, n2: mac2}, nodes, "", vmac},
		{"the node's address not in the table", fakeNeighbors{vip: mac2, n1: mac1}, nodes, "", mac2},
		{"off-link: no entry for the VIP", fakeNeighbors{n1: mac1, n2: mac2}, nodes, "", nil},
	} {
		p := NewProbe(ProbeConfig{URL: "http://198.51.100.100/", Dial: dial, Neighbors: tc.table, Nodes: tc.nodes})
		s := p.Once(context.Background())
		from := ""
		if tc.backend != "" {
			from = "MAC " + tc.mac.String()
		}
		if !s.OK || s.Backend != tc.backend || s.From != from || !slices.Equal(s.MAC, tc.mac) {
			t.Errorf("%s: got %+v, want %q from %q, MAC %v", tc.name, s, tc.backend, from, tc.mac)
		}
	}
}

// Dense, the probe sends every few ms while earlier requests are under
// way; one that misses the dense timeout is decided failed at once and
// followed: its follow-up says it was a slow answer. Samples come out in
// the order they were sent; back to sparse, it slows down.
func TestProbeDense(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 5 {
			time.Sleep(60 * time.Millisecond) // one slow answer
		}
		w.Header().Set("X-Served-By", "nginx-01")
		io.WriteString(w, "ok\n")
	}))
	defer srv.Close()
	p := NewProbe(ProbeConfig{URL: srv.URL + "/", Interval: time.Hour, DenseInterval: 5 * time.Millisecond, DenseTimeout: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	first := <-p.Updates() // sparse, at once
	p.Dense(true)
	var got []ui.ProbeSample
	var follow *ui.ProbeSample
	deadline := time.After(10 * time.Second)
	for len(got) < 30 || follow == nil {
		select {
		case s := <-p.Updates():
			var timeout ui.ProbeTimeout
			if s.FollowUp && errors.As(s.Err, &timeout) && timeout.Late >= 60*time.Millisecond {
				follow = &s // the slow one's (a busy host may add more)
			} else if !s.FollowUp {
				got = append(got, s)
			}
		case <-deadline:
			t.Fatalf("after 10s: %d samples, follow-up %v", len(got), follow)
		}
	}
	p.Dense(false)
	cancel()
	for range p.Updates() {
	}
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if !first.OK || first.Pace != time.Hour {
		t.Errorf("the sparse sample %+v", first)
	}
	var failed []ui.ProbeSample
	for i, s := range got {
		if i > 0 && s.Time.Before(got[i-1].Time) {
			t.Errorf("sample %d sent at %v, before sample %d", i, s.Time, i-1)
		}
		if s.Pace != 5*time.Millisecond {
			t.Errorf("sample %d: pace %v", i, s.Pace)
		}
		if !s.OK {
			failed = append(failed, s)
		}
	}
	i := slices.IndexFunc(failed, func(s ui.ProbeSample) bool { return s.Time.Equal(follow.Time) })
	var timeout ui.ProbeTimeout
	if i < 0 || !failed[i].Followed || !errors.As(failed[i].Err, &timeout) || timeout.Late != 0 || timeout.After != 20*time.Millisecond {
		t.Fatalf("failed %+v, want the slow request among them, followed", failed)
	}
	if follow.OK || !strings.HasPrefix(follow.Err.Error(), "no answer within 20ms (answered after ") {
		t.Errorf("follow-up %+v (%v), want the slow answer's", follow, follow.Err)
	}
	if span := got[len(got)-1].Time.Sub(got[0].Time); span > time.Second {
		t.Errorf("30 dense samples took %v", span)
	}
}
