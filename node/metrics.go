package node

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/node/guard"
	"github.com/vipkit/vip/vrrp"
)

// Metric names of the Prometheus exposition (`vipd -metrics ADDR`).
const (
	MetricState           = "vipd_vrrp_state"                   // gauge {instance, state}: 1 for the current state
	MetricTransitions     = "vipd_vrrp_transitions_total"       // counter {instance}
	MetricAdvertsReceived = "vipd_vrrp_adverts_received_total"  // counter {instance}
	MetricAdvertsSent     = "vipd_vrrp_adverts_sent_total"      // counter {instance}
	MetricDrops           = "vipd_vrrp_drops_total"             // counter {instance, reason}
	MetricVIPPresent      = "vipd_vrrp_vip_present"             // gauge {instance}: every VIP on the interface
	MetricStrangers       = "vipd_vrrp_stranger_packets_total"  // counter {instance}: from hosts that are not peers
	MetricAddressMismatch = "vipd_vrrp_address_mismatch_total"  // counter {instance}: adverts listing other VIPs than ours
	MetricKernelDrops     = "vipd_vrrp_kernel_drops_total"      // counter {instance}: dropped by the kernel, receive buffer full
	MetricGuardHealthy    = "vipd_guard_healthy"                // gauge {guard}
	MetricGuardRestarts   = "vipd_guard_restarts_total"         // counter {guard}: nginx restart attempts
	MetricChecks          = "vipd_guard_checks_total"           // counter {guard, result}
	MetricCheckDuration   = "vipd_guard_check_duration_seconds" // histogram {guard}
	MetricNotifyRuns      = "vipd_notify_runs_total"            // counter {hook, result}
)

// checkBuckets are the upper bounds of MetricCheckDuration, in seconds: a
// local nginx answers in about a millisecond; the guard's timeout is 0.15 s.
var checkBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1}

// metrics holds what Status does not: check results and latencies and
// notify runs. It belongs to one Daemon and is registered nowhere: the
// registry is the caller's (cmd/vipd's is pedantic).
type metrics struct {
	checks        *prometheus.CounterVec
	checkDuration *prometheus.HistogramVec
	notify        *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricChecks, Help: "Scheduled guard checks, by result.",
		}, []string{"guard", "result"}),
		checkDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: MetricCheckDuration, Help: "Duration of scheduled guard checks.", Buckets: checkBuckets,
		}, []string{"guard"}),
		notify: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricNotifyRuns, Help: "Notify scripts run, by hook and result (ok, exit_nonzero, error).",
		}, []string{"hook", "result"}),
	}
}

func (m *metrics) observe(name string, r guard.Result) {
	ok, fail := m.checks.WithLabelValues(name, "ok"), m.checks.WithLabelValues(name, "fail")
	if r.OK {
		ok.Inc()
	} else {
		fail.Inc() // both exist from the first check on: a rate of 0 is an answer
	}
	m.checkDuration.WithLabelValues(name).Observe(r.Latency.Seconds())
}

func (m *metrics) notified(n control.Notify) {
	result := "ok"
	switch {
	case n.Error != "":
		result = "error"
	case n.Exit != 0:
		result = "exit_nonzero"
	}
	m.notify.WithLabelValues(n.Hook, result).Inc()
}

