package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vipkit/vip/node"
	"github.com/vipkit/vip/node/nodetest"
)

const metricsConf = `vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 60
    nopreempt
    advert_int 0.1
    version 3
    virtual_ipaddress {
        198.51.100.100/24
    }
    notify_master /bin/true
}
`

// TestMetricsScrape runs a daemon on the in-memory system until it is
// MASTER, serves metricsHandler on loopback as vipd -metrics does, and
// scrapes it: the daemon's families, the process's and the Go runtime's,
// each with its type; /metrics only, GET and HEAD only.
func TestMetricsScrape(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "vipd.conf")
	if err := os.WriteFile(conf, []byte(metricsConf), 0o644); err != nil {
		t.Fatal(err)
	}
	sys := nodetest.NewNetwork("eth0").System(netip.MustParseAddr("198.51.100.11"))
	log := slog.New(slog.DiscardHandler)
	d, err := node.New(node.Options{ConfigPath: conf, Logger: log, System: sys, Notify: &nodetest.Notify{}, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	srv := httptest.NewServer(metricsHandler(d, log))
	t.Cleanup(srv.Close)

	get := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, b := get(http.MethodGet, "/metrics")
		if code != http.StatusOK {
			t.Fatalf("GET /metrics: %d\n%s", code, b)
		}
		if body = b; strings.Contains(b, `vipd_vrrp_state{instance="VI_1",state="MASTER"} 1`) &&
			strings.Contains(b, `vipd_notify_runs_total{hook="notify_master",result="ok"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no MASTER with its notify run in 10s:\n%s", b)
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v", err)
	}
	for name, typ := range map[string]dto.MetricType{
		node.MetricState:                dto.MetricType_GAUGE,
		node.MetricTransitions:          dto.MetricType_COUNTER,
		node.MetricAdvertsReceived:      dto.MetricType_COUNTER,
		node.MetricAdvertsSent:          dto.MetricType_COUNTER,
		node.MetricDrops:                dto.MetricType_COUNTER,
		node.MetricVIPPresent:           dto.MetricType_GAUGE,
		node.MetricNotifyRuns:           dto.MetricType_COUNTER,
		"process_resident_memory_bytes": dto.MetricType_GAUGE,
		"process_cpu_seconds_total":     dto.MetricType_COUNTER,
		"process_open_fds":              dto.MetricType_GAUGE,
		"process_start_time_seconds":    dto.MetricType_GAUGE,
		"go_goroutines":                 dto.MetricType_GAUGE,
		"go_gc_duration_seconds":        dto.MetricType_SUMMARY,
		"go_memstats_heap_alloc_bytes":  dto.MetricType_GAUGE,
		"go_info":                       dto.MetricType_GAUGE,
	} {
		switch f := fams[name]; {
		case f == nil:
			t.Errorf("no family %s", name)
		case f.GetType() != typ:
			t.Errorf("%s is a %v, want %v", name, f.GetType(), typ)
		}
	}

	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodHead, "/metrics", http.StatusOK},
		{http.MethodPost, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodPut, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/metricsx", http.StatusNotFound},
		{http.MethodGet, "/debug/vars", http.StatusNotFound},
	} {
		if code, _ := get(tc.method, tc.path); code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, code, tc.code)
		}
	}
}
