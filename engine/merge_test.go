package engine_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/store"
)

// TestMergeChanges_AsIfOneAfterTheOther holds the writer's merge of waiting
// groups to what matters: every store ends in the same state whether the
// groups' changes are applied one after the other or merged into one. The
// changes are of the kinds prepare writes, with keys put, marked and
// unmarked again across groups, Puts that keep Params, and positions and
// offence counts overwritten.
func TestMergeChanges_AsIfOneAfterTheOther(t *testing.T) {
	stores := map[string]func(t *testing.T) engine.Store{
		"fake":   func(*testing.T) engine.Store { return engine.NewFakeStore() },
		"memory": func(*testing.T) engine.Store { return store.NewMemory() },
		"bbolt": func(t *testing.T) engine.Store {
			db, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(40) {
				changes := prepared(rand.New(rand.NewPCG(seed, 6)))
				one, merged := open(t), open(t)
				for _, c := range changes {
					if err := one.Apply(c); err != nil {
						t.Fatal(err)
					}
				}
				if err := merged.Apply(engine.MergeChanges(changes)); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(stateOf(t, one), stateOf(t, merged)); diff != "" {
					t.Fatalf("seed %d: merged differs (-one after the other +merged):\n%s", seed, diff)
				}
			}
		})
	}
}

// prepared is a few groups' changes as prepare writes them.
func prepared(r *rand.Rand) []engine.Change {
	keys := []string{"firewall-drop-203.0.113.1", "firewall-drop-203.0.113.2", "host-deny-198.51.100.3"}
	seq := map[string]uint64{}
	var marked []engine.EntryRef
	now := time.Unix(1_700_000_000, 0)
	var cs []engine.Change
	for g := range 2 + r.IntN(4) {
		var c engine.Change
		for range 1 + r.IntN(5) {
			k := keys[r.IntN(len(keys))]
			seq[k]++
			e := engine.Entry{
				Key: k, Seq: seq[k], Lane: k, Command: &engine.Command{Name: "cmd", Executable: "firewall-drop"},
				Created: now, Expires: now.Add(time.Duration(1+r.IntN(600)) * time.Second), Offences: int(seq[k]),
			}
			if r.IntN(3) > 0 { // else a repeat: the stored Params stay
				e.Params = fmt.Appendf(nil, `{"alert":{"id":"%d.%d"}}`, g, seq[k])
			}
			c.Put = append(c.Put, e)
			if c.Offences == nil {
				c.Offences = map[string]int{}
			}
			c.Offences[k] = int(seq[k])
			if r.IntN(2) == 0 {
				ref := engine.EntryRef{Key: k, Seq: seq[k]}
				c.Mark = append(c.Mark, ref)
				marked = append(marked, ref)
			}
		}
		if len(marked) > 0 && r.IntN(2) == 0 { // the marks of an earlier group, applied
			i := r.IntN(len(marked))
			c.Unmark = append(c.Unmark, marked[i])
		}
		if r.IntN(2) == 0 {
			c.Jobs = append(c.Jobs, engine.Job{ID: uint64(g + 1), Lane: "script", Command: &engine.Command{Name: "s", Executable: "s"},
				Params: []byte(`{}`), Timeout: time.Minute})
		}
		for _, src := range []string{"alerts.json", "alerts.log"}[:1+r.IntN(2)] {
			c.Positions = append(c.Positions, engine.Position{Source: src, FileID: "1:2", Offset: int64(100*g + r.IntN(100))})
		}
		cs = append(cs, c)
	}
	return cs
}

// storeState is what a store holds, Params included.
type storeState struct {
	State  *engine.State
	Params map[string]string
}

func stateOf(t *testing.T, s engine.Store) storeState {
	t.Helper()
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	ps := map[string]string{}
	for _, e := range st.Entries {
		p, err := s.Params(e.Key)
		if err != nil {
			t.Fatal(err)
		}
		ps[e.Key] = string(p)
	}
	return storeState{st, ps}
}
