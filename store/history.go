package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// History: what became of the alerts that triggered a response for each
// target, and of its blocks (engine.HistoryEvent), for `explain`. It is
// kept for a window (default DefaultHistoryWindow) and at most a number of
// records per target (default DefaultHistoryPerTarget), so that the file
// stays bounded by its active state plus that window, whatever a storm
// sends. See the package doc ("On disk") for the layout.

// History defaults; see WithHistory.
const (
	DefaultHistoryWindow    = 7 * 24 * time.Hour
	DefaultHistoryPerTarget = 1000
)

// Pruning by age runs every historyPruneEvery, each write transaction
// deleting at most historyPruneBatch records after a read transaction
// that looked at most at historyPruneScan targets: pruning never holds
// the file's write lock for long, and a group commit waits for it at most
// a few milliseconds.
const (
	historyPruneEvery = time.Minute
	historyPruneBatch = 512
	historyPruneScan  = 4096
)

var (
	bucketHistory      = []byte("history")       // target NUL time seq -> record
	bucketHistoryCount = []byte("history_count") // target -> 8-byte big-endian count of its records
	historyBuckets     = [][]byte{bucketHistory, bucketHistoryCount}
)

// historyOptions is how the history is bounded, and the pruner's clock.
type historyOptions struct {
	window    time.Duration // < 0: nothing is recorded
	perTarget int
	every     time.Duration    // pruning period
	now       func() time.Time // the pruner's clock
	pruned    func(int, error) // told after each pruning pass; tests
}

func defaultHistory() historyOptions {
	return historyOptions{window: DefaultHistoryWindow, perTarget: DefaultHistoryPerTarget,
		every: historyPruneEvery, now: time.Now}
}

// WithHistory bounds the history: records older than window are pruned
// (every minute, in small batches), and a target keeps only its newest
// perTarget records. window 0 and perTarget 0 mean the defaults (7 days,
// 1,000); a negative window records nothing and prunes what was kept.
func WithHistory(window time.Duration, perTarget int) Option {
	return func(o *options) {
		if window != 0 {
			o.history.window = window
		}
		if perTarget > 0 {
			o.history.perTarget = perTarget
		}
	}
}

// createHistory adds the history buckets to a store of schema 3 written
// before they existed: an older build ignores them, so the schema stays 3.
func createHistory(tx *bolt.Tx) error {
	for _, name := range historyBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	return nil
}

// validateHistory is validate's part for Change.History.
func validateHistory(evs []engine.HistoryEvent) error {
	for _, ev := range evs {
		if !engine.ValidHistoryTarget(ev.Target) {
			return fmt.Errorf("%w: history target %q", ErrInvalid, ev.Target)
		}
		if y := ev.Time.UTC().Year(); y < 0 || y > 9999 {
			return fmt.Errorf("%w: history event of %q in year %d", ErrInvalid, ev.Target, y)
		}
	}
	return nil
}

// historyKey is target, NUL, the time (8 bytes of unix seconds with the
// sign bit flipped, so that keys sort by time, then 4 bytes of
// nanoseconds), then seq (8 bytes): a target's records are one range, in
// time order.
func historyKey(target string, t time.Time, seq uint64) []byte {
	k := make([]byte, 0, len(target)+1+20)
	k = append(k, target...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(t.Unix())^1<<63)
	k = binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
	return binary.BigEndian.AppendUint64(k, seq)
}

// historyPrefix is the start of every key of target.
func historyPrefix(target []byte) []byte {
	return append(slices.Clip(target), 0)
}

// parseHistoryKey splits a key into its target and time.
func parseHistoryKey(k []byte) (target []byte, t time.Time, err error) {
	i := bytes.IndexByte(k, 0)
	if i < 0 || len(k)-i-1 != 20 {
		return nil, time.Time{}, fmt.Errorf("bad history key %q", k)
	}
	rest := k[i+1:]
	sec := int64(binary.BigEndian.Uint64(rest) ^ 1<<63)
	nsec := int64(binary.BigEndian.Uint32(rest[8:]))
	return k[:i], time.Unix(sec, nsec).UTC(), nil
}

// historyFormat is the first byte of a record: format 1 is the strings
// Outcome, AlertID, RuleID, Groups, Command, Key (uvarint length, bytes),
// then varint Level, uvarint Line and uvarint Repeats; when Repeats is not
// 0, varint nanoseconds from the time to Last, and the string LastAlertID.
// The target and time are in the key.
const historyFormat = 1

