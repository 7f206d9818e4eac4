package store

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// memoryHistory is Memory's history, under Memory's lock: the same window
// and cap as DB's, the same order (time, then arrival). Memory has no
// pruner of its own: it prunes by age each time the events it is given
// reach a minute past its last pass, on their own clock, so a dry run
// stays bounded too.
type memoryHistory struct {
	opts     historyOptions
	byTarget map[string][]memoryEvent // oldest first
	seq      uint64
	pruned   time.Time // when put last pruned by age
	gap      time.Time // the latest HistoryGap applied
}

type memoryEvent struct {
	ev  engine.HistoryEvent
	seq uint64
}

// SetHistory bounds the history as WithHistory does for DB.
func (m *Memory) SetHistory(window time.Duration, perTarget int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var o options
	o.history = m.hist.opts
	WithHistory(window, perTarget)(&o)
	m.hist.opts = o.history
}

func (h *memoryHistory) put(evs []engine.HistoryEvent) {
	if h.opts.window < 0 || len(evs) == 0 {
		return
	}
	var latest time.Time
	touched := map[string]bool{}
	for _, ev := range evs {
		ev.Time, ev.Last = storedTime(ev.Time), storedTime(ev.Last)
		if list := h.byTarget[ev.Target]; len(list) > 0 && engine.HistoryAlike(list[len(list)-1].ev, ev) &&
			!ev.Time.Before(list[len(list)-1].ev.Time) {
			last := &list[len(list)-1].ev // folded, as DB folds it (see foldHistory)
			last.Repeats += 1 + ev.Repeats
			last.LastAlertID, last.Last = ev.AlertID, ev.Time
			if ev.Repeats > 0 {
				last.LastAlertID, last.Last = ev.LastAlertID, ev.Last
			}
			touched[ev.Target] = true
			continue
		}
		h.seq++
		list := append(h.byTarget[ev.Target], memoryEvent{ev: ev, seq: h.seq})
		if n := len(list); n > 1 && list[n-2].ev.Time.After(ev.Time) { // rare: keep time order
			slices.SortStableFunc(list, func(a, b memoryEvent) int {
				return cmp.Or(a.ev.Time.Compare(b.ev.Time), cmp.Compare(a.seq, b.seq))
			})
		}
		h.byTarget[ev.Target] = list
		touched[ev.Target] = true
		if ev.Time.After(latest) {
			latest = ev.Time
		}
	}
	for t := range touched {
		if list := h.byTarget[t]; len(list) > h.opts.perTarget {
			h.byTarget[t] = slices.Clone(list[len(list)-h.opts.perTarget:])
		}
	}
	if !latest.Before(h.pruned.Add(h.opts.every)) {
		h.prune(latest)
	}
}

// prune deletes the events older than the window at now.
func (h *memoryHistory) prune(now time.Time) int {
	h.pruned = now
	cutoff := now.Add(-h.opts.window)
	if h.opts.window < 0 {
		cutoff = now.Add(time.Nanosecond)
	}
	n := 0
	for t, list := range h.byTarget {
		keep := slices.DeleteFunc(slices.Clone(list), func(m memoryEvent) bool {
			old := m.ev.Time.Before(cutoff) && (m.ev.Repeats == 0 || m.ev.Last.Before(cutoff)) // as DB prunes
			if old {
				n++
			}
			return old
		})
		if len(keep) == 0 {
			delete(h.byTarget, t)
		} else {
			h.byTarget[t] = keep
		}
	}
	return n
}

// History returns the events kept for target, oldest first.
func (m *Memory) History(target string) ([]engine.HistoryEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("history: %w", ErrClosed)
	}
	var out []engine.HistoryEvent
	for _, e := range m.hist.byTarget[target] {
		out = append(out, e.ev)
	}
	return out, nil
}

// HistoryGap returns the latest time events were dropped, as DB's does.
func (m *Memory) HistoryGap() (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return time.Time{}, fmt.Errorf("history gap: %w", ErrClosed)
	}
	return m.hist.opts.inWindow(m.hist.gap), nil
}

// PruneHistory deletes the events older than the window at now and
// returns how many, as DB's does.
func (m *Memory) PruneHistory(now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, fmt.Errorf("prune history: %w", ErrClosed)
	}
	return m.hist.prune(now), nil
}
