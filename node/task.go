package node

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// task is one long-lived Run(ctx) of the daemon (an instance's engine, a
// guard) on the daemon's errgroup, which a reload can also stop on its own.
type task struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// goTask runs run on g, under a context of its own below ctx.
func goTask(g *errgroup.Group, ctx context.Context, run func(context.Context) error) *task {
	ctx, cancel := context.WithCancel(ctx)
	t := &task{cancel: cancel, done: make(chan struct{})}
	g.Go(func() error {
		defer close(t.done)
		defer cancel()
		return run(ctx)
	})
	return t
}

// stop cancels the task and waits for its Run to return. A nil task never
// ran.
func (t *task) stop() {
	if t == nil {
		return
	}
	t.cancel()
	<-t.done
}
