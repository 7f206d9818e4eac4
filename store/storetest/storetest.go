// Package storetest is the conformance suite of engine.Store: the rules
// the engine relies on, run against any implementation. store.DB and
// store.Memory pass it, and so must every fake store the engine's tests
// use, so that a rule the engine depends on cannot hold in a test and fail
// in production.
//
// The rules: Apply is atomic and applies a Change's parts in a fixed order
// (Jobs; Put, Del, Mark, Unmark; DoneJobs; Offences, Positions, BootID); a
// Del or Unmark acts only on the generation (Seq) it names; Params live
// apart from their entry (nil keeps them, empty removes them); an invalid
// Change writes nothing; Load sorts entries by expiry then key, marks by
// key and jobs by id, and never returns nil maps; nothing a caller passes
// in or gets back shares memory with the store; after Close every call
// fails; a durable store gives all of it back after a reopen.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Harness is what the suite needs to know of one implementation.
type Harness struct {
	// Open returns a new, empty store. The suite closes only the stores it
	// tests Close with; Open registers any other cleanup with t.
	Open func(t *testing.T) engine.Store
	// Reopen closes s and opens what it kept; nil for a store that keeps
	// nothing past Close.
	Reopen func(t *testing.T, s engine.Store) engine.Store
	// ErrInvalid and ErrClosed are the errors the store wraps for an
	// invalid Change and for a call after Close; nil accepts any error.
	ErrInvalid, ErrClosed error
}

// Run runs the suite against h's store, each scenario in a fresh one.
func Run(t *testing.T, h Harness) {
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range scenarios() {
			t.Run(sc.name, func(t *testing.T) { runScenario(t, h, sc) })
		}
	})
	t.Run("after close", func(t *testing.T) { testAfterClose(t, h) })
	t.Run("no aliasing", func(t *testing.T) { testNoAliasing(t, h) })
}

// step is one Apply and whether the store must refuse it as invalid.
type step struct {
	change  engine.Change
	invalid bool
}

type scenario struct {
	name  string
	steps []step
	want  engine.State // Offences and Positions may be left nil for empty
	// params are what Params must return for each key named here; for any
	// other key, an entry's or not, it must return nil.
	params map[string]string
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))

func entry(key string, seq uint64, expiresIn time.Duration) engine.Entry {
	return engine.Entry{Key: key, Seq: seq, Lane: key, Command: &engine.Command{}, Created: t0, Expires: t0.Add(expiresIn)}
}

func ok(c engine.Change) step { return step{change: c} }

// wantErr checks err against what h's store must return: nil, or an error
// that is (or wraps) sentinel when the harness names one.
func wantErr(t *testing.T, what string, err error, fail bool, sentinel error) {
	t.Helper()
	switch {
	case !fail && err != nil:
		t.Fatalf("%s: %v, want no error", what, err)
	case fail && err == nil:
		t.Fatalf("%s: no error, want one", what)
	case fail && sentinel != nil && !errors.Is(err, sentinel):
		t.Fatalf("%s: %v, want %v", what, err, sentinel)
	}
}

func runScenario(t *testing.T, h Harness, sc scenario) {
	s := h.Open(t)
	for i, st := range sc.steps {
		wantErr(t, fmt.Sprintf("step %d: Apply", i), s.Apply(st.change), st.invalid, h.ErrInvalid)
	}
	CheckState(t, s, sc.want)
	checkParams(t, s, sc.steps, sc.params)
	if h.Reopen != nil {
		s = h.Reopen(t, s)
		CheckState(t, s, sc.want)
		checkParams(t, s, sc.steps, sc.params)
	}
}

// checkParams checks Params of every key in want, of every key the steps
// name, and of a key never written.
func checkParams(t *testing.T, s engine.Store, steps []step, want map[string]string) {
	t.Helper()
	keys := []string{"never-written"}
	for _, st := range steps {
		for _, e := range st.change.Put {
			keys = append(keys, e.Key)
		}
		for _, r := range slices.Concat(st.change.Del, st.change.Mark, st.change.Unmark) {
			keys = append(keys, r.Key)
		}
	}
	for k := range want {
		keys = append(keys, k)
	}
	for _, k := range keys {
		got, err := s.Params(k)
		if err != nil {
			t.Errorf("Params(%q): %v", k, err)
			continue
		}
		w, ok := want[k]
		if !ok && got != nil || ok && string(got) != w {
			t.Errorf("Params(%q) = %q, want %q (set: %v)", k, got, w, ok)
		}
	}
}

