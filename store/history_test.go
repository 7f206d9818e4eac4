package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// historyStore is what both stores offer for the history.
type historyStore interface {
	engine.Store
	engine.HistoryReader
	PruneHistory(now time.Time) (int, error)
}

// withHistoryClock gives the pruner a clock, a period and a report.
func withHistoryClock(now func() time.Time, every time.Duration, pruned func(int, error)) Option {
	return func(o *options) { o.history.now, o.history.every, o.history.pruned = now, every, pruned }
}

// bothHistory runs test on a DB and on a Memory with the same bounds.
func bothHistory(t *testing.T, window time.Duration, perTarget int, test func(t *testing.T, s historyStore)) {
	t.Run("DB", func(t *testing.T) {
		test(t, mustOpen(t, filepath.Join(t.TempDir(), "state.db"), WithHistory(window, perTarget)))
	})
	t.Run("Memory", func(t *testing.T) {
		m := NewMemory()
		m.SetHistory(window, perTarget)
		test(t, m)
	})
}

func event(target string, at time.Time, outcome, alert string) engine.HistoryEvent {
	return engine.HistoryEvent{Target: target, Time: at, Outcome: outcome, AlertID: alert, RuleID: "5712",
		Level: 10, Groups: "syslog,sshd,", Line: 12, Command: "firewall-drop", Key: "firewall-drop-" + target}
}

func applyHistory(t *testing.T, s engine.Store, evs ...engine.HistoryEvent) {
	t.Helper()
	if err := s.Apply(engine.Change{History: evs}); err != nil {
		t.Fatalf("apply history: %v", err)
	}
}

// alertsOf is the alert ids of target's history, in order.
func alertsOf(t *testing.T, s engine.HistoryReader, target string) []string {
	t.Helper()
	evs, err := s.History(target)
	if err != nil {
		t.Fatalf("history of %s: %v", target, err)
	}
	ids := []string{}
	for _, ev := range evs {
		ids = append(ids, ev.AlertID)
	}
	return ids
}

// TestHistory_RoundTrip: every field comes back, in UTC, a target's events
// in time order (then in the order given), and a target is not a prefix
// of another's.
func TestHistory_RoundTrip(t *testing.T) {
	bothHistory(t, 0, 0, func(t *testing.T, s historyStore) {
		a := event("203.0.113.7", t0, engine.HistoryApplied, "1.1")
		a.Groups = "syslog,sshd,authentication_failures,pci_dss_10.2.4,"
		b := event("203.0.113.7", t0.Add(time.Second), engine.HistoryEscaped+engine.SkipLocation, "1.2")
		b.Key, b.Level, b.Line = "", -1, 0
		c := event("203.0.113.7", t0.Add(time.Second), engine.HistoryAborted, "1.3") // same time: after b
		other := event("203.0.113.70", t0, engine.HistoryApplied, "2.1")
		user := event("root", t0, engine.HistoryEscaped+engine.SkipWhiteList, "3.1")
		applyHistory(t, s, c, other)
		applyHistory(t, s, a) // older, given later
		if err := s.Apply(engine.Change{History: []engine.HistoryEvent{user}, BootID: "b"}); err != nil {
			t.Fatal(err)
		}
		merged := event("203.0.113.7", t0.Add(time.Second), engine.HistoryReverted, "1.4")
		merged.Repeats, merged.LastAlertID, merged.Last = 41, "1.45", t0.Add(3*time.Second+time.Millisecond)
		applyHistory(t, s, merged)
		got, err := s.History("203.0.113.7")
		if err != nil {
			t.Fatal(err)
		}
		if ids := alertsOf(t, s, "203.0.113.7"); !reflect.DeepEqual(ids, []string{"1.1", "1.3", "1.4"}) {
			t.Fatalf("order: %v", ids)
		}
		want := a
		want.Time = a.Time.UTC()
		if !reflect.DeepEqual(got[0], want) || got[0].Time.Location() != time.UTC {
			t.Errorf("round trip:\n got %+v\nwant %+v", got[0], want)
		}
		want = merged
		want.Time, want.Last = merged.Time.UTC(), merged.Last.UTC()
		if !reflect.DeepEqual(got[2], want) {
			t.Errorf("round trip of merged events:\n got %+v\nwant %+v", got[2], want)
		}
		applyHistory(t, s, b)
		if ids := alertsOf(t, s, "203.0.113.7"); !reflect.DeepEqual(ids, []string{"1.1", "1.3", "1.4", "1.2"}) {
			t.Errorf("same time, later given, comes later: %v", ids)
		}
		got, _ = s.History("203.0.113.7")
		if g := got[3]; g.Level != -1 || g.Line != 0 || g.Key != "" || g.Outcome != "escaped:location" {
			t.Errorf("escaped event %+v", g)
		}
		for target, want := range map[string][]string{"203.0.113.70": {"2.1"}, "root": {"3.1"}, "203.0.113": {}, "nobody": {}} {
			if ids := alertsOf(t, s, target); !reflect.DeepEqual(ids, want) {
				t.Errorf("history of %s: %v, want %v", target, ids, want)
			}
		}
	})
}

