package control

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestHub(t *testing.T) {
	var h Hub
	h.Buffer = 2
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fast := h.Subscribe(ctx)
	slow := h.Subscribe(ctx)
	gone, goneCancel := context.WithCancel(ctx)
	left := h.Subscribe(gone)
	goneCancel()
	waitFor(t, "the cancelled watcher to leave", func() bool { return h.Watchers() == 2 })
	if _, ok := <-left; ok {
		t.Fatal("a cancelled watcher's channel is open")
	}

	for i := range 3 {
		h.Publish(Event{Type: EventError, Error: fmt.Sprint(i)})
		ev := <-fast
		if ev.Error != fmt.Sprint(i) || ev.Time.IsZero() {
			t.Fatalf("fast watcher got %+v; want event %d, stamped", ev, i)
		}
	}
	// slow read nothing: two events fit, the third cut it off.
	for i := range 2 {
		if ev := <-slow; ev.Error != fmt.Sprint(i) {
			t.Fatalf("slow watcher got %+v; want event %d", ev, i)
		}
	}
	if _, ok := <-slow; ok {
		t.Fatal("the slow watcher's channel is open after it fell behind")
	}
	if h.Dropped() != 1 || h.Watchers() != 1 {
		t.Fatalf("Dropped %d, Watchers %d; want 1, 1", h.Dropped(), h.Watchers())
	}
	when := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h.Publish(Event{Type: EventError, Time: when})
	if ev := <-fast; !ev.Time.Equal(when) {
		t.Fatalf("Publish changed a set time to %v", ev.Time)
	}
	cancel()
	waitFor(t, "the last watcher to leave", func() bool { return h.Watchers() == 0 })
	h.Publish(Event{Type: EventError}) // nobody: no effect
}
