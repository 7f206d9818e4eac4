package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/threatlockdown/threatlockdown/engine"
)

// BenchmarkLoad_100k times Load of 100,000 entries, schema 1 (JSON, kept
// in schema1_bench_test.go) against the current schema, on the same entries
// in the same run: "tiny" Params of 80 bytes, and "real" ones of about
// 1.8 KB as the engine builds them for an sshd alert. The current schema
// is timed with the file mapped plainly ("schema3-map") and, on Linux,
// with MAP_POPULATE ("schema3-populate"); see populate_linux.go.
//
//	go test -run '^$' -bench Load_100k -benchtime 5x -count 3 ./store/
//
// Each is timed three ways. "warm": Loads back to back on an open store,
// each reusing the heap the previous one freed. "fresh-heap": all free
// memory goes back to the OS before each Load, so that it pays for the page
// faults of new memory as a daemon just started does. "reboot" (Linux):
// fresh heap, and the file dropped from the page cache and opened again, as
// after a reboot; it times Open, Load and Close. The file's size per entry
// is reported too; BenchmarkLoadProcess_100k measures memory.
func BenchmarkLoad_100k(b *testing.B) {
	now := time.Now()
	schemas := []loadSchema{schema1, schema3("schema3-map", 0)}
	if mapPopulate != 0 {
		schemas = append(schemas, schema3("schema3-populate", mapPopulate))
	}
	for _, size := range []struct {
		name string
		make func(int) engine.Entry
	}{{"tiny", benchEntry}, {"real", func(i int) engine.Entry { return realEntry(i, now) }}} {
		entries := make([]engine.Entry, 100_000)
		for i := range entries {
			entries[i] = size.make(i)
		}
		for _, mode := range []string{"warm", "fresh-heap", "reboot"} {
			for _, sc := range schemas {
				b.Run(size.name+"/"+mode+"/"+sc.name, func(b *testing.B) { benchLoad(b, sc, mode, entries) })
			}
		}
	}
}

// loadSchema is one file format under BenchmarkLoad_100k.
type loadSchema struct {
	name  string
	write func(b *testing.B, path string, entries []engine.Entry)
	// open opens the file at path for Load; close closes it.
	open func(b *testing.B, path string) (load func() ([]engine.Entry, error), close func())
}

// withMmapFlags overrides the flags Open maps the file with.
func withMmapFlags(f int) Option { return func(o *options) { o.mmapFlags = f } }

func schema3(name string, flags int) loadSchema {
	return loadSchema{
		name:  name,
		write: func(b *testing.B, path string, entries []engine.Entry) { writeStorm(b, path, entries) },
		open: func(b *testing.B, path string) (func() ([]engine.Entry, error), func()) {
			db, err := Open(path, withMmapFlags(flags))
			if err != nil {
				b.Fatal(err)
			}
			load := func() ([]engine.Entry, error) {
				s, err := db.Load()
				if err != nil {
					return nil, err
				}
				return s.Entries, nil
			}
			return load, func() { db.Close() }
		},
	}
}

// writeStorm writes entries as a storm does: in random order, in groups of
// a hundred per commit, which fills bbolt's pages as production does (a
// sorted bulk load would leave them half full). Commits are not synced
// until the end, for speed.
func writeStorm(tb testing.TB, path string, entries []engine.Entry) {
	db := mustOpen(tb, path)
	db.bolt.NoSync = true
	perm := rand.New(rand.NewPCG(1, 2)).Perm(len(entries))
	for i := 0; i < len(perm); i += 100 {
		var c engine.Change
		for _, j := range perm[i:min(i+100, len(perm))] {
			c.Put = append(c.Put, entries[j])
		}
		if err := db.Apply(c); err != nil {
			tb.Fatal(err)
		}
	}
	checkDB(tb, db)
	if err := errors.Join(db.bolt.Sync(), db.Close()); err != nil {
		tb.Fatal(err)
	}
}

