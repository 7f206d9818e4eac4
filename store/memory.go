package store

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Memory is an engine.Store that keeps its state in memory, for --dry-run and
// tests. It follows DB's rules (order within a Change, the Seq rule, Params
// kept apart from their entries, marks, validation, sort order of Load)
// and, like a round trip through DB, returns times in UTC without a
// monotonic reading and empty slices as nil. Nothing survives Close. Its
// methods are safe for concurrent use.
type Memory struct {
	mu        sync.Mutex
	closed    bool
	entries   map[string]engine.Entry // without their Params
	params    map[string][]byte       // by entry key
	marks     map[string]uint64       // Seq by entry key
	jobs      map[uint64]engine.Job
	offences  map[string]int
	positions map[string]engine.Position
	bootID    string
	hist      memoryHistory // history.go's rules, in memory_history.go
}

var (
	_ engine.Store         = (*Memory)(nil)
	_ engine.HistoryReader = (*Memory)(nil)
)

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{
		entries:   map[string]engine.Entry{},
		params:    map[string][]byte{},
		marks:     map[string]uint64{},
		jobs:      map[uint64]engine.Job{},
		offences:  map[string]int{},
		positions: map[string]engine.Position{},
		hist:      memoryHistory{opts: defaultHistory(), byTarget: map[string][]memoryEvent{}},
	}
}

// Apply writes c atomically: an invalid Change writes nothing.
func (m *Memory) Apply(c engine.Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("apply: %w", ErrClosed)
	}
	if err := validate(c); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	for _, j := range c.Jobs {
		m.jobs[j.ID] = cloneJob(j)
	}
	m.applyEntries(c)
	for _, id := range c.DoneJobs {
		delete(m.jobs, id)
	}
	m.setOffences(c.Offences)
	for _, p := range c.Positions {
		m.positions[p.Source] = p
	}
	if c.BootID != "" {
		m.bootID = c.BootID
	}
	m.hist.put(c.History)
	if c.HistoryGap.After(m.hist.gap) && m.hist.opts.window >= 0 {
		m.hist.gap = storedTime(c.HistoryGap)
	}
	return nil
}

// applyEntries applies Put, Del, Mark and Unmark, in this order.
func (m *Memory) applyEntries(c engine.Change) {
	for _, e := range c.Put {
		m.put(e)
	}
	for _, r := range c.Del {
		if e, ok := m.entries[r.Key]; ok && e.Seq == r.Seq {
			delete(m.entries, r.Key)
			delete(m.params, r.Key)
			delete(m.marks, r.Key)
		}
	}
	for _, r := range c.Mark {
		m.marks[r.Key] = r.Seq
	}
	for _, r := range c.Unmark {
		if seq, ok := m.marks[r.Key]; ok && seq == r.Seq {
			delete(m.marks, r.Key)
		}
	}
}

// put writes e, and its Params unless they are nil (empty removes them).
func (m *Memory) put(e engine.Entry) {
	switch {
	case e.Params == nil:
	case len(e.Params) == 0:
		delete(m.params, e.Key)
	default:
		m.params[e.Key] = slices.Clone(e.Params)
	}
	e.Params = nil
	m.entries[e.Key] = memoryEntry(e)
}

func (m *Memory) setOffences(offences map[string]int) {
	for k, n := range offences {
		if n == 0 {
			delete(m.offences, k)
		} else {
			m.offences[k] = n
		}
	}
}

// memoryEntry is e as DB would give it back.
func memoryEntry(e engine.Entry) engine.Entry {
	e = cloneEntry(e)
	e.Created = storedTime(e.Created)
	e.Expires = storedTime(e.Expires)
	return e
}

func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

// Params returns a copy of the Params stored for key; nil when none.
func (m *Memory) Params(key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("params of %q: %w", key, ErrClosed)
	}
	return clone(m.params[key]), nil
}

// Load returns a copy of the state, sorted as DB sorts it, entries without
// their Params.
func (m *Memory) Load() (*engine.State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("load: %w", ErrClosed)
	}
	s := &engine.State{
		Offences:  maps.Clone(m.offences),
		Positions: maps.Clone(m.positions),
		BootID:    m.bootID,
	}
	for _, e := range m.entries {
		s.Entries = append(s.Entries, cloneEntry(e))
	}
	slices.SortFunc(s.Entries, func(a, b engine.Entry) int {
		return cmp.Or(cmp.Compare(expiryNanos(a.Expires), expiryNanos(b.Expires)), cmp.Compare(a.Key, b.Key))
	})
	for k, seq := range m.marks {
		s.Marked = append(s.Marked, engine.EntryRef{Key: k, Seq: seq})
	}
	slices.SortFunc(s.Marked, func(a, b engine.EntryRef) int { return cmp.Compare(a.Key, b.Key) })
	for _, j := range m.jobs {
		s.Jobs = append(s.Jobs, cloneJob(j))
	}
	slices.SortFunc(s.Jobs, func(a, b engine.Job) int { return cmp.Compare(a.ID, b.ID) })
	return s, nil
}

// Close discards the state; later calls fail with ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.entries, m.params, m.marks, m.jobs, m.offences, m.positions = nil, nil, nil, nil, nil, nil
	m.hist.byTarget = nil
	return nil
}