func encodeHistory(ev engine.HistoryEvent) []byte {
	b := make([]byte, 0, 16+len(ev.Outcome)+len(ev.AlertID)+len(ev.RuleID)+len(ev.Groups)+len(ev.Command)+len(ev.Key))
	b = append(b, historyFormat)
	for _, s := range []string{ev.Outcome, ev.AlertID, ev.RuleID, ev.Groups, ev.Command, ev.Key} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, int64(ev.Level))
	b = binary.AppendUvarint(b, uint64(ev.Line))
	b = binary.AppendUvarint(b, uint64(ev.Repeats))
	if ev.Repeats == 0 {
		return b
	}
	b = binary.AppendVarint(b, int64(ev.Last.Sub(ev.Time)))
	b = binary.AppendUvarint(b, uint64(len(ev.LastAlertID)))
	return append(b, ev.LastAlertID...)
}

var errHistoryRecord = errors.New("bad history record")

func decodeHistory(k, v []byte) (engine.HistoryEvent, error) {
	target, t, err := parseHistoryKey(k)
	if err != nil {
		return engine.HistoryEvent{}, err
	}
	ev := engine.HistoryEvent{Target: string(target), Time: t}
	if len(v) == 0 || v[0] != historyFormat {
		return ev, fmt.Errorf("%w of %q: format %v", errHistoryRecord, target, v[:min(len(v), 1)])
	}
	v = v[1:]
	for _, s := range []*string{&ev.Outcome, &ev.AlertID, &ev.RuleID, &ev.Groups, &ev.Command, &ev.Key} {
		n, w := binary.Uvarint(v)
		if w <= 0 || uint64(len(v)-w) < n {
			return ev, fmt.Errorf("%w of %q: short string", errHistoryRecord, target)
		}
		*s, v = string(v[w:w+int(n)]), v[w+int(n):]
	}
	level, w := binary.Varint(v)
	if w <= 0 {
		return ev, fmt.Errorf("%w of %q: level", errHistoryRecord, target)
	}
	v = v[w:]
	var nums [2]uint64
	for i := range nums {
		n, w := binary.Uvarint(v)
		if w <= 0 {
			return ev, fmt.Errorf("%w of %q: line or repeats", errHistoryRecord, target)
		}
		nums[i], v = n, v[w:]
	}
	ev.Level, ev.Line, ev.Repeats = int(level), int(nums[0]), int(nums[1])
	if ev.Repeats > 0 {
		d, w := binary.Varint(v)
		if w <= 0 {
			return ev, fmt.Errorf("%w of %q: last", errHistoryRecord, target)
		}
		ev.Last = ev.Time.Add(time.Duration(d))
		n, w2 := binary.Uvarint(v[w:])
		if w2 <= 0 || uint64(len(v)-w-w2) != n {
			return ev, fmt.Errorf("%w of %q: last alert", errHistoryRecord, target)
		}
		ev.LastAlertID, v = string(v[w+w2:]), nil
	}
	if len(v) != 0 {
		return ev, fmt.Errorf("%w of %q: %d bytes too many", errHistoryRecord, target, len(v))
	}
	return ev, nil
}

// putHistory writes the Change's history records, then trims each target
// it touched to its newest perTarget records. It runs in the group commit:
// a look at the target's last record and a put per record, a read and a
// put of each target's count, and a delete per record over the cap. An
// event like the target's last record (an attacker who keeps coming while
// blocked: aborted, aborted, ...) is folded into it, so that a target's
// records are the changes in what happened to it, not one per alert, and
// the cap keeps what matters.
func (w *encoded) putHistory(b *buckets) error {
	if len(w.hist) == 0 {
		return nil
	}
	seq := b.history.Sequence()
	added := make(map[string]int, 1)
	c := b.history.Cursor()
	for i, ev := range w.c.History {
		folded, err := foldHistory(b.history, c, ev)
		if err != nil {
			return err
		}
		if folded {
			continue
		}
		seq++
		if err := b.history.Put(historyKey(ev.Target, ev.Time, seq), w.hist[i]); err != nil {
			return fmt.Errorf("put history of %q: %w", ev.Target, err)
		}
		added[ev.Target]++
	}
	if err := b.history.SetSequence(seq); err != nil {
		return fmt.Errorf("history sequence: %w", err)
	}
	for target, n := range added {
		t := []byte(target)
		count := historyCount(b.historyCount, t) + uint64(n)
		if over := count - min(count, uint64(w.histCap)); over > 0 {
			if err := trimHistory(b.history, t, over); err != nil {
				return err
			}
			count -= over
		}
		if err := b.historyCount.Put(t, binary.BigEndian.AppendUint64(nil, count)); err != nil {
			return fmt.Errorf("count history of %q: %w", target, err)
		}
	}
	return nil
}

