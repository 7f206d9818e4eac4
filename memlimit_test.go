package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeRuntime stands in for the runtime's memory limit and live heap; the
// governor's goroutine and the test may use it at once.
type fakeRuntime struct {
	mu         sync.Mutex
	live, held uint64 // held 0: as live
	limits     []int64
	freed      int      // FreeOSMemory calls
	events     []string // "free", and what was asked of huge pages: "room", "on", "off"
	room       bool     // the platform makes the room for huge pages asked
	free       uint64   // the heap's free memory
}

func (r *fakeRuntime) governor(getenv func(string) string) *memoryGovernor {
	g := newMemoryGovernor(getenv)
	g.setLimit = func(l int64) int64 {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.limits = append(r.limits, l)
		return 0
	}
	g.memory = func() runtimeMemory {
		r.mu.Lock()
		defer r.mu.Unlock()
		return runtimeMemory{live: r.live, held: max(r.held, r.live), free: r.free}
	}
	g.freeOS = func() { r.mu.Lock(); defer r.mu.Unlock(); r.freed++; r.events = append(r.events, "free") }
	g.hugeRoom = func(n int) (int, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, "room")
		if !r.room {
			return 0, nil
		}
		return n, nil
	}
	g.hugeAdvise = func(on bool) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, map[bool]string{true: "on", false: "off"}[on])
		return nil
	}
	return g
}

// takeEvents returns the events since the last call.
func (r *fakeRuntime) takeEvents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}

// setLive makes the next collections find live bytes live.
func (r *fakeRuntime) setLive(live uint64) { r.mu.Lock(); defer r.mu.Unlock(); r.live = live }

// state returns the limits set so far and how often memory was returned.
func (r *fakeRuntime) state() (limits []int64, freed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.limits), r.freed
}

// runGovernor runs g on e until the test ends.
func runGovernor(t *testing.T, g *memoryGovernor, e governedEngine) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.run(ctx, e, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	t.Cleanup(func() { cancel(); <-done })
}

func noEnv(string) string { return "" }

// TestMemoryGovernor_FollowsTheTable: the limit is the room for a storm in
// flight plus the heap per entry times the table's size, set again only
// when it moved by a MiB or more.
func TestMemoryGovernor_FollowsTheTable(t *testing.T) {
	var rt fakeRuntime
	g := rt.governor(noEnv)
	g.follow(0)
	g.follow(1000) // 700 KB more: not worth a call
	g.follow(2000)
	g.follow(100_000)
	g.follow(99_000) // down by 700 KB
	g.follow(50_000) // a storm's blocks expired
	want := []int64{memoryRoom, memoryRoom + 2000*minEntryHeap, memoryRoom + 100_000*minEntryHeap, memoryRoom + 50_000*minEntryHeap}
	if !slices.Equal(rt.limits, want) {
		t.Errorf("limits %v, want %v", rt.limits, want)
	}
	if g.limit != want[len(want)-1] {
		t.Errorf("limit %d, want the last set %d", g.limit, want[len(want)-1])
	}
}

// TestMemoryGovernor_Measures: after a full collection the heap per entry
// is what was live over the table's size, within bounds, and only from a
// table large enough for the daemon's own heap not to dominate.
func TestMemoryGovernor_Measures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		live     uint64
		entries  int
		perEntry int64
	}{
		{"the table's own heap", 90 << 20, 100_000, (90 << 20) / 100_000},
		{"a lean table: the floor", 30 << 20, 100_000, minEntryHeap},
		{"big alerts: the ceiling", 600 << 20, 100_000, maxEntryHeap},
		{"a small table: not measured", 40 << 20, measureFrom - 1, minEntryHeap},
		{"an empty table: not measured", 4 << 20, 0, minEntryHeap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := fakeRuntime{live: tc.live}
			g := rt.governor(noEnv)
			g.measured(tc.entries)
			if g.perEntry != tc.perEntry {
				t.Errorf("per entry %d, want %d", g.perEntry, tc.perEntry)
			}
			want := max(memoryRoom+tc.perEntry*int64(tc.entries), int64(tc.live)+floorRoom)
			if !slices.Equal(rt.limits, []int64{want}) {
				t.Errorf("limits %v, want [%d]", rt.limits, want)
			}
		})
	}
}