// CheckState checks that s loads want, with non-nil maps where want has nil
// ones; times compare with time.Time.Equal.
func CheckState(t *testing.T, s engine.Store, want engine.State) {
	t.Helper()
	got, err := s.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Offences == nil || got.Positions == nil {
		t.Errorf("Load gave nil maps: Offences %v, Positions %v", got.Offences, got.Positions)
	}
	if want.Offences == nil {
		want.Offences = map[string]int{}
	}
	if want.Positions == nil {
		want.Positions = map[string]engine.Position{}
	}
	// A nil Command is stored as the zero Command, and loaded as one.
	want.Entries, want.Jobs = slices.Clone(want.Entries), slices.Clone(want.Jobs)
	for i := range want.Entries {
		if want.Entries[i].Command == nil {
			want.Entries[i].Command = &engine.Command{}
		}
	}
	for i := range want.Jobs {
		if want.Jobs[i].Command == nil {
			want.Jobs[i].Command = &engine.Command{}
		}
	}
	// cmp compares times with time.Time.Equal.
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
}

func testAfterClose(t *testing.T, h Harness) {
	s := h.Open(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantErr(t, "Apply after Close", s.Apply(engine.Change{BootID: "b"}), true, h.ErrClosed)
	_, err := s.Load()
	wantErr(t, "Load after Close", err, true, h.ErrClosed)
	_, err = s.Params("a")
	wantErr(t, "Params after Close", err, true, h.ErrClosed)
}

// testNoAliasing checks that neither the Change's slices nor the loaded
// State nor the Params returned share memory with the store.
func testNoAliasing(t *testing.T, h Harness) {
	s := h.Open(t)
	e := entry("a", 1, time.Hour)
	e.Params = []byte(`{"x":1}`)
	e.Command.ExtraArgs = []string{"-v"}
	e.Command.Expect = []string{"srcip"}
	if err := s.Apply(engine.Change{Put: []engine.Entry{e}}); err != nil {
		t.Fatal(err)
	}
	e.Params[0], e.Command.ExtraArgs[0], e.Command.Expect[0] = 'X', "changed", "user"
	first, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	first.Entries[0].Command.ExtraArgs[0] = "loaded"
	first.Entries[0].Command.Expect[0] = "filename"
	first.Offences["new"] = 1
	p, err := s.Params("a")
	if err != nil {
		t.Fatal(err)
	}
	p[1] = 'Y'
	want := entry("a", 1, time.Hour)
	want.Command.ExtraArgs = []string{"-v"}
	want.Command.Expect = []string{"srcip"}
	CheckState(t, s, engine.State{Entries: []engine.Entry{want}})
	checkParams(t, s, nil, map[string]string{"a": `{"x":1}`})

	j := engine.Job{ID: 1, Params: []byte("p"), Repeated: []time.Duration{time.Hour},
		Command: &engine.Command{ExtraArgs: []string{"-j"}}}
	if err := s.Apply(engine.Change{Jobs: []engine.Job{j}}); err != nil {
		t.Fatal(err)
	}
	j.Params[0], j.Repeated[0], j.Command.ExtraArgs[0] = 'X', time.Minute, "changed"
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	st.Jobs[0].Params[0], st.Jobs[0].Repeated[0], st.Jobs[0].Command.ExtraArgs[0] = 'Y', time.Second, "loaded"
	again, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	wantJob := engine.Job{ID: 1, Params: []byte("p"), Repeated: []time.Duration{time.Hour},
		Command: &engine.Command{ExtraArgs: []string{"-j"}}}
	if diff := cmp.Diff([]engine.Job{wantJob}, again.Jobs); diff != "" {
		t.Errorf("job shares memory (-want +got):\n%s", diff)
	}
}
