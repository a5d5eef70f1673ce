package control

import (
	"log/slog"
	"sync"
	"time"
)

// DefaultRefusalLogEvery is how often a Server logs refused requests of one
// reason: a client that sends garbage in a loop (573 lines in one test)
// must not fill the daemon's log.
const DefaultRefusalLogEvery = 10 * time.Second

// refusalLog writes at most one WARN per reason per interval. The lines it
// holds back are counted, and the next line of that reason says how many
// ("suppressed"). Reasons are a small fixed set chosen by the server, never
// a client's text, so the maps stay small.
type refusalLog struct {
	mu   sync.Mutex
	last map[string]time.Time
	held map[string]int
}

// warn logs msg with args unless a line of reason was logged less than
// every ago.
func (r *refusalLog) warn(log *slog.Logger, now time.Time, every time.Duration, reason, msg string, args ...any) {
	r.mu.Lock()
	if r.last == nil {
		r.last, r.held = map[string]time.Time{}, map[string]int{}
	}
	if t, ok := r.last[reason]; ok && now.Sub(t) < every {
		r.held[reason]++
		r.mu.Unlock()
		return
	}
	n := r.held[reason]
	r.last[reason], r.held[reason] = now, 0
	r.mu.Unlock()
	args = append(args, "reason", reason)
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	log.Warn(msg, args...)
}