// TestMemoryGovernor_Overflow: a table too large for the arithmetic gets
// no limit at all rather than a wrapped one.
func TestMemoryGovernor_Overflow(t *testing.T) {
	var rt fakeRuntime
	g := rt.governor(noEnv)
	g.perEntry = maxEntryHeap
	g.follow(math.MaxInt64 / maxEntryHeap)
	if want := []int64{math.MaxInt64}; !slices.Equal(rt.limits, want) {
		t.Errorf("limits %v, want %v", rt.limits, want)
	}
}

// TestMemoryGovernor_OperatorsLimitStands: with GOMEMLIMIT set, the
// governor never sets a limit.
func TestMemoryGovernor_OperatorsLimitStands(t *testing.T) {
	var rt fakeRuntime
	g := rt.governor(func(k string) string {
		if k == "GOMEMLIMIT" {
			return "200MiB"
		}
		return ""
	})
	g.follow(100_000)
	g.measured(100_000)
	if len(rt.limits) != 0 {
		t.Errorf("limits set despite GOMEMLIMIT: %v", rt.limits)
	}
}

// TestMain_SetsTheMemoryLimit: once start-up is done, the daemon sets the
// limit for its table (empty here: the room alone).
func TestMain_SetsTheMemoryLimit(t *testing.T) {
	d := startInProcess(t, newRoot(t, confWith(60)))
	deadline := time.After(10 * time.Second)
	for {
		d.mu.Lock()
		limits := slices.Clone(d.limits)
		d.mu.Unlock()
		if len(limits) > 0 {
			if want := []int64{memoryRoom}; !slices.Equal(limits, want) {
				t.Fatalf("limits %v, want %v", limits, want)
			}
			return
		}
		select {
		case <-d.limitSet:
		case <-deadline:
			t.Fatalf("no memory limit set after start-up:\n%s", d.logs())
		}
	}
}

// governed is an engine as the governor sees it.
type governed struct {
	reapplied, bursts chan struct{}
	entries           atomic.Int64
}

func (g *governed) Reapplied() <-chan struct{} { return g.reapplied }
func (g *governed) Bursts() <-chan struct{}    { return g.bursts }
func (g *governed) Entries() int               { return int(g.entries.Load()) }

// TestMemoryGovernor_Run: after start-up the heap goes back to the OS and
// the limit is measured; a storm's commits move the limit at once, and its
// heap goes back burstQuiet after the last; a table that grows one block
// at a time, with no storm, is followed every followEvery.
func TestMemoryGovernor_Run(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rt fakeRuntime // nothing live: below the floor, minEntryHeap
		g := rt.governor(noEnv)
		e := &governed{reapplied: make(chan struct{}), bursts: make(chan struct{}, 1)}
		e.entries.Store(20_000)
		runGovernor(t, g, e)
		check := func(what string, wantFreed int, want ...int64) {
			t.Helper()
			synctest.Wait()
			if limits, freed := rt.state(); freed != wantFreed || !slices.Equal(limits, want) {
				t.Fatalf("%s: freed %d times, limits %v; want %d, %v", what, freed, limits, wantFreed, want)
			}
		}
		at := func(n int64) int64 { return memoryRoom + n*minEntryHeap }
		check("before start-up is done", 0)
		close(e.reapplied)
		check("start-up done", 1, at(20_000))

		e.entries.Store(30_000)
		e.bursts <- struct{}{}
		check("a storm's commit", 1, at(20_000), at(30_000))
		time.Sleep(burstQuiet - time.Millisecond)
		e.entries.Store(40_000)
		e.bursts <- struct{}{}
		check("the storm goes on", 1, at(20_000), at(30_000), at(40_000))
		time.Sleep(burstQuiet)
		check("the storm is over", 2, at(20_000), at(30_000), at(40_000))

		e.entries.Store(45_000) // one at a time, no burst
		time.Sleep(followEvery)
		check("a slow growth", 2, at(20_000), at(30_000), at(40_000), at(45_000))
	})
}

