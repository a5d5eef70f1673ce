package node

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/sync/errgroup"
)

func TestTask(t *testing.T) {
	tests := []struct {
		name    string
		err     error // what the task returns once cancelled
		stop    bool  // stopped on its own, else by the group's context
		wantErr error
	}{
		{name: "stopped on its own, nil", stop: true},
		{name: "stopped with the group", stop: false},
		{name: "its error reaches Wait", err: errors.New("broken"), stop: true, wantErr: errors.New("broken")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			g, gctx := errgroup.WithContext(ctx)
			other := goTask(g, gctx, func(ctx context.Context) error { <-ctx.Done(); return nil })
			tk := goTask(g, gctx, func(ctx context.Context) error { <-ctx.Done(); return tt.err })
			if tt.stop {
				tk.stop() // returns once Run has
				select {
				case <-tk.done:
				default:
					t.Fatal("stop returned before Run")
				}
				if gctx.Err() == nil && tt.err != nil {
					t.Error("a task's error did not cancel the group")
				}
				if gctx.Err() != nil && tt.err == nil {
					t.Error("stopping one task stopped the group")
				}
			}
			cancel()
			other.stop()
			err := g.Wait()
			if (err == nil) != (tt.wantErr == nil) || err != nil && err.Error() != tt.wantErr.Error() {
				t.Errorf("Wait = %v, want %v", err, tt.wantErr)
			}
			(*task)(nil).stop() // a task that never ran
		})
	}
}
