package vrrp

import (
	"container/heap"
	"time"
)

// coalesce is how early a Mux fires an instance's protocol timer to fire it
// with others due at about the same time (at most a hundredth of the advert
// interval): a millisecond of a Master_Down_Interval is no change to the
// protocol.
const coalesce = time.Millisecond

// advertCoalesce is the part of the advert interval by which a MASTER's
// advert may go out early to go with others. An advert a tenth early only
// tells the backups a little sooner that the master lives (they wait three
// intervals), and it bounds a Mux's wake-ups for adverts to about ten an
// interval however many instances it runs: at 100 instances of 0.1 s, a
// millisecond's slack still left one wake-up for every two adverts.
const advertCoalesce = 10

// slack is how early i's next timer may fire on a Mux.
func (i *Instance) slack() time.Duration {
	if i.nextTimer == timerAdvert {
		return i.cfg.Interval / advertCoalesce
	}
	return min(coalesce, i.cfg.Interval/100)
}

// timerHeap is a Mux's instances ordered by their earliest deadline, so
// that its loop sleeps until the first of them and finds the due ones
// without looking at the rest.
type timerHeap []*Instance

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(a, b int) bool { return h[a].next.Before(h[b].next) }
func (h timerHeap) Swap(a, b int) {
	h[a], h[b] = h[b], h[a]
	h[a].heapIdx, h[b].heapIdx = a, b
}

func (h *timerHeap) Push(x any) {
	i := x.(*Instance)
	i.heapIdx = len(*h)
	*h = append(*h, i)
}

func (h *timerHeap) Pop() any {
	old := *h
	i := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	i.heapIdx = -1
	return i
}

// next returns the earliest deadline, or the zero time when none is set.
func (h timerHeap) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].next
}

// update puts i where its earliest deadline says, or out when it has none.
func (h *timerHeap) update(i *Instance) {
	t, ok := i.earliest()
	if !ok {
		h.remove(i)
		return
	}
	i.next, i.nextTimer = i.deadlines[t], t
	if i.heapIdx < 0 {
		heap.Push(h, i)
		return
	}
	heap.Fix(h, i.heapIdx)
}

func (h *timerHeap) remove(i *Instance) {
	if i.heapIdx >= 0 {
		heap.Remove(h, i.heapIdx)
	}
}
