package store

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

func benchEntry(i int) engine.Entry {
	e := entry(fmt.Sprintf("firewall-drop-198.%d.%d.%d", 18+i/65536, i/256%256, i%256), uint64(i), time.Duration(i*7919%86400)*time.Second)
	e.Command = engine.Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
	e.Params = []byte(`{"version":1,"origin":{"name":"node01","module":"wazuh-execd"},"command":"add"}`)
	e.Fields = engine.Fields{User: "-", SrcIP: "198.18.0.1", AlertID: "1.2", RuleID: "5712", Location: "sshd", Filename: "-"}
	return e
}

// reportApply reports throughput and how many Apply calls shared a commit.
func reportApply(b *testing.B, db *DB, before int) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	if n := commits(b, db) - before; n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "applies/commit")
	}
}

// BenchmarkApply_Serial is one caller, one Put per Apply: every Apply pays
// its own commit and fsync.
func BenchmarkApply_Serial(b *testing.B) {
	db := mustOpen(b, filepath.Join(b.TempDir(), "state.db"))
	before := commits(b, db)
	i := 0
	for b.Loop() {
		if err := db.Apply(engine.Change{Put: []engine.Entry{benchEntry(i)}}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportApply(b, db, before)
}

// BenchmarkApply_Parallel is many callers, one Put per Apply: their calls
// share commits.
func BenchmarkApply_Parallel(b *testing.B) {
	db := mustOpen(b, filepath.Join(b.TempDir(), "state.db"))
	before := commits(b, db)
	var next atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := db.Apply(engine.Change{Put: []engine.Entry{benchEntry(int(next.Add(1)))}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportApply(b, db, before)
}

// BenchmarkLoad_100k reads a store of 100,000 entries.
func BenchmarkLoad_100k(b *testing.B) {
	const n, chunk = 100_000, 5_000
	db := mustOpen(b, filepath.Join(b.TempDir(), "state.db"))
	for i := 0; i < n; i += chunk {
		c := engine.Change{Put: make([]engine.Entry, 0, chunk)}
		for j := i; j < i+chunk; j++ {
			c.Put = append(c.Put, benchEntry(j))
		}
		if err := db.Apply(c); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		s, err := db.Load()
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Entries) != n {
			b.Fatalf("loaded %d entries, want %d", len(s.Entries), n)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "entries/s")
}
