package node

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

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
	MetricGuardHealthy    = "vipd_guard_healthy"                // gauge {guard}
	MetricGuardRestarts   = "vipd_guard_restarts_total"         // counter {guard}: nginx restart attempts
	MetricChecks          = "vipd_guard_checks_total"           // counter {guard, result}
	MetricCheckDuration   = "vipd_guard_check_duration_seconds" // histogram {guard}
	MetricNotifyRuns      = "vipd_notify_runs_total"            // counter {hook, result}
)

// checkBuckets are the upper bounds of MetricCheckDuration, in seconds: a
// local nginx answers in about a millisecond; the guard's timeout is 0.15 s.
var checkBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1}

// metrics holds what Status does not: check latencies and notify runs.
// It belongs to one Daemon; nothing is global.
type metrics struct {
	mu     sync.Mutex
	checks map[string]*histogram
	notify map[[2]string]uint64 // {hook, result}
}

type histogram struct {
	counts   []uint64 // per bucket, not cumulative
	sum      float64
	ok, fail uint64
}

func newMetrics() *metrics {
	return &metrics{checks: map[string]*histogram{}, notify: map[[2]string]uint64{}}
}

func (m *metrics) observe(name string, r guard.Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.checks[name]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(checkBuckets)+1)}
		m.checks[name] = h
	}
	s := r.Latency.Seconds()
	i, _ := slices.BinarySearch(checkBuckets, s)
	h.counts[i]++
	h.sum += s
	if r.OK {
		h.ok++
	} else {
		h.fail++
	}
}

func (m *metrics) notified(n control.Notify) {
	result := "ok"
	switch {
	case n.Error != "":
		result = "error"
	case n.Exit != 0:
		result = "exit_nonzero"
	}
	m.mu.Lock()
	m.notify[[2]string{n.Hook, result}]++
	m.mu.Unlock()
}

// MetricsHandler serves WriteMetrics over HTTP.
func (d *Daemon) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = d.WriteMetrics(w)
	})
}

// WriteMetrics writes the metrics in the Prometheus text exposition format.
func (d *Daemon) WriteMetrics(w io.Writer) error {
	st := d.Status()
	e := &expo{w: bufio.NewWriter(w)}

	e.family(MetricState, "gauge", "VRRP state of the instance: 1 for the current state, 0 for the others.")
	for _, in := range st.Instances {
		for _, s := range []vrrp.State{vrrp.StateInit, vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault} {
			e.sample(MetricState, labels("instance", in.Name, "state", s.String()), b2f(string(in.State) == s.String()))
		}
	}
	e.family(MetricTransitions, "counter", "VRRP state changes since vipd started.")
	for _, in := range st.Instances {
		e.sample(MetricTransitions, labels("instance", in.Name), float64(in.Transitions))
	}
	e.family(MetricAdvertsReceived, "counter", "VRRP adverts accepted.")
	for _, in := range st.Instances {
		e.sample(MetricAdvertsReceived, labels("instance", in.Name), float64(in.Stats.AdvertRcvd))
	}
	e.family(MetricAdvertsSent, "counter", "VRRP adverts sent.")
	for _, in := range st.Instances {
		e.sample(MetricAdvertsSent, labels("instance", in.Name), float64(in.Stats.AdvertSent))
	}
	e.family(MetricDrops, "counter", "Received VRRP packets not obeyed, by reason.")
	for _, in := range st.Instances {
		for _, r := range vrrp.DropReasons() {
			e.sample(MetricDrops, labels("instance", in.Name, "reason", r.String()), float64(in.Stats.Drops[r.String()]))
		}
	}
	e.family(MetricVIPPresent, "gauge", "1 when every VIP of the instance is on its interface, as the kernel says.")
	for _, in := range st.Instances {
		e.sample(MetricVIPPresent, labels("instance", in.Name), b2f(in.VIPPresent))
	}

	guards := st.Scripts
	if st.Nginx != nil {
		guards = append([]control.Guard{*st.Nginx}, guards...)
	}
	e.family(MetricGuardHealthy, "gauge", "1 when the guard's verdict is healthy.")
	for _, g := range guards {
		e.sample(MetricGuardHealthy, labels("guard", g.Name), b2f(g.Healthy))
	}
	e.family(MetricGuardRestarts, "counter", "nginx restart attempts.")
	for _, g := range guards {
		e.sample(MetricGuardRestarts, labels("guard", g.Name), float64(g.Restarts))
	}

	d.metrics.mu.Lock()
	names := make([]string, 0, len(d.metrics.checks))
	for n := range d.metrics.checks {
		names = append(names, n)
	}
	slices.Sort(names)
	e.family(MetricChecks, "counter", "Scheduled guard checks, by result.")
	for _, n := range names {
		h := d.metrics.checks[n]
		e.sample(MetricChecks, labels("guard", n, "result", "ok"), float64(h.ok))
		e.sample(MetricChecks, labels("guard", n, "result", "fail"), float64(h.fail))
	}
	e.family(MetricCheckDuration, "histogram", "Duration of scheduled guard checks.")
	for _, n := range names {
		h := d.metrics.checks[n]
		var cum uint64
		for i, le := range checkBuckets {
			cum += h.counts[i]
			e.sample(MetricCheckDuration+"_bucket", labels("guard", n, "le", strconv.FormatFloat(le, 'g', -1, 64)), float64(cum))
		}
		cum += h.counts[len(checkBuckets)]
		e.sample(MetricCheckDuration+"_bucket", labels("guard", n, "le", "+Inf"), float64(cum))
		e.sample(MetricCheckDuration+"_sum", labels("guard", n), h.sum)
		e.sample(MetricCheckDuration+"_count", labels("guard", n), float64(cum))
	}
	keys := make([][2]string, 0, len(d.metrics.notify))
	for k := range d.metrics.notify {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	e.family(MetricNotifyRuns, "counter", "Notify scripts run, by hook and result (ok, exit_nonzero, error).")
	for _, k := range keys {
		e.sample(MetricNotifyRuns, labels("hook", k[0], "result", k[1]), float64(d.metrics.notify[k]))
	}
	d.metrics.mu.Unlock()
	return e.flush()
}

// expo writes the text exposition format (version 0.0.4).
type expo struct {
	w   *bufio.Writer
	err error
}

func (e *expo) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *expo) family(name, typ, help string) {
	e.printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func (e *expo) sample(name, labels string, v float64) {
	e.printf("%s%s %s\n", name, labels, strconv.FormatFloat(v, 'g', -1, 64))
}

func (e *expo) flush() error {
	if e.err != nil {
		return e.err
	}
	return e.w.Flush()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// labels formats name/value pairs as {a="x",b="y"}.
func labels(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(kv[i+1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
