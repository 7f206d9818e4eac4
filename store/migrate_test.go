package store

import (
	"bytes"
	"encoding/binary"
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
	checkState(t, db, *ws)
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

// TestEncodeEntry1 checks the test's schema-2 encoder against the values the
// schema-2 code wrote.
func TestEncodeEntry1(t *testing.T) {
	n := 0
	boltView(t, copyFixture(t, "testdata/schema2.db"), func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).ForEach(func(k, v []byte) error {
			e, p, err := decodeEntry1(string(k), v)
			if err != nil {
				return err
			}
			e.Params = p
			if got := encodeEntry1(e); !bytes.Equal(got, v) {
				t.Errorf("%s: encodeEntry1 differs from the stored record\n%x\n%x", k, got, v)
			}
			n++
			return nil
		})
	})
	if n != 3 {
		t.Errorf("%d entries in the fixture, want 3", n)
	}
}

// encodeEntry1 is schema 2's entry encoder, kept here to write schema-2
// stores larger than the fixture.
func encodeEntry1(e engine.Entry) []byte {
	b := []byte{entryFormat1}
	b = appendU64(b, e.Seq)
	b = appendTime(b, e.Expires)
	b = appendTime(b, e.Created)
	b = binary.AppendVarint(b, int64(e.Offences))
	b = appendBody(b, e.Lane, e.Command, e.Fields)
	return appendBytes(b, e.Params)
}

// writeSchema2 writes a schema-2 store holding entries.
func writeSchema2(tb testing.TB, path string, entries []engine.Entry) {
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer b.Close()
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketEntries, bucketExpiry, bucketJobs, bucketOffences, bucketPositions, bucketMeta} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		for _, e := range entries {
			if err := errors.Join(
				tx.Bucket(bucketEntries).Put([]byte(e.Key), encodeEntry1(e)),
				tx.Bucket(bucketExpiry).Put(expiryKey(e.Expires, e.Key), []byte{}),
			); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, itob(2))
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkMigrate_100k times the Open that migrates a schema-2 store of
// 100,000 realistic entries (one transaction), and reports the file's size
// before and after: a bbolt file does not shrink, its free pages are
// reused.
//
//	go test -run '^$' -bench Migrate -benchtime 1x ./store/
func BenchmarkMigrate_100k(b *testing.B) {
	entries := make([]engine.Entry, 100_000)
	now := time.Now()
	for i := range entries {
		entries[i] = realEntry(i, now)
		entries[i].Job = 0
	}
	src := filepath.Join(b.TempDir(), "schema2.db")
	writeSchema2(b, src, entries)
	v, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "state.db")
	var after int64
	for b.Loop() {
		b.StopTimer()
		if err := os.WriteFile(path, v, 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		db, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(path)
		after = fi.Size()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(v))/1e6, "before-MB")
	b.ReportMetric(float64(after)/1e6, "after-MB")
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

// schema2Fixture is what testdata/schema2.db holds: these Changes applied in
// order by the schema-2 store of commit 5a36f18 (the code that wrote it was a
// throwaway test there, with this function copied verbatim).
func schema2Fixture() []engine.Change {
	created := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	alert := `{"extra_args":[],"alert":{"timestamp":"2026-11-23T10:00:00.123+0000","rule":{"level":10,` +
		`"id":"5712","groups":["syslog","sshd"]},"agent":{"id":"000","name":"node01"},"id":"1763892000.1",` +
		`"full_log":"Nov 23 10:00:00 node01 sshd[1234]: Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2",` +
		`"data":{"srcip":"203.0.113.7","srcuser":"admin"},"location":"/var/log/auth.log"},` +
		`"program":"active-response/bin/firewall-drop"}`
	drop := engine.Entry{
		Key: "firewall-drop-203.0.113.7", Seq: 3, Lane: "firewall-drop|203.0.113.7|",
		Command: engine.Command{Name: "firewall-drop", Executable: "firewall-drop",
			ExtraArgs: []string{"-x", "y"}, TimeoutAllowed: true, Line: 12},
		Params: []byte(alert),
		Fields: engine.Fields{User: "admin", SrcIP: "203.0.113.7", AlertID: "1763892000.1", RuleID: "5712",
			Location: "/var/log/auth.log", Filename: "-"},
		Created: created, Expires: created.Add(10 * time.Minute), Offences: 2,
	}
	deny := engine.Entry{
		Key: "host-deny-198.51.100.23", Seq: 5, Lane: "host-deny|198.51.100.23|",
		Command: engine.Command{Name: "host-deny", Executable: "host-deny", TimeoutAllowed: true,
			Protocol: engine.ProtocolLegacy, Line: 30},
		Params:  []byte(`{"extra_args":[],"alert":{"rule":{"id":"5710"}},"program":"active-response/bin/host-deny"}`),
		Fields:  engine.Fields{User: "-", SrcIP: "198.51.100.23", AlertID: "1763892001.2", RuleID: "5710", Location: "sshd", Filename: "-"},
		Created: created, Expires: created.Add(time.Hour), Offences: 1,
	}
	bare := engine.Entry{Key: "route-null-2001:db8::5", Seq: 9, Lane: "route-null|2001:db8::5|",
		Command: engine.Command{Name: "route-null", Executable: "route-null"}, Created: created, Expires: created.Add(2 * time.Hour)}
	gone := engine.Entry{Key: "firewall-drop-198.51.100.99", Seq: 1, Params: []byte(`{}`), Created: created, Expires: created.Add(time.Minute)}
	return []engine.Change{
		{
			Put:  []engine.Entry{drop, deny, bare, gone},
			Jobs: []engine.Job{{ID: 11, Lane: "l"}, {ID: 12}},
		},
		{
			Del: []engine.EntryRef{{Key: gone.Key, Seq: 1}},
			Jobs: []engine.Job{{ID: 42, Lane: "firewall-drop|198.51.100.8|",
				Command: engine.Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true},
				Params:  []byte(`{"extra_args":[],"alert":{"data":{"srcip":"198.51.100.8"}}}`),
				Fields:  engine.Fields{User: "-", SrcIP: "198.51.100.8", AlertID: "1763892002.3", RuleID: "5712", Location: "sshd", Filename: "-"},
				Timeout: 10 * time.Minute, Repeated: []time.Duration{time.Hour, 24 * time.Hour}}},
			DoneJobs: []uint64{11},
			Offences: map[string]int{"firewall-drop-203.0.113.7": 2, "host-deny-198.51.100.23": 1, "firewall-drop-198.51.100.99": 4},
			Positions: []engine.Position{
				{Source: "/var/ossec/logs/alerts/alerts.json", FileID: "2049:131077", Offset: 48213},
				{Source: "/var/ossec/logs/alerts/alerts.log", FileID: "2049:131078", Offset: 9120},
			},
			BootID: "6f1c2a4e-8d3b-4f7a-9e21-0c5d7b3a9f10",
		},
	}
}