// TestHistory_Invalid: a target that cannot key history fails the whole
// Change, in both stores, and writes nothing.
func TestHistory_Invalid(t *testing.T) {
	bothHistory(t, 0, 0, func(t *testing.T, s historyStore) {
		for _, bad := range []engine.HistoryEvent{
			{Target: "", Time: t0},
			{Target: "a\x00b", Time: t0},
			{Target: string(make([]byte, engine.MaxHistoryTarget+1)), Time: t0},
			{Target: "203.0.113.9", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		} {
			err := s.Apply(engine.Change{Put: []engine.Entry{entry("k", 1, time.Hour)}, History: []engine.HistoryEvent{bad}})
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%q: %v, want ErrInvalid", bad.Target, err)
			}
		}
		if st, _ := s.Load(); len(st.Entries) != 0 {
			t.Errorf("an invalid Change wrote %+v", st.Entries)
		}
	})
}

// TestHistory_FoldsRepeats: an attacker who keeps coming while blocked is
// one "aborted" record with its count and last alert, however many commits
// it takes, in both stores; anything else in between starts a new record.
func TestHistory_FoldsRepeats(t *testing.T) {
	bothHistory(t, 0, 0, func(t *testing.T, s historyStore) {
		const ip = "203.0.113.7"
		applyHistory(t, s, event(ip, t0, engine.HistoryApplied, "a0"))
		for i := range 200 {
			applyHistory(t, s, event(ip, t0.Add(time.Duration(i+1)*time.Second), engine.HistoryAborted, fmt.Sprint("r", i)))
		}
		applyHistory(t, s, event(ip, t0.Add(time.Hour), engine.HistoryReverted, "a0"))
		applyHistory(t, s, event(ip, t0.Add(time.Hour+time.Second), engine.HistoryAborted, "late")) // not the last record's like
		hist, err := s.History(ip)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range hist {
			got = append(got, fmt.Sprintf("%s %s x%d %s", ev.Outcome, ev.AlertID, ev.Repeats, ev.LastAlertID))
		}
		want := []string{"applied a0 x0 ", "aborted-already-active r0 x199 r199", "reverted a0 x0 ", "aborted-already-active late x0 "}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("history:\n got %q\nwant %q", got, want)
		}
		if !hist[1].Last.Equal(t0.Add(200 * time.Second)) {
			t.Errorf("folded record's last time %v", hist[1].Last)
		}
		if db, ok := s.(*DB); ok {
			checkHistoryCounts(t, db)
		}
	})
}

