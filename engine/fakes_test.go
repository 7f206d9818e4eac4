package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// memStore is an in-memory Store for the engine's tests; store.Memory is the
// shared one, but store imports engine.
type memStore struct {
	mu      sync.Mutex
	st      State
	params  map[string][]byte
	marks   map[string]uint64
	applies int
	fail    error
}

func newMemStore() *memStore {
	return &memStore{
		st:     State{Offences: map[string]int{}, Positions: map[string]Position{}},
		params: map[string][]byte{}, marks: map[string]uint64{},
	}
}

// Load returns the state as the real store does: entries without Params.
func (m *memStore) Load() (*State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := State{
		Entries: slices.Clone(m.st.Entries), Jobs: slices.Clone(m.st.Jobs), BootID: m.st.BootID,
		Offences: maps.Clone(m.st.Offences), Positions: maps.Clone(m.st.Positions),
	}
	for i := range st.Entries {
		st.Entries[i].Params = nil
	}
	for k, seq := range m.marks {
		st.Marked = append(st.Marked, EntryRef{Key: k, Seq: seq})
	}
	slices.SortFunc(st.Marked, func(a, b EntryRef) int { return strings.Compare(a.Key, b.Key) })
	return &st, nil
}

func (m *memStore) Params(key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.params[key]), nil
}

func (m *memStore) Apply(c Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.applies++
	m.st.Jobs = append(m.st.Jobs, c.Jobs...)
	for _, e := range c.Put {
		m.st.Entries = slices.DeleteFunc(m.st.Entries, func(x Entry) bool { return x.Key == e.Key })
		if e.Params != nil {
			m.params[e.Key] = slices.Clone(e.Params)
		}
		e.Params = nil
		m.st.Entries = append(m.st.Entries, e)
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
	}
	for _, p := range c.Positions {
		m.st.Positions[p.Source] = p
	}
	if c.BootID != "" {
		m.st.BootID = c.BootID
	}
	return nil
}

func (m *memStore) Close() error { return nil }

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
