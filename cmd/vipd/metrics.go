package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vipkit/vip/node"
)

// metricsHandler is vipd's /metrics: the daemon's families beside the
// process's (resident memory, CPU, open fds) and the Go runtime's
// (goroutines, GC), from a pedantic registry, which checks each scrape
// against what the collectors describe: a family exposed wrongly fails
// the scrape, and so the tests, instead of reaching a dashboard.
func metricsHandler(d *node.Daemon, log *slog.Logger) http.Handler {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister( // three distinct collectors: cannot collide
		d.Collector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	return node.MetricsHandler(reg, promLog{log})
}

// promLog is promhttp's error log on slog.
type promLog struct{ log *slog.Logger }

func (l promLog) Println(v ...any) { l.log.Error("metrics scrape failed", "err", fmt.Sprint(v...)) }