// The families read from Status at each scrape.
var (
	descState = prometheus.NewDesc(MetricState,
		"VRRP state of the instance: 1 for the current state, 0 for the others.", []string{"instance", "state"}, nil)
	descTransitions = prometheus.NewDesc(MetricTransitions,
		"VRRP state changes since vipd started.", []string{"instance"}, nil)
	descAdvertsReceived = prometheus.NewDesc(MetricAdvertsReceived,
		"VRRP adverts accepted.", []string{"instance"}, nil)
	descAdvertsSent = prometheus.NewDesc(MetricAdvertsSent,
		"VRRP adverts sent.", []string{"instance"}, nil)
	descDrops = prometheus.NewDesc(MetricDrops,
		"Received VRRP packets not obeyed, by reason.", []string{"instance", "reason"}, nil)
	descStrangers = prometheus.NewDesc(MetricStrangers,
		"VRRP packets from hosts that are not peers: unicast_peer drops, or multicast adverts from a source never heard as a peer.", []string{"instance"}, nil)
	descAddressMismatch = prometheus.NewDesc(MetricAddressMismatch,
		"Accepted VRRP adverts whose virtual addresses differ, as a set, from this instance's (a rolling VIP change passes through it).", []string{"instance"}, nil)
	descKernelDrops = prometheus.NewDesc(MetricKernelDrops,
		"VRRP packets the kernel dropped from the instance's socket (shared per interface and family) because its receive buffer was full.", []string{"instance"}, nil)
	descVIPPresent = prometheus.NewDesc(MetricVIPPresent,
		"1 when every VIP of the instance is on its interface, as the kernel says.", []string{"instance"}, nil)
	descGuardHealthy = prometheus.NewDesc(MetricGuardHealthy,
		"1 when the guard's verdict is healthy.", []string{"guard"}, nil)
	descGuardRestarts = prometheus.NewDesc(MetricGuardRestarts,
		"nginx restart attempts.", []string{"guard"}, nil)
)

// Collector is the daemon's metrics for a prometheus.Registerer: the
// engine's and guards' from Status, the checks' and notify runs' from
// their counters.
func (d *Daemon) Collector() prometheus.Collector { return collector{d} }

type collector struct{ d *Daemon }

var _ prometheus.Collector = collector{}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descTransitions, descAdvertsReceived, descAdvertsSent,
		descDrops, descStrangers, descAddressMismatch, descKernelDrops, descVIPPresent, descGuardHealthy, descGuardRestarts} {
		ch <- d
	}
	c.d.metrics.checks.Describe(ch)
	c.d.metrics.checkDuration.Describe(ch)
	c.d.metrics.notify.Describe(ch)
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.d.Status()
	emit := func(desc *prometheus.Desc, typ prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, typ, v, labels...)
	}
	for _, in := range st.Instances {
		for _, s := range []vrrp.State{vrrp.StateInit, vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault} {
			emit(descState, prometheus.GaugeValue, b2f(string(in.State) == s.String()), in.Name, s.String())
		}
		emit(descTransitions, prometheus.CounterValue, float64(in.Transitions), in.Name)
		emit(descAdvertsReceived, prometheus.CounterValue, float64(in.Stats.AdvertRcvd), in.Name)
		emit(descAdvertsSent, prometheus.CounterValue, float64(in.Stats.AdvertSent), in.Name)
		for _, r := range vrrp.DropReasons() {
			emit(descDrops, prometheus.CounterValue, float64(in.Stats.Drops[r.String()]), in.Name, r.String())
		}
		emit(descStrangers, prometheus.CounterValue, float64(in.Stats.Strangers), in.Name)
		emit(descAddressMismatch, prometheus.CounterValue, float64(in.Stats.AddressMismatch), in.Name)
		emit(descKernelDrops, prometheus.CounterValue, float64(in.Stats.KernelDrops), in.Name)
		emit(descVIPPresent, prometheus.GaugeValue, b2f(in.VIPPresent), in.Name)
	}
	guards := st.Scripts
	if st.Nginx != nil {
		guards = append([]control.Guard{*st.Nginx}, guards...)
	}
	for _, g := range guards {
		emit(descGuardHealthy, prometheus.GaugeValue, b2f(g.Healthy), g.Name)
		emit(descGuardRestarts, prometheus.CounterValue, float64(g.Restarts), g.Name)
	}
	c.d.metrics.checks.Collect(ch)
	c.d.metrics.checkDuration.Collect(ch)
	c.d.metrics.notify.Collect(ch)
}

// MetricsHandler serves g's metrics at /metrics, for GET and HEAD only:
// any other path is 404, any other method 405.
func MetricsHandler(g prometheus.Gatherer, errorLog promhttp.Logger) http.Handler {
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: errorLog})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h) // GET patterns match HEAD too
	return mux
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
