package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// memStore is an in-memory Store for the engine's tests; store.Memory is the
// shared one, but store imports engine. It passes store/storetest's suite
// (storefake_test.go), so it follows the real store's rules.
type memStore struct {
	mu      sync.Mutex
	st      State
	params  map[string][]byte
	marks   map[string]uint64
	applies int
	fail    error
	closed  bool
}

// errFakeStoreClosed is memStore's answer after Close.
var errFakeStoreClosed = errors.New("store closed")

func newMemStore() *memStore {
	return &memStore{
		st:     State{Offences: map[string]int{}, Positions: map[string]Position{}},
		params: map[string][]byte{}, marks: map[string]uint64{},
	}
}

// Load returns the state as the real store does: entries without Params,
// sorted by expiry then key, jobs by id.
func (m *memStore) Load() (*State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errFakeStoreClosed
	}
	st := State{BootID: m.st.BootID, Offences: maps.Clone(m.st.Offences), Positions: maps.Clone(m.st.Positions)}
	for _, e := range m.st.Entries {
		st.Entries = append(st.Entries, cloneEntry(e))
	}
	slices.SortFunc(st.Entries, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(expiryNanos(a.Expires), expiryNanos(b.Expires)), strings.Compare(a.Key, b.Key))
	})
	for _, j := range m.st.Jobs {
		st.Jobs = append(st.Jobs, cloneJob(j))
	}
	slices.SortFunc(st.Jobs, func(a, b Job) int { return cmp.Compare(a.ID, b.ID) })
	for k, seq := range m.marks {
		st.Marked = append(st.Marked, EntryRef{Key: k, Seq: seq})
	}
	slices.SortFunc(st.Marked, func(a, b EntryRef) int { return strings.Compare(a.Key, b.Key) })
	return &st, nil
}

// expiryNanos is the real store's sort order of expiry times: the zero time
// and times before 1970 first, times past 2262 last.
func expiryNanos(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Unix() < 0:
		return 0
	case t.Unix() >= math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func (m *memStore) Params(key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errFakeStoreClosed
	}
	return slices.Clone(m.params[key]), nil
}

func (m *memStore) Apply(c Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return errFakeStoreClosed
	case m.fail != nil:
		return m.fail
	}
	if err := validChange(c); err != nil {
		return err
	}
	m.applies++
	for _, j := range c.Jobs {
		m.st.Jobs = append(slices.DeleteFunc(m.st.Jobs, func(x Job) bool { return x.ID == j.ID }), cloneJob(j))
	}
	for _, e := range c.Put {
		m.put(e)
	}
	for _, r := range c.Del {
		n := len(m.st.Entries)
		m.st.Entries = slices.DeleteFunc(m.st.Entries, func(x Entry) bool { return x.Key == r.Key && x.Seq == r.Seq })
		if len(m.st.Entries) < n {
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
	for _, id := range c.DoneJobs {
		m.st.Jobs = slices.DeleteFunc(m.st.Jobs, func(j Job) bool { return j.ID == id })
	}
	for k, n := range c.Offences {
		m.st.Offences[k] = n
		if n == 0 {
			delete(m.st.Offences, k)
		}
	}
	for _, p := range c.Positions {
		m.st.Positions[p.Source] = p
	}
	if c.BootID != "" {
		m.st.BootID = c.BootID
	}
	return nil
}

// put replaces the entry of e.Key; nil Params keep the stored ones, empty
// Params remove them.
func (m *memStore) put(e Entry) {
	m.st.Entries = slices.DeleteFunc(m.st.Entries, func(x Entry) bool { return x.Key == e.Key })
	switch {
	case e.Params == nil:
	case len(e.Params) == 0:
		delete(m.params, e.Key)
	default:
		m.params[e.Key] = slices.Clone(e.Params)
	}
	e = cloneEntry(e)
	e.Params = nil
	m.st.Entries = append(m.st.Entries, e)
}

// validChange refuses what the real store refuses: empty keys, negative
// offence counts, times outside the years 0-9999.
func validChange(c Change) error {
	bad := slices.ContainsFunc(c.Put, func(e Entry) bool {
		y1, y2 := e.Created.UTC().Year(), e.Expires.UTC().Year()
		return e.Key == "" || y1 < 0 || y1 > 9999 || y2 < 0 || y2 > 9999
	})
	for _, refs := range [][]EntryRef{c.Del, c.Mark, c.Unmark} {
		bad = bad || slices.ContainsFunc(refs, func(r EntryRef) bool { return r.Key == "" })
	}
	for k, n := range c.Offences {
		bad = bad || k == "" || n < 0
	}
	bad = bad || slices.ContainsFunc(c.Positions, func(p Position) bool { return p.Source == "" })
	if bad {
		return errors.New("invalid change")
	}
	return nil
}

func (m *memStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// cloneEntry and cloneJob copy the slices inside: a store shares no memory
// with its callers.
func cloneEntry(e Entry) Entry {
	e.Params, e.Command = slices.Clone(e.Params), cloneCommand(e.Command)
	return e
}

func cloneJob(j Job) Job {
	j.Params, j.Repeated, j.Command = slices.Clone(j.Params), slices.Clone(j.Repeated), cloneCommand(j.Command)
	return j
}

// cloneCommand copies c; a nil c is the zero Command, as the stores keep it.
func cloneCommand(c *Command) *Command {
	var n Command
	if c != nil {
		n = *c
	}
	n.ExtraArgs, n.Expect = slices.Clone(n.ExtraArgs), slices.Clone(n.Expect)
	return &n
}

func (m *memStore) entries() []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.st.Entries)
}