// TestHistory_CapPerTarget: a target keeps its newest records only,
// whether they come one Change at a time or many in one; the others keep
// theirs.
func TestHistory_CapPerTarget(t *testing.T) {
	bothHistory(t, 0, 5, func(t *testing.T, s historyStore) {
		applyHistory(t, s, event("198.51.100.1", t0, engine.HistoryApplied, "quiet"))
		for i := range 8 { // each of another rule: not folded
			ev := event("203.0.113.7", t0.Add(time.Duration(i)*time.Second), engine.HistoryAborted, fmt.Sprint(i))
			ev.RuleID = fmt.Sprint(5700 + i)
			applyHistory(t, s, ev)
		}
		if ids := alertsOf(t, s, "203.0.113.7"); !reflect.DeepEqual(ids, []string{"3", "4", "5", "6", "7"}) {
			t.Errorf("after 8 Changes: %v", ids)
		}
		var storm []engine.HistoryEvent
		for i := range 12 {
			ev := event("203.0.113.7", t0.Add(time.Minute+time.Duration(i)*time.Second), engine.HistoryAborted, fmt.Sprint("s", i))
			ev.RuleID = fmt.Sprint(5800 + i)
			storm = append(storm, ev)
		}
		applyHistory(t, s, storm...)
		if ids := alertsOf(t, s, "203.0.113.7"); !reflect.DeepEqual(ids, []string{"s7", "s8", "s9", "s10", "s11"}) {
			t.Errorf("after a storm in one Change: %v", ids)
		}
		if ids := alertsOf(t, s, "198.51.100.1"); !reflect.DeepEqual(ids, []string{"quiet"}) {
			t.Errorf("another target: %v", ids)
		}
		if db, ok := s.(*DB); ok {
			checkHistoryCounts(t, db)
		}
	})
}

// TestHistory_PruneByAge: PruneHistory at a time (the fake clock) deletes
// what is older than the window there, target by target, in batches: more
// old records of one target than a batch, and more targets than a scan.
func TestHistory_PruneByAge(t *testing.T) {
	bothHistory(t, time.Hour, 0, func(t *testing.T, s historyStore) {
		now := t0.Add(24 * time.Hour)
		var old, young []engine.HistoryEvent
		for i := range historyPruneBatch + 88 { // one target, more than a batch
			ev := event("203.0.113.7", now.Add(-2*time.Hour+time.Duration(i)*time.Millisecond), engine.HistoryAborted, fmt.Sprint("old", i))
			ev.Level = i // not alike: one record each
			old = append(old, ev)
		}
		for i := range historyPruneScan + 100 { // more targets than a scan, one old record each
			old = append(old, event(fmt.Sprintf("198.18.%d.%d", i/256, i%256), now.Add(-61*time.Minute), engine.HistoryApplied, "gone"))
		}
		young = append(young,
			event("203.0.113.7", now.Add(-59*time.Minute), engine.HistoryReverted, "young"),
			event("198.18.0.5", now.Add(-time.Hour), engine.HistoryApplied, "edge"), // exactly the window: kept
			event("203.0.113.8", now, engine.HistoryApplied, "now"))
		applyHistory(t, s, young...) // first: Memory would prune the old records itself
		applyHistory(t, s, old...)
		n, err := s.PruneHistory(now)
		if err != nil || n != len(old) {
			t.Fatalf("pruned %d (%v), want %d", n, err, len(old))
		}
		for target, want := range map[string][]string{"203.0.113.7": {"young"}, "198.18.0.5": {"edge"}, "198.18.0.6": {}, "203.0.113.8": {"now"}} {
			if ids := alertsOf(t, s, target); !reflect.DeepEqual(ids, want) {
				t.Errorf("%s after pruning: %v, want %v", target, ids, want)
			}
		}
		if n, err := s.PruneHistory(now); n != 0 || err != nil {
			t.Errorf("second pass pruned %d (%v)", n, err)
		}
		if db, ok := s.(*DB); ok {
			if got := checkHistoryCounts(t, db); got != 3 {
				t.Errorf("%d targets counted after pruning, want 3", got)
			}
		}
		if n, _ := s.PruneHistory(now.Add(2 * time.Hour)); n != 3 {
			t.Errorf("pruned %d at the end, want 3", n)
		}
	})
}

// checkHistoryCounts checks the count bucket against the records, and
// returns how many targets it holds.
func checkHistoryCounts(t *testing.T, db *DB) int {
	t.Helper()
	targets := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		want := map[string]uint64{}
		err := tx.Bucket(bucketHistory).ForEach(func(k, _ []byte) error {
			target, _, err := parseHistoryKey(k)
			want[string(target)]++
			return err
		})
		if err != nil {
			return err
		}
		got := map[string]uint64{}
		err = tx.Bucket(bucketHistoryCount).ForEach(func(k, v []byte) error {
			got[string(k)] = binary.BigEndian.Uint64(v)
			return nil
		})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("history counts %v, records %v", got, want)
		}
		targets = len(got)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return targets
}

