package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Schema 2 as the code of commit 5a36f18 wrote it, for the migration's
// tests: what testdata/schema2.db holds, and an encoder to write larger
// schema-2 stores.

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
		Command: &engine.Command{Name: "firewall-drop", Executable: "firewall-drop",
			ExtraArgs: []string{"-x", "y"}, TimeoutAllowed: true, Line: 12},
		Params: []byte(alert),
		Fields: engine.Fields{User: "admin", SrcIP: "203.0.113.7", AlertID: "1763892000.1", RuleID: "5712",
			Location: "/var/log/auth.log", Filename: "-"},
		Created: created, Expires: created.Add(10 * time.Minute), Offences: 2,
	}
	deny := engine.Entry{
		Key: "host-deny-198.51.100.23", Seq: 5, Lane: "host-deny|198.51.100.23|",
		Command: &engine.Command{Name: "host-deny", Executable: "host-deny", TimeoutAllowed: true,
			Protocol: engine.ProtocolLegacy, Line: 30},
		Params:  []byte(`{"extra_args":[],"alert":{"rule":{"id":"5710"}},"program":"active-response/bin/host-deny"}`),
		Fields:  engine.Fields{User: "-", SrcIP: "198.51.100.23", AlertID: "1763892001.2", RuleID: "5710", Location: "sshd", Filename: "-"},
		Created: created, Expires: created.Add(time.Hour), Offences: 1,
	}
	bare := engine.Entry{Key: "route-null-2001:db8::5", Seq: 9, Lane: "route-null|2001:db8::5|",
		Command: &engine.Command{Name: "route-null", Executable: "route-null"}, Created: created, Expires: created.Add(2 * time.Hour)}
	gone := engine.Entry{Key: "firewall-drop-198.51.100.99", Seq: 1, Params: []byte(`{}`), Created: created, Expires: created.Add(time.Minute)}
	return []engine.Change{
		{
			Put:  []engine.Entry{drop, deny, bare, gone},
			Jobs: []engine.Job{{ID: 11, Lane: "l"}, {ID: 12}},
		},
		{
			Del: []engine.EntryRef{{Key: gone.Key, Seq: 1}},
			Jobs: []engine.Job{{ID: 42, Lane: "firewall-drop|198.51.100.8|",
				Command: &engine.Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true},
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
