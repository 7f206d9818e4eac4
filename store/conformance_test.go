package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/store/storetest"
)

// TestStore_Conformance runs the engine.Store suite on DB, reopened after
// each scenario, and on Memory.
func TestStore_Conformance(t *testing.T) {
	t.Run("DB", func(t *testing.T) {
		storetest.Run(t, storetest.Harness{
			Open: func(t *testing.T) engine.Store { return mustOpen(t, filepath.Join(t.TempDir(), "state.db")) },
			Reopen: func(t *testing.T, s engine.Store) engine.Store {
				db := s.(*DB)
				if err := db.Close(); err != nil {
					t.Fatalf("close: %v", err)
				}
				return mustOpen(t, db.Path())
			},
			ErrInvalid: ErrInvalid, ErrClosed: ErrClosed,
		})
	})
	t.Run("Memory", func(t *testing.T) {
		storetest.Run(t, storetest.Harness{
			Open: func(t *testing.T) engine.Store {
				m := NewMemory()
				t.Cleanup(func() { _ = m.Close() })
				return m
			},
			ErrInvalid: ErrInvalid, ErrClosed: ErrClosed,
		})
	})
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))

func entry(key string, seq uint64, expiresIn time.Duration) engine.Entry {
	return engine.Entry{Key: key, Seq: seq, Lane: key, Created: t0, Expires: t0.Add(expiresIn)}
}