// foldHistory folds ev into the last record of its target when the two are
// alike (see engine.HistoryEvent.Repeats), and reports whether it did.
func foldHistory(h *bolt.Bucket, c *bolt.Cursor, ev engine.HistoryEvent) (bool, error) {
	prefix := historyPrefix([]byte(ev.Target))
	k, v := c.Seek(append(slices.Clip(prefix), bytes.Repeat([]byte{0xff}, 21)...)) // past the target's last key
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return false, nil
	}
	last, err := decodeHistory(k, v)
	if err != nil || !engine.HistoryAlike(last, ev) || ev.Time.Before(last.Time) {
		return false, nil // a bad record is left to the cap and the pruner
	}
	last.Repeats += 1 + ev.Repeats
	last.LastAlertID, last.Last = ev.AlertID, ev.Time
	if ev.Repeats > 0 {
		last.LastAlertID, last.Last = ev.LastAlertID, ev.Last
	}
	if err := h.Put(slices.Clone(k), encodeHistory(last)); err != nil {
		return false, fmt.Errorf("put history of %q: %w", ev.Target, err)
	}
	return true, nil
}

func historyCount(counts *bolt.Bucket, target []byte) uint64 {
	v := counts.Get(target)
	if len(v) != 8 {
		return 0 // none; a bad count reads as none, so the cap may keep more records until the pruner takes them
	}
	return binary.BigEndian.Uint64(v)
}

// trimHistory deletes the n oldest records of target.
func trimHistory(h *bolt.Bucket, target []byte, n uint64) error {
	prefix := historyPrefix(target)
	var old [][]byte
	c := h.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && uint64(len(old)) < n; k, _ = c.Next() {
		old = append(old, slices.Clone(k))
	}
	for _, k := range old {
		if err := h.Delete(k); err != nil {
			return fmt.Errorf("trim history of %q: %w", target, err)
		}
	}
	return nil
}

// setHistoryGap keeps the latest of the times events were dropped (see
// engine.Change.HistoryGap) in meta, as 8 bytes of big-endian unix
// nanoseconds.
func (w *encoded) setHistoryGap(b *buckets) error {
	gap := w.c.HistoryGap
	if gap.IsZero() {
		return nil
	}
	if old, ok := decodeGap(b.meta.Get(keyHistoryGap)); ok && !gap.After(old) {
		return nil
	}
	if err := b.meta.Put(keyHistoryGap, itob(uint64(gap.UnixNano()))); err != nil {
		return fmt.Errorf("put history gap: %w", err)
	}
	return nil
}

// decodeGap reads the meta value setHistoryGap wrote; false when there is
// none (or it is not 8 bytes, which only a damaged file holds: the gap is
// a note for explain, not worth refusing the store for).
func decodeGap(v []byte) (time.Time, bool) {
	n, err := btoi(v)
	if err != nil || n == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(n)).UTC(), true
}

// HistoryGap returns the latest time events were dropped before they
// reached the store (engine.Change.HistoryGap); zero when none were, or
// when that is older than the window, whose records are pruned anyway.
func (db *DB) HistoryGap() (time.Time, error) {
	if db.closed.Load() {
		return time.Time{}, fmt.Errorf("history gap: %w", ErrClosed)
	}
	var gap time.Time
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			gap, _ = decodeGap(meta.Get(keyHistoryGap))
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("history gap: %w", boltError(err))
	}
	return db.hist.inWindow(gap), nil
}

// inWindow is gap, or zero when it is outside the window at the
// pruner's clock.
func (o historyOptions) inWindow(gap time.Time) time.Time {
	if gap.IsZero() || o.window < 0 || gap.Before(o.now().Add(-o.window)) {
		return time.Time{}
	}
	return gap
}

