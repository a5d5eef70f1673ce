package node

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/vrrp"
)

// scrape serves the daemon's collector from a pedantic registry, as
// cmd/vipd does, and GETs /metrics.
func scrape(t *testing.T, d *Daemon) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(d.Collector())
	rec := httptest.NewRecorder()
	MetricsHandler(reg, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", rec.Code, rec.Body)
	}
	out := rec.Body.String()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(out))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, out)
	}
	return out, fams
}

// checkFamilies: every family of the Metric constants, with its type, and
// the histogram's buckets (TestMetrics scrapes the sim lab's master).
func checkFamilies(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	for name, typ := range map[string]dto.MetricType{
		MetricState:           dto.MetricType_GAUGE,
		MetricTransitions:     dto.MetricType_COUNTER,
		MetricAdvertsReceived: dto.MetricType_COUNTER,
		MetricAdvertsSent:     dto.MetricType_COUNTER,
		MetricDrops:           dto.MetricType_COUNTER,
		MetricStrangers:       dto.MetricType_COUNTER,
		MetricAddressMismatch: dto.MetricType_COUNTER,
		MetricKernelDrops:     dto.MetricType_COUNTER,
		MetricVIPPresent:      dto.MetricType_GAUGE,
		MetricGuardHealthy:    dto.MetricType_GAUGE,
		MetricGuardRestarts:   dto.MetricType_COUNTER,
		MetricChecks:          dto.MetricType_COUNTER,
		MetricCheckDuration:   dto.MetricType_HISTOGRAM,
		MetricNotifyRuns:      dto.MetricType_COUNTER,
	} {
		f := fams[name]
		switch {
		case f == nil:
			t.Errorf("no family %s", name)
		case f.GetType() != typ:
			t.Errorf("%s is a %v, want %v", name, f.GetType(), typ)
		case f.GetHelp() == "" || len(f.GetMetric()) == 0:
			t.Errorf("%s: help %q, %d samples", name, f.GetHelp(), len(f.GetMetric()))
		}
	}
	if f := fams[MetricCheckDuration]; f != nil && len(f.GetMetric()) > 0 {
		h := f.GetMetric()[0].GetHistogram()
		if got := len(h.GetBucket()); got != len(checkBuckets)+1 { // and +Inf
			t.Errorf("%d buckets, want %d and +Inf", got, len(checkBuckets))
		}
		if h.GetSampleCount() == 0 {
			t.Error("no check observed")
		}
	}
}

func TestMetricsHandlerRoutes(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"}))
	h := MetricsHandler(reg, nil)
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/metrics", http.StatusOK},
		{http.MethodHead, "/metrics", http.StatusOK},
		{http.MethodPost, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/metrics/", http.StatusNotFound},
		{http.MethodGet, "/debug/pprof/", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusNotFound},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.code {
				t.Errorf("%d, want %d", rec.Code, tc.code)
			}
			if tc.code == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow: %q", rec.Header().Get("Allow"))
			}
		})
	}
}

// TestStrangerMetric: a host that is not a peer sends the pair's VRID and
// password at priority 255 for 4 s (issue 13's stranger): the master keeps
// the VIP (vipd runs with vrrp.DefaultStrangerHold), and the metric and the
// status name it on both nodes.
func TestStrangerMetric(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, ""))
		}
		m := l.settle()
		stranger := netip.MustParseAddr("198.51.100.50")
		adv := vrrp.Advertisement{Version: vrrp.Version2, VRID: 60, Priority: 255, Interval: time.Second,
			AuthType: vrrp.AuthSimple, AuthData: vrrp.AuthData("qwert123"), Addresses: []netip.Addr{simVIP.Addr()}}
		b, err := adv.Append(nil, stranger, vrrp.Group)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		for range 4 {
			l.net.Segment("eth0").Inject(packet(stranger, b))
			time.Sleep(time.Second)
		}
		synctest.Wait()
		if st := m.state("VI_1"); st != control.StateMaster || !m.holds("eth0", simVIP) {
			t.Errorf("master is %v after the stranger, holds the VIP: %v", st, m.holds("eth0", simVIP))
		}
		for _, n := range l.nodes {
			in := n.inst("VI_1")
			if in.Stranger != stranger || in.StrangerAt.Before(t0) || in.Stats.Strangers != 4 {
				t.Errorf("status: stranger %v at %v, %d packets; want %v, 4", in.Stranger, in.StrangerAt, in.Stats.Strangers, stranger)
			}
			out, _ := scrape(t, n.d)
			if want := MetricStrangers + `{instance="VI_1"} 4` + "\n"; !strings.Contains(out, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	})
}

// TestAddressMismatchMetric: the backup hears its master advertise a VIP
// list other than its own (a rolling VIP change half done): the advert is
// still obeyed, and the metric and the status name the peer and its list.
func TestAddressMismatchMetric(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSimLab(t, 2, "eth0")
		for i, n := range l.nodes {
			n.write(simConf(i, ""))
		}
		m := l.settle()
		var src netip.Addr
		var backup *simNode
		for i, n := range l.nodes {
			if n == m {
				src = simAddr(i)
			} else {
				backup = n
			}
		}
		extra := netip.MustParseAddr("198.51.100.101")
		adv := vrrp.Advertisement{Version: vrrp.Version2, VRID: 60, Priority: 100, Interval: time.Second,
			AuthType: vrrp.AuthSimple, AuthData: vrrp.AuthData("qwert123"), Addresses: []netip.Addr{extra, simVIP.Addr()}}
		b, err := adv.Append(nil, src, vrrp.Group)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		for range 3 {
			l.net.Segment("eth0").Inject(packet(src, b))
			time.Sleep(100 * time.Millisecond)
		}
		synctest.Wait()
		in := backup.inst("VI_1")
		if in.State != control.StateBackup || in.MismatchPeer != src || in.MismatchAt.Before(t0) || in.Stats.AddressMismatch != 3 ||
			len(in.MismatchAddresses) != 2 || in.MismatchAddresses[0] != simVIP.Addr() || in.MismatchAddresses[1] != extra {
			t.Errorf("status: %v, mismatch %v %v at %v, %d adverts; want BACKUP, %v [%v %v], 3",
				in.State, in.MismatchPeer, in.MismatchAddresses, in.MismatchAt, in.Stats.AddressMismatch, src, simVIP.Addr(), extra)
		}
		out, _ := scrape(t, backup.d)
		if want := MetricAddressMismatch + `{instance="VI_1"} 3` + "\n"; !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
		if out, _ := scrape(t, m.d); !strings.Contains(out, MetricAddressMismatch+`{instance="VI_1"} 0`+"\n") {
			t.Errorf("the master's metrics lack %s 0", MetricAddressMismatch)
		}
	})
}
