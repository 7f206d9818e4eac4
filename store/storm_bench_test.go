package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// BenchmarkApply_Storm10k writes what a storm of 10,000 attackers makes the
// engine write: ten group commits of 1,000 new entries with their Params,
// into a new store:
//
//	go test -run '^$' -bench Apply_Storm10k -benchtime 5x ./store/
//
// It measured bbolt's InitialMmapSize (the file mapped once, at 1 GB)
// slower than letting bbolt map the file again as it grows, 142-175 ms
// against 132-135: with MAP_POPULATE each new map reads the file in at
// once, where a large map takes a page fault for each page touched.
func BenchmarkApply_Storm10k(b *testing.B) {
	now := time.Now()
	groups := make([][]engine.Entry, 10)
	for i := range 10_000 {
		groups[i/1000] = append(groups[i/1000], realEntry(i, now))
	}
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "state.db")
		db := mustOpen(b, path)
		b.StartTimer()
		for _, g := range groups {
			if err := db.Apply(engine.Change{Put: g}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		db.Close()
		os.Remove(path)
		b.StartTimer()
	}
}