// History returns the records kept for target, oldest first; none from a
// store written before the history existed.
func (db *DB) History(target string) ([]engine.HistoryEvent, error) {
	if db.closed.Load() {
		return nil, fmt.Errorf("history: %w", ErrClosed)
	}
	var out []engine.HistoryEvent
	err := db.bolt.View(func(tx *bolt.Tx) error {
		h := tx.Bucket(bucketHistory)
		if h == nil || !engine.ValidHistoryTarget(target) {
			return nil
		}
		prefix := historyPrefix([]byte(target))
		c := h.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			ev, err := decodeHistory(k, v)
			if err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history of %q: %w", target, boltError(err))
	}
	return out, nil
}

// PruneHistory deletes the records older than the window at now (every
// record, with a negative window), in batches: a read transaction finds
// up to historyPruneBatch of them, a short write transaction deletes
// them, until none is left. It returns how many it deleted. The store
// runs it every minute by itself; tests call it with their clock.
func (db *DB) PruneHistory(now time.Time) (int, error) {
	cutoff := now.Add(-db.hist.window)
	if db.hist.window < 0 {
		cutoff = now.Add(time.Nanosecond)
	}
	total := 0
	var from []byte
	for {
		if db.closed.Load() {
			return total, fmt.Errorf("prune history: %w", ErrClosed)
		}
		old, next, err := db.oldHistory(from, cutoff)
		if err != nil {
			return total, fmt.Errorf("prune history: %w", boltError(err))
		}
		if len(old) > 0 {
			n, err := db.deleteHistory(old)
			total += n
			if err != nil {
				return total, fmt.Errorf("prune history: %w", boltError(err))
			}
		}
		if next == nil {
			return total, nil
		}
		from = next
	}
}

// oldHistory finds records older than cutoff (a folded record by its last
// event), target by target from the
// target from (nil: the first): at most historyPruneBatch of them, looking
// at most at historyPruneScan targets. next is the target to go on from,
// nil when the end was reached. A target's records are in time order, so
// each target costs one seek, plus one step per old record.
func (db *DB) oldHistory(from []byte, cutoff time.Time) (old [][]byte, next []byte, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		h, counts := tx.Bucket(bucketHistory), tx.Bucket(bucketHistoryCount)
		if h == nil || counts == nil {
			return nil
		}
		tc, hc := counts.Cursor(), h.Cursor()
		t, _ := tc.First()
		if from != nil {
			t, _ = tc.Seek(from)
		}
		for scanned := 0; t != nil; t, _ = tc.Next() {
			if scanned == historyPruneScan {
				next = slices.Clone(t)
				return nil
			}
			scanned++
			prefix := historyPrefix(t)
			for k, v := hc.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = hc.Next() {
				_, at, err := parseHistoryKey(k)
				if err != nil {
					return err
				}
				if !at.Before(cutoff) {
					break
				}
				if ev, err := decodeHistory(k, v); err == nil && ev.Repeats > 0 && !ev.Last.Before(cutoff) {
					continue // folded: its last event is young, so it stays
				}
				if len(old) == historyPruneBatch {
					next = slices.Clone(t) // this target again
					return nil
				}
				old = append(old, slices.Clone(k))
			}
		}
		return nil
	})
	return old, next, err
}

// deleteHistory deletes the records old in one write transaction, those
// still there, and lowers their targets' counts.
func (db *DB) deleteHistory(old [][]byte) (int, error) {
	n := 0
	err := db.commit(func(tx *bolt.Tx) error {
		n = 0 // bbolt may run a batched function again
		h, counts := tx.Bucket(bucketHistory), tx.Bucket(bucketHistoryCount)
		gone := map[string]uint64{}
		for _, k := range old {
			if h.Get(k) == nil {
				continue // trimmed by the cap meanwhile
			}
			if err := h.Delete(k); err != nil {
				return err
			}
			target, _, _ := parseHistoryKey(k) // checked by oldHistory
			gone[string(target)]++
			n++
		}
		for target, d := range gone {
			t := []byte(target)
			left := historyCount(counts, t)
			var err error
			if left <= d {
				err = counts.Delete(t)
			} else {
				err = counts.Put(t, binary.BigEndian.AppendUint64(nil, left-d))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// pruner runs PruneHistory every period until Close.
type pruner struct {
	stop chan struct{}
	done sync.WaitGroup
}

func (db *DB) startPruner() {
	p := &pruner{stop: make(chan struct{})}
	db.pruner = p
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		tick := time.NewTicker(db.hist.every)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			n, err := db.PruneHistory(db.hist.now())
			if errors.Is(err, ErrClosed) {
				return // Close overtook the pass
			}
			if db.hist.pruned != nil {
				db.hist.pruned(n, err)
			}
		}
	}()
}

// stopPruner stops the pruner and waits for a pass under way.
func (db *DB) stopPruner() {
	if db.pruner != nil {
		close(db.pruner.stop)
		db.pruner.done.Wait()
		db.pruner = nil
	}
}

func encodeAllHistory(evs []engine.HistoryEvent) [][]byte {
	if len(evs) == 0 {
		return nil
	}
	out := make([][]byte, len(evs))
	for i, ev := range evs {
		out[i] = encodeHistory(ev)
	}
	return out
}