// TestHistory_Pruner: the store prunes by itself, on its clock, and stops
// at Close.
func TestHistory_Pruner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	passes := make(chan int, 100)
	clock := t0.Add(time.Hour)
	db := mustOpen(t, path, WithHistory(time.Hour, 0), withHistoryClock(func() time.Time { return clock }, time.Millisecond,
		func(n int, err error) {
			if err != nil {
				t.Errorf("prune: %v", err)
			}
			passes <- n
		}))
	applyHistory(t, db, event("203.0.113.7", t0.Add(-time.Minute), engine.HistoryApplied, "old"),
		event("203.0.113.7", t0.Add(time.Minute), engine.HistoryReverted, "young"))
	for n := range passes { // the pass that saw the records
		if n == 1 {
			break
		}
	}
	if ids := alertsOf(t, db, "203.0.113.7"); !reflect.DeepEqual(ids, []string{"young"}) {
		t.Errorf("after the pruner: %v", ids)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db.pruner != nil {
		t.Error("pruner left running after Close")
	}
}

// TestHistory_Off: a negative window records nothing, and pruning then
// removes what an earlier run kept.
func TestHistory_Off(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db := mustOpen(t, path)
	applyHistory(t, db, event("203.0.113.7", t0, engine.HistoryApplied, "kept"))
	db.Close()
	db = mustOpen(t, path, WithHistory(-1, 0))
	before := commits(t, db)
	applyHistory(t, db, event("203.0.113.7", t0.Add(time.Second), engine.HistoryApplied, "not kept"))
	if commits(t, db) != before {
		t.Error("a Change of history only committed with the history off")
	}
	if ids := alertsOf(t, db, "203.0.113.7"); !reflect.DeepEqual(ids, []string{"kept"}) {
		t.Errorf("history off: %v", ids)
	}
	if n, err := db.PruneHistory(t0); n != 1 || err != nil {
		t.Errorf("pruned %d (%v), want the 1 kept before", n, err)
	}
	m := NewMemory()
	m.SetHistory(-1, 0)
	applyHistory(t, m, event("203.0.113.7", t0, engine.HistoryApplied, "x"))
	if ids := alertsOf(t, m, "203.0.113.7"); len(ids) != 0 {
		t.Errorf("Memory with history off: %v", ids)
	}
}

