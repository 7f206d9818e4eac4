package main

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
)

// The daemon's heap follows its table. Go's collector lets the heap grow to
// twice what was live at the last collection; in a storm, what is live
// includes every alert in flight, so at 100,000 active blocks a storm took
// the daemon to twice the table's own heap and more (2.6-3.3 KB of RSS per
// entry in BenchmarkBuildUp100k, against 0.6 KB of heap the table needs).
// The governor sets a soft memory limit instead: the table's heap, as last
// measured per entry, plus memoryRoom for everything in flight. Near the
// limit the collector runs more often; it never stops the daemon (above the
// limit the runtime caps the collector at half the CPU).
const (
	// memoryRoom is the heap allowed beyond the table's: a storm's records
	// in flight (engine/handle.go bounds them), the store's commit, the
	// runtime's own. Storms of 10,000 into an empty table stay under it.
	memoryRoom = 48 << 20
	// entryHeap bounds the heap one entry is taken to need: at least
	// minEntryHeap (measured: 590-650 B at 100,000 entries), at most
	// maxEntryHeap (a measure taken at a small table is mostly the daemon's
	// own heap, not its entries').
	minEntryHeap = 700
	maxEntryHeap = 4 << 10
	// measureFrom is the table size from which a measure of the heap per
	// entry is trusted.
	measureFrom = 10_000
)

// memoryGovernor sets the runtime's soft memory limit from the table's
// size. Its methods are called from one goroutine.
type memoryGovernor struct {
	perEntry int64 // heap per entry, last measured after a full collection
	limit    int64 // the limit last set, 0 before
	off      bool  // GOMEMLIMIT was given: the operator's limit stands

	setLimit func(int64) int64 // debug.SetMemoryLimit
	liveHeap func() uint64     // the heap the last collection found live
}

// newMemoryGovernor returns the governor of this process. It does nothing
// when the operator set GOMEMLIMIT.
func newMemoryGovernor(getenv func(string) string) *memoryGovernor {
	return &memoryGovernor{
		perEntry: minEntryHeap,
		off:      getenv("GOMEMLIMIT") != "",
		setLimit: debug.SetMemoryLimit,
		liveHeap: liveHeap,
	}
}

// measured takes the heap per entry from the collection that just ran (the
// caller forced one: debug.FreeOSMemory) and sets the limit for entries.
func (g *memoryGovernor) measured(entries int) {
	if entries >= measureFrom {
		g.perEntry = min(max(int64(g.liveHeap())/int64(entries), minEntryHeap), maxEntryHeap)
	}
	g.follow(entries)
}

// follow sets the limit for a table of entries, when it moved by a MiB or
// more since it was last set.
func (g *memoryGovernor) follow(entries int) {
	if g.off {
		return
	}
	limit := memoryRoom + g.perEntry*int64(entries)
	if entries > (math.MaxInt64-memoryRoom)/maxEntryHeap {
		limit = math.MaxInt64
	}
	if d := limit - g.limit; d > -1<<20 && d < 1<<20 {
		return
	}
	g.limit = limit
	g.setLimit(limit)
}

// liveHeap is the heap the last collection marked live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