func (m *memStore) jobs() []Job {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.st.Jobs)
}

// call is one command run seen by fakeRunner.
type call struct {
	Op      Op
	Exe     string
	SrcIP   string
	Verdict string // for adds that asked: continue or abort
	Alert   string // the alert id in the message
}

func (c call) String() string {
	return fmt.Sprintf("%s %s %s %s %s", c.Op, c.Exe, c.SrcIP, c.Verdict, c.Alert)
}

// fakeRunner behaves like a Wazuh script: an add sends check_keys with the
// alert's srcip (unless stateless) and acts on the answer.
type fakeRunner struct {
	mu        sync.Mutex
	calls     []call
	stateless bool
	notFound  bool
	hook      func(inv Invocation) // runs inside Run, before returning
}

func (f *fakeRunner) Run(ctx context.Context, inv Invocation, check CheckKeys) error {
	if f.hook != nil {
		f.hook(inv)
	}
	f.mu.Lock()
	notFound, stateless := f.notFound, f.stateless
	f.mu.Unlock()
	if notFound {
		return fmt.Errorf("%s: %w", inv.Command.Executable, ErrNotStarted)
	}
	var msg struct {
		Command    string
		Parameters struct {
			Alert struct {
				ID   string
				Data struct{ SrcIP string }
			}
		}
	}
	if err := json.Unmarshal(inv.Message, &msg); err != nil {
		return err
	}
	if msg.Command != string(inv.Op) {
		return fmt.Errorf("message command %q for op %q", msg.Command, inv.Op)
	}
	c := call{Op: inv.Op, Exe: inv.Command.Executable, SrcIP: msg.Parameters.Alert.Data.SrcIP, Alert: msg.Parameters.Alert.ID}
	if inv.Op == OpAdd && !stateless && check != nil {
		d, err := check([]string{c.SrcIP})
		if err != nil {
			return err
		}
		c.Verdict = d.Verdict.String()
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	return nil
}

func (f *fakeRunner) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []string
	for _, c := range f.calls {
		s = append(s, c.String())
	}
	return s
}

func (f *fakeRunner) set(change func(*fakeRunner)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// NewFakeStore is the engine's fake store for storefake_test.go, which is
// in package engine_test because store/storetest imports engine.
func NewFakeStore() Store { return newMemStore() }
