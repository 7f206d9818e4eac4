package main

import (
	"context"
	"log/slog"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/threatlockdown/threatlockdown/platform"
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
//
// The limit never goes below what the collector can get down to, plus half
// the room: the heap the last collection found live, and what the runtime
// held beyond it at the last measure (pages that a few survivors keep, as
// after most of a big table expired; the runtime's own). A table whose
// entries weigh more than measured (a dry run keeps each alert in memory),
// or heap that does not grow with the table (offence counts), raise the
// limit instead of having the collector run back to back.
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
	// floorRoom is the room left above what the collector can get down to.
	floorRoom = memoryRoom / 2
)

// burstQuiet is how long storms must stop before the memory they grew is
// returned to the OS (one forced collection, tens of milliseconds at
// 100,000 blocks).
const burstQuiet = 2 * time.Second

// followEvery is how often the limit follows a table that grows without
// storms (one alert at a time adds no burst): 100,000 blocks added that
// slowly take hours, and the room covers what grows in between.
const followEvery = 10 * time.Second

// memoryGovernor sets the runtime's soft memory limit from the table's
// size. Its methods are called from one goroutine.
type memoryGovernor struct {
	perEntry   int64 // heap per entry, last measured after a full collection
	overhead   int64 // what the runtime held beyond the live heap, at that measure
	measuredAt int   // the table's size at that measure
	limit      int64 // the limit last set, 0 before
	off        bool  // GOMEMLIMIT was given: the operator's limit stands

	setLimit func(int64) int64 // debug.SetMemoryLimit
	memory   func() runtimeMemory
	freeOS   func() // debug.FreeOSMemory

	// Huge pages for storms (platform/hugepages_linux.go): room made once
	// start-up is done, advised while storms go.
	hugeRoom   func(int) (int, error) // platform.HugeRoom
	hugeAdvise func(bool) error       // platform.HugeAdvise
	hasRoom    bool                   // made, and advised at first
	hugeOn     bool                   // advised now
}

// runtimeMemory is what the runtime reports of its memory.
type runtimeMemory struct {
	live uint64 // the heap the last collection marked live
	held uint64 // all the runtime holds from the OS and has not released
	free uint64 // the heap's free memory, released or not
}

// governedEngine is what the governor watches of the engine.
type governedEngine interface {
	Reapplied() <-chan struct{} // start-up is done
	Bursts() <-chan struct{}    // a storm's commit
	Entries() int               // the table's size
}

// newMemoryGovernor returns the governor of this process. It does nothing
// when the operator set GOMEMLIMIT.
func newMemoryGovernor(getenv func(string) string) *memoryGovernor {
	return &memoryGovernor{
		perEntry: minEntryHeap,
		off:      getenv("GOMEMLIMIT") != "",
		setLimit: debug.SetMemoryLimit,
		memory:   readMemory,
		freeOS:   debug.FreeOSMemory,

		hugeRoom:   platform.HugeRoom,
		hugeAdvise: platform.HugeAdvise,
	}
}

// run returns the heap that start-up grew (the store's load, a reboot's
// re-apply of every block) to the OS once it is done, and what storms grew
// once they stop for burstQuiet: the runtime would return it only slowly.
// Between, it has the limit follow the table: at each storm's commit, and
// every followEvery for a table that grows slowly; a table a quarter
// smaller than at the last measure (blocks expired) is measured again, with
// its heap returned first. It returns when ctx ends.
//
// Once start-up is done, when the heap holds little free memory, it makes
// room for huge pages in the heap; the room stays advised until the first
// storm is over, and the advice is given again at each storm's first big
// commit (Bursts).
func (g *memoryGovernor) run(ctx context.Context, e governedEngine, log *slog.Logger) {
	select {
	case <-e.Reapplied():
		g.freeOS()
		if g.makeRoom(log) {
			g.freeOS() // frees the room's block: not to be counted as held
		}
		g.measured(e.Entries())
		log.Debug("start-up done: memory returned to the OS", "memory_limit", g.limit)
	case <-ctx.Done():
		return
	}
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	follow := time.NewTicker(followEvery)
	defer follow.Stop()
	for {
		select {
		case <-e.Bursts():
			g.advise(true, log)
			g.follow(e.Entries())
			quiet.Reset(burstQuiet)
		case <-follow.C:
			if n := e.Entries(); n < g.measuredAt-g.measuredAt/4 {
				g.returnMemory(log)
				g.measured(n)
			} else {
				g.follow(n)
			}
		case <-quiet.C:
			g.returnMemory(log)
			g.measured(e.Entries())
			log.Info("storms over: memory returned to the OS", "memory_limit", g.limit)
		case <-ctx.Done():
			return
		}
	}
}

// makeRoom makes room for huge pages in the heap, advised (see
// platform/hugepages_linux.go), so that storms fault their memory in 2 MB
// at a time, and reports whether it did. It takes memoryRoom, the most a
// storm adds, from fresh heap: only when the heap holds little free memory
// (start-up loaded no large table), since a block taken from memory the
// heap used before is cleared by the runtime, every page touched, and its
// ranges keep their 4 KB page tables. A room made before the store's load
// slowed a restart of 100,000 from 0.28-0.29 s to 0.32 s.
func (g *memoryGovernor) makeRoom(log *slog.Logger) bool {
	if free := g.memory().free; free > memoryRoom/8 {
		log.Debug("no huge pages for storms: the heap has used memory free", "free", free)
		return false
	}
	n, err := g.hugeRoom(memoryRoom)
	if err != nil {
		log.Warn("no huge pages for storms", "err", err)
	}
	g.hasRoom, g.hugeOn = n > 0, n > 0
	return n > 0
}

// advise gives or drops the advice for huge pages in the room.
func (g *memoryGovernor) advise(on bool, log *slog.Logger) {
	if !g.hasRoom || on == g.hugeOn {
		return
	}
	if err := g.hugeAdvise(on); err != nil {
		log.Warn("huge pages for storms", "on", on, "err", err)
	}
	g.hugeOn = on
}

// returnMemory returns to the OS what the heap holds but does not use. It
// drops the advice for huge pages first: the room now holds survivors here
// and there, and the kernel would fill each 2 MB around them again (a
// daemon left advised after a storm of 10,000 went from 44 to 73 MB of RSS
// in 40 s).
func (g *memoryGovernor) returnMemory(log *slog.Logger) {
	g.advise(false, log)
	g.freeOS()
}

// measured takes the heap per entry, and what the runtime holds beyond the
// heap, from the collection that just ran (the caller forced one:
// debug.FreeOSMemory), and sets the limit for entries.
func (g *memoryGovernor) measured(entries int) {
	m := g.memory()
	if entries >= measureFrom {
		g.perEntry = min(max(int64(m.live)/int64(entries), minEntryHeap), maxEntryHeap)
	}
	g.overhead = int64(m.held) - int64(m.live)
	g.overhead = max(g.overhead, 0)
	g.measuredAt = entries
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
	if live := int64(min(g.memory().live, math.MaxInt64/4)); live+g.overhead+floorRoom > limit {
		limit = live + g.overhead + floorRoom
	}
	if d := limit - g.limit; d > -1<<20 && d < 1<<20 {
		return
	}
	g.limit = limit
	g.setLimit(limit)
}

// readMemory reads the runtime's memory: the live heap of the last
// collection, and what it holds (all its memory but what it released).
func readMemory() runtimeMemory {
	s := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return runtimeMemory{live: v(0), held: v(1) - min(v(2), v(1)), free: v(2) + v(3)}
}