// TestHistory_OlderStore: a schema-3 store written before the history
// reads as an empty history read-only, and gets its buckets at the next
// writable open.
func TestHistory_OlderStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db := mustOpen(t, path)
	if err := db.Apply(engine.Change{Put: []engine.Entry{entry("firewall-drop-203.0.113.7", 1, time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, name := range historyBuckets {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	ro, err := Open(path, WithReadOnly())
	if err != nil {
		t.Fatalf("read-only open of an older store: %v", err)
	}
	if evs, err := ro.History("203.0.113.7"); err != nil || len(evs) != 0 {
		t.Errorf("older store: %v %v", evs, err)
	}
	ro.Close()

	db = mustOpen(t, path)
	applyHistory(t, db, event("203.0.113.7", t0, engine.HistoryApplied, "1.1"))
	db.Close()
	ro, err = Open(path, WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if ids := alertsOf(t, ro, "203.0.113.7"); !reflect.DeepEqual(ids, []string{"1.1"}) {
		t.Errorf("read-only after the upgrade: %v", ids)
	}
	if st, _ := ro.Load(); len(st.Entries) != 1 {
		t.Errorf("entries after the upgrade: %+v", st.Entries)
	}
}

// TestHistory_MemoryPrunesItself: Memory prunes by age on the clock of the
// events it is given, so a dry run stays bounded without a pruner.
func TestHistory_MemoryPrunesItself(t *testing.T) {
	m := NewMemory()
	m.SetHistory(time.Hour, 0)
	applyHistory(t, m, event("203.0.113.7", t0, engine.HistoryApplied, "old"))
	applyHistory(t, m, event("198.51.100.1", t0.Add(2*time.Hour), engine.HistoryApplied, "new"))
	if ids := alertsOf(t, m, "203.0.113.7"); len(ids) != 0 {
		t.Errorf("old events of another target left: %v", ids)
	}
}

func TestHistory_DecodeRejects(t *testing.T) {
	k := historyKey("203.0.113.7", t0, 1)
	merged := event("203.0.113.7", t0, engine.HistoryApplied, "1.1")
	merged.Repeats, merged.LastAlertID, merged.Last = 1, "1.2", t0.Add(time.Second)
	for _, good := range [][]byte{encodeHistory(event("203.0.113.7", t0, engine.HistoryApplied, "1.1")), encodeHistory(merged)} {
		if _, err := decodeHistory(k, good); err != nil {
			t.Fatal(err)
		}
		for _, v := range [][]byte{nil, {2}, good[:len(good)-1], append(append([]byte{}, good...), 0), good[:5]} {
			if _, err := decodeHistory(k, v); err == nil {
				t.Errorf("decoded %x", v)
			}
		}
	}
	if _, err := decodeHistory([]byte("203.0.113.7"), encodeHistory(merged)); err == nil {
		t.Error("decoded a key without its time")
	}
}

// A folded record stays while its last event is within the window, though
// its first is older, in both stores; it goes once its last is old too.
func TestHistory_FoldedRecordPrunedByItsLastEvent(t *testing.T) {
	bothHistory(t, 7*24*time.Hour, 0, func(t *testing.T, s historyStore) {
		const ip = "203.0.113.7"
		for d := range 8 { // aborted once a day for 8 days: one record
			applyHistory(t, s, event(ip, t0.Add(time.Duration(d)*24*time.Hour), engine.HistoryAborted, fmt.Sprint("d", d)))
		}
		if n, err := s.PruneHistory(t0.Add(8 * 24 * time.Hour)); n != 0 || err != nil {
			t.Errorf("pruned %d (%v) while the last event is a day old", n, err)
		}
		if ids := alertsOf(t, s, ip); !reflect.DeepEqual(ids, []string{"d0"}) {
			t.Errorf("history %v, want the folded record", ids)
		}
		if n, err := s.PruneHistory(t0.Add(15 * 24 * time.Hour)); n != 1 || err != nil {
			t.Errorf("pruned %d (%v) once the last event is 8 days old, want 1", n, err)
		}
	})
}

// TestHistory_Gap: the store keeps the latest time the engine dropped
// events, whatever order they come in, across a reopen, read-only too;
// one older than the window, or with the history off, is none.
func TestHistory_Gap(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	gapOf := func(t *testing.T, s interface{ HistoryGap() (time.Time, error) }) time.Time {
		t.Helper()
		gap, err := s.HistoryGap()
		if err != nil {
			t.Fatal(err)
		}
		return gap
	}
	bothHistory(t, 0, 0, func(t *testing.T, s historyStore) {
		if gap := gapOf(t, s); !gap.IsZero() {
			t.Errorf("a new store's gap: %v", gap)
		}
		later, earlier := now.Add(-time.Hour), now.Add(-2*time.Hour)
		for _, gap := range []time.Time{later, earlier} {
			if err := s.Apply(engine.Change{HistoryGap: gap}); err != nil {
				t.Fatal(err)
			}
		}
		if gap := gapOf(t, s); !gap.Equal(later) {
			t.Errorf("gap %v, want the latest given %v", gap, later)
		}
	})
	bothHistory(t, 0, 0, func(t *testing.T, s historyStore) {
		if err := s.Apply(engine.Change{HistoryGap: now.Add(-DefaultHistoryWindow - time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if gap := gapOf(t, s); !gap.IsZero() {
			t.Errorf("a gap older than the window: %v", gap)
		}
	})
	bothHistory(t, -1, 0, func(t *testing.T, s historyStore) {
		if err := s.Apply(engine.Change{HistoryGap: now}); err != nil {
			t.Fatal(err)
		}
		if gap := gapOf(t, s); !gap.IsZero() {
			t.Errorf("with the history off: %v", gap)
		}
	})

	path := filepath.Join(t.TempDir(), "state.db")
	db := mustOpen(t, path)
	if err := db.Apply(engine.Change{HistoryGap: now}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := Open(path, WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if gap := gapOf(t, ro); !gap.Equal(now) {
		t.Errorf("after a reopen, read-only: %v, want %v", gap, now)
	}
}
