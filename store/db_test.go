package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/store/storetest"
)

// mustOpen opens the store at path and, on cleanup, checks the file's
// consistency (unless the test closed it) and closes it.
func mustOpen(tb testing.TB, path string, opts ...Option) *DB {
	tb.Helper()
	db, err := Open(path, opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if !db.closed.Load() {
			checkDB(tb, db)
		}
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

func checkDB(tb testing.TB, db *DB) {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			tb.Errorf("bbolt check: %v", err)
		}
		return nil
	})
	if err != nil {
		tb.Errorf("check: %v", err)
	}
}

// commits is the bbolt transaction id: one more for every write commit.
func commits(tb testing.TB, db *DB) int {
	var id int
	if err := db.bolt.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		tb.Fatal(err)
	}
	return id
}

func TestOpen_CreatesDirAndFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "state.db")
	mustOpen(t, path)
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700 | os.ModeDir, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
}

func TestOpen_Locked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	mustOpen(t, path)
	start := time.Now()
	db, err := Open(path)
	elapsed := time.Since(start)
	if err == nil {
		_ = db.Close()
		t.Fatal("second Open succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path+" is locked by another process") {
		t.Errorf("error %q, want ErrLocked naming the path", err)
	}
	t.Log(err)
	if elapsed > 2*time.Second {
		t.Errorf("second Open took %v, want about 1s", elapsed)
	}
}

func TestOpen_NotStore(t *testing.T) {
	garbage := make([]byte, 64<<10)
	_, _ = rand.Read(garbage)
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  error
	}{
		{"text file", writeFile([]byte("<ossec_config>\n</ossec_config>\n")), ErrNotStore},
		{"random bytes", writeFile(garbage), ErrNotStore},
		{"store with both meta pages overwritten", corruptStore(garbage), ErrNotStore},
		{"foreign bbolt", boltFile(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket([]byte("widgets"))
			return err
		}), ErrNotStore},
		{"schema 1 (JSON records)", schemaFile(1), ErrSchema},
		{"newer schema", schemaFile(schemaVersion + 1), ErrSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			tt.setup(t, path)
			db, err := Open(path)
			if err == nil {
				_ = db.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q, want %v naming the path", err, tt.want)
			}
			t.Log(err)
		})
	}
}

func writeFile(data []byte) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// corruptStore writes a store, then overwrites its first two pages (bbolt's
// two meta pages) with garbage.
func corruptStore(garbage []byte) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := errors.Join(db.Apply(engine.Change{BootID: "b"}), db.Close()); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(garbage[:2*os.Getpagesize()], 0); err != nil {
			t.Fatal(err)
		}
	}
}

// schemaFile writes a store's buckets with schema version n.
func schemaFile(n uint64) func(t *testing.T, path string) {
	return boltFile(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, itob(n))
	})
}

func boltFile(fn func(*bolt.Tx) error) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		b, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := b.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDB_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db := mustOpen(t, path)
	c := engine.Change{
		Put:       []engine.Entry{entry("a", 1, time.Hour)},
		Jobs:      []engine.Job{{ID: 1, Lane: "a"}},
		Offences:  map[string]int{"a": 3},
		Positions: []engine.Position{{Source: "/alerts.json", FileID: "1:2", Offset: 99}},
		BootID:    "boot-1",
	}
	if err := db.Apply(c); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	storetest.CheckState(t, mustOpen(t, path), engine.State{
		Entries: c.Put, Jobs: c.Jobs, Offences: c.Offences, BootID: c.BootID,
		Positions: map[string]engine.Position{"/alerts.json": c.Positions[0]},
	})
}

// TestDB_ApplyConcurrent checks that concurrent Apply calls all land and
// share commits.
func TestDB_ApplyConcurrent(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "state.db"))
	const workers, each = 50, 10
	before := commits(t, db)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("k-%d-%d", w, i)
				c := engine.Change{Put: []engine.Entry{entry(key, 1, time.Duration(i)*time.Second)},
					Jobs: []engine.Job{{ID: uint64(w*each + i)}}}
				if err := db.Apply(c); err != nil {
					t.Errorf("Apply %s: %v", key, err)
				}
			}
		})
	}
	wg.Wait()
	n := commits(t, db) - before
	t.Logf("%d applies in %d commits", workers*each, n)
	if n >= workers*each {
		t.Errorf("%d commits for %d applies: none were grouped", n, workers*each)
	}
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Entries) != workers*each || len(s.Jobs) != workers*each {
		t.Errorf("loaded %d entries, %d jobs, want %d each", len(s.Entries), len(s.Jobs), workers*each)
	}
}

// TestDB_ApplyBadNeighbour checks that a Change failing inside a group does
// not take its neighbours with it.
func TestDB_ApplyBadNeighbour(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "state.db"), WithMaxBatchDelay(50*time.Millisecond))
	// A corrupt stored entry makes a Del of it fail inside the transaction.
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).Put([]byte("bad"), []byte("{"))
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			c := engine.Change{Jobs: []engine.Job{{ID: uint64(i)}}}
			if i == 5 {
				c = engine.Change{Del: []engine.EntryRef{{Key: "bad", Seq: 1}}}
			}
			errs[i] = db.Apply(c)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 5) != (err != nil) {
			t.Errorf("Apply %d: %v", i, err)
		}
	}
	var n int
	_ = db.bolt.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketJobs).Stats().KeyN; return nil })
	if n != 9 {
		t.Errorf("%d jobs stored, want 9", n)
	}
	_ = db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketEntries).Delete([]byte("bad")) })
}

// TestOpen_ReadOnly reads a store without writing it: the state loads,
// Apply fails, and the file is byte for byte the same afterwards.
func TestOpen_ReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.Entry{Key: "firewall-drop-203.0.113.5", Seq: 1, Expires: time.Now().Add(time.Hour), Params: []byte(`{"alert":{}}`)}
	if err := db.Apply(engine.Change{Put: []engine.Entry{e}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)

	ro, err := Open(path, WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	st, err := ro.Load()
	if err != nil || len(st.Entries) != 1 || st.Entries[0].Key != e.Key {
		t.Fatalf("Load = %+v, %v", st, err)
	}
	if err := ro.Apply(engine.Change{BootID: "x"}); err == nil {
		t.Error("Apply succeeded on a read-only store")
	}
	ro.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a read-only open changed the file")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none.db"), WithReadOnly()); err == nil {
		t.Error("a missing file opened read-only")
	}
}