// TestMemoryGovernor_NeverBelowTheLiveHeap: heap that does not grow with
// the table as measured (a dry run keeps each alert; offence counts) raises
// the limit to what the last collection found live plus floorRoom; it does
// not leave the collector running back to back.
func TestMemoryGovernor_NeverBelowTheLiveHeap(t *testing.T) {
	rt := fakeRuntime{live: 150 << 20}
	g := rt.governor(noEnv)
	g.follow(50_000) // the table's share: 48 MiB + 35 MB, under what is live
	if want := []int64{150<<20 + floorRoom}; !slices.Equal(rt.limits, want) {
		t.Errorf("limits %v, want %v", rt.limits, want)
	}
}

// TestMemoryGovernor_KeepsWhatSurvivorsHold: once most of a big table
// expired, the few entries left keep most of its pages; the limit stays
// above what the runtime held at the last measure, and a table a quarter
// smaller is measured again, its memory returned first.
func TestMemoryGovernor_KeepsWhatSurvivorsHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := fakeRuntime{live: 150 << 20, held: 170 << 20}
		g := rt.governor(noEnv)
		e := &governed{reapplied: make(chan struct{}), bursts: make(chan struct{}, 1)}
		e.entries.Store(250_000)
		close(e.reapplied)
		runGovernor(t, g, e)
		last := func() int64 {
			synctest.Wait()
			limits, _ := rt.state()
			return limits[len(limits)-1]
		}
		// 629 B live per entry: the floor of 700 B a entry.
		if got, want := last(), int64(max(memoryRoom+minEntryHeap*250_000, 170<<20+floorRoom)); got != want {
			t.Fatalf("limit %d after start-up, want %d", got, want)
		}
		// 90% expired, at random: 20 MB live, but the pages still held.
		rt.setLive(20 << 20)
		e.entries.Store(25_000)
		time.Sleep(followEvery)
		synctest.Wait()
		if _, freed := rt.state(); freed != 2 {
			t.Errorf("memory returned %d times, want again once the table shrank", freed)
		}
		// FreeOSMemory gave back nothing: the survivors keep the pages.
		if got, held := last(), int64(170<<20); got < held+floorRoom {
			t.Errorf("limit %d under what the runtime holds (%d) plus floorRoom", got, held)
		}
	})
}

// TestMemoryGovernor_HugePagesForStorms: once start-up is done, with the
// heap's memory back to the OS, room for huge pages is made, advised, when
// the heap holds little free memory, and a collection frees its block; the
// advice stays until the first storm is over, is dropped before memory goes
// back to the OS (khugepaged would fill the room around survivors), and is
// given again at the next storm's commit. With much free memory in the heap
// (a large table loaded), or where the platform made no room, nothing is
// advised.
func TestMemoryGovernor_HugePagesForStorms(t *testing.T) {
	for _, c := range []struct {
		name    string
		free    uint64
		room    bool
		startUp []string // events at start-up done
		storm   []string // at a storm's commit, then once it is over
		again   []string // the same for the next storm
	}{
		{"little free", 4 << 20, true, []string{"free", "room", "free"}, []string{"off", "free"}, []string{"on", "off", "free"}},
		{"used memory free", memoryRoom/8 + 1, true, []string{"free"}, []string{"free"}, []string{"free"}},
		{"no room", 0, false, []string{"free", "room"}, []string{"free"}, []string{"free"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := fakeRuntime{room: c.room, free: c.free}
				g := rt.governor(noEnv)
				e := &governed{reapplied: make(chan struct{}), bursts: make(chan struct{}, 1)}
				runGovernor(t, g, e)
				synctest.Wait()
				if ev := rt.takeEvents(); len(ev) != 0 {
					t.Fatalf("before start-up is done: %v, want nothing", ev)
				}
				close(e.reapplied)
				synctest.Wait()
				if ev := rt.takeEvents(); !slices.Equal(ev, c.startUp) {
					t.Fatalf("start-up done: %v, want %v", ev, c.startUp)
				}
				for i, want := range [][]string{c.storm, c.again} {
					e.entries.Add(10_000)
					e.bursts <- struct{}{}
					time.Sleep(burstQuiet)
					synctest.Wait()
					if ev := rt.takeEvents(); !slices.Equal(ev, want) {
						t.Fatalf("storm %d: %v, want %v", i+1, ev, want)
					}
				}
			})
		})
	}
}
