package control

import (
	"context"
	"sync"
	"time"
)

// DefaultHubBuffer is a Hub watcher's channel capacity unless Hub.Buffer
// says otherwise.
const DefaultHubBuffer = 64

// Hub fans events out to watchers for a Handler's Watch. Publish never
// blocks: a watcher whose channel is full has missed an event, and a gap
// cannot be repaired, so the hub closes its channel (Serve then tells the
// client to reconnect for a fresh snapshot) and counts it. The zero Hub is
// ready to use.
//
// A Handler's Watch subscribes first and takes its snapshot after, so that
// no change falls between the two; an event already reflected in the
// snapshot may follow it, which is harmless:
//
//	func (d *daemon) Watch(ctx context.Context) (control.Status, <-chan control.Event, error) {
//		events := d.hub.Subscribe(ctx)
//		return d.Status(), events, nil
//	}
type Hub struct {
	Buffer int // per-watcher channel capacity; 0 means DefaultHubBuffer

	mu      sync.Mutex
	subs    map[chan Event]struct{}
	dropped uint64
}

// Subscribe returns a channel that receives every event published from now
// until ctx is done or the watcher falls behind; then it is closed.
func (h *Hub) Subscribe(ctx context.Context) <-chan Event {
	n := h.Buffer
	if n <= 0 {
		n = DefaultHubBuffer
	}
	ch := make(chan Event, n)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = make(map[chan Event]struct{})
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
	})
	return ch
}

// Publish sends ev to every watcher without blocking, stamping Time if it
// is zero. Watchers share ev: treat events as read-only.
func (h *Hub) Publish(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
			delete(h.subs, ch)
			close(ch)
			h.dropped++
		}
	}
}

// Watchers returns the number of current watchers.
func (h *Hub) Watchers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Dropped returns how many watchers were cut off for falling behind.
func (h *Hub) Dropped() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}
