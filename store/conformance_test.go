package store

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/threatlockdown/threatlockdown/engine"
)

// impl is one engine.Store implementation under the shared suite.
type impl struct {
	name string
	open func(t *testing.T) engine.Store
	// reopen closes s and opens what it kept; nil for a store that keeps nothing.
	reopen func(t *testing.T, s engine.Store) engine.Store
}

func impls() []impl {
	return []impl{
		{
			name: "DB",
			open: func(t *testing.T) engine.Store { return mustOpen(t, filepath.Join(t.TempDir(), "state.db")) },
			reopen: func(t *testing.T, s engine.Store) engine.Store {
				db := s.(*DB)
				if err := db.Close(); err != nil {
					t.Fatalf("close: %v", err)
				}
				return mustOpen(t, db.Path())
			},
		},
		{
			name: "Memory",
			open: func(t *testing.T) engine.Store {
				m := NewMemory()
				t.Cleanup(func() { _ = m.Close() })
				return m
			},
		},
	}
}

// step is one Apply and the error it must give (nil, or a sentinel for errors.Is).
type step struct {
	change  engine.Change
	wantErr error
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
	return engine.Entry{Key: key, Seq: seq, Lane: key, Created: t0, Expires: t0.Add(expiresIn)}
}

func ok(c engine.Change) step { return step{change: c} }

func TestStore_Conformance(t *testing.T) {
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			for _, sc := range scenarios() {
				t.Run(sc.name, func(t *testing.T) { runScenario(t, im, sc) })
			}
		})
	}
}

func runScenario(t *testing.T, im impl, sc scenario) {
	s := im.open(t)
	for i, st := range sc.steps {
		err := s.Apply(st.change)
		if !errors.Is(err, st.wantErr) { // errors.Is(nil, nil) holds
			t.Fatalf("step %d: Apply error %v, want %v", i, err, st.wantErr)
		}
	}
	checkState(t, s, sc.want)
	checkParams(t, s, sc.steps, sc.params)
	if im.reopen != nil {
		s = im.reopen(t, s)
		checkState(t, s, sc.want)
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

func checkState(t *testing.T, s engine.Store, want engine.State) {
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
	// cmp compares times with time.Time.Equal.
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
}

func TestStore_ApplyAfterClose(t *testing.T) {
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			s := im.open(t)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := s.Apply(engine.Change{BootID: "b"}); !errors.Is(err, ErrClosed) {
				t.Errorf("Apply after Close: %v, want ErrClosed", err)
			}
			if _, err := s.Load(); !errors.Is(err, ErrClosed) {
				t.Errorf("Load after Close: %v, want ErrClosed", err)
			}
			if _, err := s.Params("a"); !errors.Is(err, ErrClosed) {
				t.Errorf("Params after Close: %v, want ErrClosed", err)
			}
		})
	}
}

// TestStore_NoAliasing checks that neither the Change's slices nor the
// loaded State nor the Params returned share memory with the store.
func TestStore_NoAliasing(t *testing.T) {
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			s := im.open(t)
			e := entry("a", 1, time.Hour)
			e.Params = []byte(`{"x":1}`)
			e.Command.ExtraArgs = []string{"-v"}
			if err := s.Apply(engine.Change{Put: []engine.Entry{e}}); err != nil {
				t.Fatal(err)
			}
			e.Params[0], e.Command.ExtraArgs[0] = 'X', "changed"
			first, err := s.Load()
			if err != nil {
				t.Fatal(err)
			}
			first.Entries[0].Command.ExtraArgs[0] = "loaded"
			first.Offences["new"] = 1
			p, err := s.Params("a")
			if err != nil {
				t.Fatal(err)
			}
			p[1] = 'Y'
			want := entry("a", 1, time.Hour)
			want.Command.ExtraArgs = []string{"-v"}
			checkState(t, s, engine.State{Entries: []engine.Entry{want}})
			checkParams(t, s, nil, map[string]string{"a": `{"x":1}`})
		})
	}
}