func benchLoad(b *testing.B, sc loadSchema, mode string, want []engine.Entry) {
	path := filepath.Join(b.TempDir(), "state.db")
	sc.write(b, path, want)
	var got []engine.Entry
	load, closeDB := sc.open(b, path)
	defer func() { closeDB() }()
	for b.Loop() {
		if mode != "warm" {
			b.StopTimer()
			got = nil
			if mode == "reboot" {
				closeDB()
				evictFile(b, path)
			}
			debug.FreeOSMemory()
			b.StartTimer()
		}
		if mode == "reboot" {
			load, closeDB = sc.open(b, path)
		}
		var err error
		if got, err = load(); err != nil {
			b.Fatal(err)
		}
	}
	reportLoad(b, want, got)
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/float64(len(want)), "file-B/entry")
	}
}

// reportLoad checks the last Load against what was written and reports
// throughput.
func reportLoad(b *testing.B, want, got []engine.Entry) {
	b.StopTimer()
	checkLoaded(b, want, got)
	b.ReportMetric(float64(b.N*len(want))/b.Elapsed().Seconds(), "entries/s")
}

// checkLoaded checks that got holds the entries of want (without their
// Params) in expiry order.
func checkLoaded(tb testing.TB, want, got []engine.Entry) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("loaded %d entries, want %d", len(got), len(want))
	}
	byKey := make(map[string]engine.Entry, len(want))
	for _, e := range want {
		byKey[e.Key] = memoryEntry(e)
	}
	for i, e := range got {
		if i > 0 && expiryNanos(e.Expires) < expiryNanos(got[i-1].Expires) {
			tb.Fatalf("entry %d (%s) out of expiry order", i, e.Key)
		}
		if w := byKey[e.Key]; !sameEntry(w, e) {
			tb.Fatalf("entry %s differs (-want +got):\n%s", e.Key, cmp.Diff(w, e))
		}
	}
}

// sameEntry is cmp.Equal for entries but their Params (which Load leaves
// out since schema 3), fast enough for 100,000 of them.
func sameEntry(a, b engine.Entry) bool {
	ca, cb := a.Command, b.Command
	return a.Key == b.Key && a.Seq == b.Seq && a.Lane == b.Lane && a.Fields == b.Fields &&
		a.Offences == b.Offences && a.Job == b.Job && a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) &&
		slices.Equal(ca.ExtraArgs, cb.ExtraArgs) &&
		ca.Name == cb.Name && ca.Executable == cb.Executable && ca.TimeoutAllowed == cb.TimeoutAllowed &&
		ca.Protocol == cb.Protocol && ca.Line == cb.Line
}

// TestLoad_ExpiryOrder checks Load's order on a store written as a storm
// writes it: entries decoded in key order come back in expiry order, ties
// by key, each the one stored (see permute).
func TestLoad_ExpiryOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Now()
	entries := make([]engine.Entry, 3_000)
	for i := range entries {
		entries[i] = realEntry(i, now)
		entries[i].Expires = now.Add(time.Duration(i*7919%97) * time.Second) // many ties
	}
	writeStorm(t, path, entries)
	db := mustOpen(t, path)
	defer db.Close()
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	checkLoaded(t, entries, s.Entries)
	for i := 1; i < len(s.Entries); i++ {
		a, b := s.Entries[i-1], s.Entries[i]
		if a.Expires.Equal(b.Expires) && a.Key >= b.Key {
			t.Fatalf("entries %d and %d expire together but %q comes before %q", i-1, i, a.Key, b.Key)
		}
	}
}

// TestPermute checks permute against a copy made the plain way, on
// permutations with fixed points, long cycles and none.
func TestPermute(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 3, 10, 1000} {
		for _, perm := range [][]int{identity(n), r.Perm(n)} {
			entries, order := make([]engine.Entry, n), make([]rank, n)
			for i := range entries {
				entries[i].Key = fmt.Sprint(i)
			}
			for r, i := range perm {
				order[r] = rank{i: uint32(i)}
			}
			want := make([]engine.Entry, n)
			for r, o := range order {
				want[r] = entries[o.i]
			}
			permute(entries, order)
			for i := range want {
				if entries[i].Key != want[i].Key {
					t.Fatalf("n=%d: place %d holds %s, want %s", n, i, entries[i].Key, want[i].Key)
				}
			}
		}
	}
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}
