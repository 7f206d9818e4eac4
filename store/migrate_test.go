package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/store/storetest"
)

// TestOpen_MigratesSchema2 opens a copy of a store that the schema-2 code
// wrote (testdata/schema2.db) and checks that it reads back as written,
// Params through Params, and is schema 3 afterwards.
func TestOpen_MigratesSchema2(t *testing.T) {
	path := copyFixture(t, "testdata/schema2.db")
	if n := schemaOf(t, path); n != 2 {
		t.Fatalf("fixture has schema %d, want 2", n)
	}
	want := NewMemory() // the twin, given the same changes
	for _, c := range schema2Fixture() {
		if err := want.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	ws, _ := want.Load()
	if len(ws.Entries) != 3 || len(ws.Jobs) != 2 || len(ws.Positions) != 2 || ws.BootID == "" {
		t.Fatalf("fixture state is not what it should be: %+v", ws)
	}
	oldFile := path + ".old" // the file Open replaces
	if err := os.Link(path, oldFile); err != nil {
		t.Fatal(err)
	}
	db := mustOpen(t, path)
	checkNoLeftover(t, path)
	checkMigrated(t, db, want, ws)
	if runtime.GOOS != "windows" {
		if old, err := Open(oldFile); !errors.Is(err, ErrLocked) {
			t.Errorf("Open of the replaced file: %v, want ErrLocked (superseded)", err)
			if err == nil {
				_ = old.Close()
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := schemaOf(t, path); n != schemaVersion {
		t.Errorf("schema %d after Open, want %d", n, schemaVersion)
	}
	checkMigrated(t, mustOpen(t, path), want, ws) // and it opens again as schema 3
}

func checkMigrated(t *testing.T, db *DB, want *Memory, ws *engine.State) {
	t.Helper()
	storetest.CheckState(t, db, *ws)
	for _, k := range []string{"firewall-drop-203.0.113.7", "host-deny-198.51.100.23", "route-null-2001:db8::5",
		"firewall-drop-198.51.100.99"} {
		got, err := db.Params(k)
		w, _ := want.Params(k)
		if err != nil || !bytes.Equal(got, w) {
			t.Errorf("Params(%q) = %q, %v; want %q", k, got, err, w)
		}
	}
}

// TestOpen_MigratesManyEntries migrates a few thousand entries, some
// without Params, into a file left behind by a migration that crashed.
func TestOpen_MigratesManyEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path+".migrating", []byte("half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	want := make([]engine.Entry, 3000)
	for i := range want {
		want[i] = realEntry(i, now)
		want[i].Job = 0 // schema 2 had none
		if i%7 == 0 {
			want[i].Params = nil
		}
	}
	writeSchema2(t, path, want)
	db := mustOpen(t, path)
	checkNoLeftover(t, path)
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(s.Entries), len(want))
	}
	for _, w := range want {
		p, err := db.Params(w.Key)
		if err != nil || !bytes.Equal(p, w.Params) {
			t.Fatalf("Params(%q) = %.40q, %v; want %.40q", w.Key, p, err, w.Params)
		}
	}
	checkLoaded(t, want, s.Entries)
}

// TestOpen_FailedMigrationWritesNothing checks that a schema-2 store whose
// migration fails half way is left as it was.
func TestOpen_FailedMigrationWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	entries := []engine.Entry{realEntry(0, t0), realEntry(1, t0), realEntry(2, t0)}
	writeSchema2(t, path, entries)
	boltFile(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).Put([]byte(entries[2].Key), []byte{entryFormat1, 0})
	})(t, path)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, openErr := Open(path)
	if openErr == nil {
		_ = db.Close()
		t.Fatal("Open succeeded")
	}
	t.Log(openErr)
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a failed migration changed the file")
	}
	if msg := openErr.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, entries[2].Key) {
		t.Errorf("error %q does not name the file and the entry", msg)
	}
	checkNoLeftover(t, path)
}

func checkNoLeftover(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path + ".migrating"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("migration left %s.migrating behind (%v)", path, err)
	}
}

// TestOpen_Superseded checks that a process that waited for the lock of a
// file that another migrated and replaced meanwhile does not use it.
func TestOpen_Superseded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	writeSchema2(t, path, []engine.Entry{realEntry(0, t0)})
	boltFile(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySuperseded, []byte{1}) })(t, path)
	db, err := Open(path)
	if err == nil {
		_ = db.Close()
		t.Fatal("Open succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q, want ErrLocked naming the file", err)
	}
	t.Log(err)
}

func copyFixture(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func boltView(t *testing.T, path string, fn func(*bolt.Tx) error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.View(fn); err != nil {
		t.Fatal(err)
	}
}

func schemaOf(t *testing.T, path string) (n uint64) {
	boltView(t, path, func(tx *bolt.Tx) error {
		var err error
		if n, err = btoi(tx.Bucket(bucketMeta).Get(keySchema)); err != nil {
			return fmt.Errorf("schema: %w", err)
		}
		return nil
	})
	return n
}
