package engine

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// timers fires each scheduled entry generation at its expiry. Rescheduling
// a key simply pushes a new item; stale items are recognised by the table
// when they fire (generation or expiry no longer match), so nothing is ever
// removed from the heap early.
type timers struct {
	mu    sync.Mutex
	items timerHeap
	wake  chan struct{}
}

type timerItem struct {
	at  time.Time
	ref EntryRef
}

type timerHeap []timerItem

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerItem)) }
func (h *timerHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func newTimers() *timers {
	return &timers{wake: make(chan struct{}, 1)}
}

func (t *timers) schedule(at time.Time, ref EntryRef) {
	t.mu.Lock()
	heap.Push(&t.items, timerItem{at: at, ref: ref})
	first := t.items[0].ref == ref && t.items[0].at.Equal(at)
	t.mu.Unlock()
	if first {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// scheduleEntries schedules the expiry of every entry at once: one heap
// build instead of a push each (a reboot brings back 100,000 of them).
func (t *timers) scheduleEntries(entries []Entry) {
	items := make([]timerItem, len(entries))
	for i, en := range entries {
		items[i] = timerItem{at: en.Expires, ref: EntryRef{Key: en.Key, Seq: en.Seq}}
	}
	t.scheduleItems(items)
}

// scheduleItems schedules many items: pushed one by one when they are few
// against the heap, in one heap build otherwise.
func (t *timers) scheduleItems(items []timerItem) {
	if len(items) == 0 {
		return
	}
	t.mu.Lock()
	if len(items) < len(t.items)/8 {
		for _, it := range items {
			heap.Push(&t.items, it)
		}
	} else {
		t.items = append(t.items, items...)
		heap.Init(&t.items)
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// due pops every item whose time has come and returns the wait until the next.
func (t *timers) due(now time.Time) ([]EntryRef, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var refs []EntryRef
	for len(t.items) > 0 && !t.items[0].at.After(now) {
		refs = append(refs, heap.Pop(&t.items).(timerItem).ref)
	}
	if len(t.items) == 0 {
		return refs, time.Hour
	}
	return refs, t.items[0].at.Sub(now)
}

// run calls fire for every due item until ctx is done.
func (t *timers) run(ctx context.Context, now func() time.Time, fire func(EntryRef)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		refs, wait := t.due(now())
		for _, r := range refs {
			fire(r)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-t.wake:
		}
	}
}
