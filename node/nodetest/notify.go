package nodetest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// NotifyRun is one notify script that Notify ran.
type NotifyRun struct {
	Argv       []string
	User       string
	Start, End time.Time
}

// Notify is a node.NotifyRunner that runs nothing: each script takes
// Took(argv) (nil: no time), exits 0 and is recorded.
type Notify struct {
	Took func(argv []string) time.Duration

	mu   sync.Mutex
	runs []NotifyRun
}

// Run implements node.NotifyRunner.
func (f *Notify) Run(ctx context.Context, argv []string, user string) (int, []byte, error) {
	start := time.Now()
	var d time.Duration
	if f.Took != nil {
		d = f.Took(argv)
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return -1, nil, ctx.Err()
	}
	f.mu.Lock()
	f.runs = append(f.runs, NotifyRun{Argv: argv, User: user, Start: start, End: time.Now()})
	f.mu.Unlock()
	return 0, []byte("ok"), nil
}

// Runs returns the scripts run so far, in order.
func (f *Notify) Runs() []NotifyRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.runs)
}
