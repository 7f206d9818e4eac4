package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Apply writes c atomically in the order the package doc gives, and returns
// once it is on disk. Concurrent calls share a commit.
func (db *DB) Apply(c engine.Change) error {
	if db.closed.Load() {
		return fmt.Errorf("apply: %w", ErrClosed)
	}
	if db.hist.window < 0 {
		c.History, c.HistoryGap = nil, time.Time{} // kept nowhere
	}
	if isEmpty(c) {
		return nil
	}
	if err := validate(c); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	w, err := encodeChange(c)
	if err != nil {
		return fmt.Errorf("apply: %w: %w", ErrInvalid, err)
	}
	w.hist, w.histCap = encodeAllHistory(c.History), db.hist.perTarget
	if err := db.commit(w.write); err != nil {
		return fmt.Errorf("apply: %w", boltError(err))
	}
	return nil
}

// commit runs fn in a write transaction. A lone caller commits at once; when
// others are in flight, it joins bbolt's batch and shares their commit.
func (db *DB) commit(fn func(*bolt.Tx) error) error {
	defer db.inflight.Add(-1)
	if db.inflight.Add(1) == 1 {
		return db.bolt.Update(fn)
	}
	return db.bolt.Batch(fn)
}

func isEmpty(c engine.Change) bool {
	return len(c.Put) == 0 && len(c.Del) == 0 && len(c.Mark) == 0 && len(c.Unmark) == 0 &&
		len(c.Jobs) == 0 && len(c.DoneJobs) == 0 && len(c.Offences) == 0 && len(c.Positions) == 0 &&
		c.BootID == "" && len(c.History) == 0 && c.HistoryGap.IsZero()
}

// encoded is a Change with its values already encoded (and Params
// compressed), so that the part that runs inside the shared transaction is
// short and cannot fail on encoding.
type encoded struct {
	c         engine.Change
	entries   [][]byte // by index of c.Put
	params    [][]byte // by index of c.Put: nil keeps, empty removes (see putParams)
	jobs      [][]byte // by index of c.Jobs
	positions [][]byte // by index of c.Positions
	hist      [][]byte // by index of c.History; nil when the store keeps none
	histCap   int      // records kept per target
}

func encodeChange(c engine.Change) (*encoded, error) {
	w := &encoded{c: c}
	var err error
	if w.entries, err = encodeAll(c.Put, encodeEntry); err != nil {
		return nil, err
	}
	if w.params, err = encodeAll(c.Put, encodeParamsOf); err != nil {
		return nil, err
	}
	if w.jobs, err = encodeAll(c.Jobs, encodeJob); err != nil {
		return nil, err
	}
	if w.positions, err = encodeAll(c.Positions, encodePosition); err != nil {
		return nil, err
	}
	return w, nil
}

// encodeParamsOf is what putParams writes for e: nil when e keeps the
// stored Params, empty when it has none.
func encodeParamsOf(e engine.Entry) ([]byte, error) {
	switch {
	case e.Params == nil:
		return nil, nil
	case len(e.Params) == 0:
		return []byte{}, nil
	}
	return encodeParams(e.Params), nil
}

func encodeAll[T any](vs []T, enc func(T) ([]byte, error)) ([][]byte, error) {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		b, err := enc(v)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// buckets are the store's buckets in one transaction.
type buckets struct {
	entries, expiry, params, marks, jobs, offences, positions, meta *bolt.Bucket
	history, historyCount                                           *bolt.Bucket
}

func bucketsOf(tx *bolt.Tx) *buckets {
	return &buckets{
		entries: tx.Bucket(bucketEntries), expiry: tx.Bucket(bucketExpiry),
		params: tx.Bucket(bucketParams), marks: tx.Bucket(bucketMarks),
		jobs: tx.Bucket(bucketJobs), offences: tx.Bucket(bucketOffences),
		positions: tx.Bucket(bucketPositions), meta: tx.Bucket(bucketMeta),
		history: tx.Bucket(bucketHistory), historyCount: tx.Bucket(bucketHistoryCount),
	}
}

// write is the transaction function given to DB.Batch. bbolt may run it more
// than once (when a neighbour in the group fails), each time in a fresh
// transaction, so it only reads w and writes tx.
func (w *encoded) write(tx *bolt.Tx) error {
	b := bucketsOf(tx)
	steps := []func(*buckets) error{
		w.putJobs, w.putEntries, w.delEntries, w.mark, w.unmark,
		w.doneJobs, w.setOffences, w.putPositions, w.setBootID, w.putHistory, w.setHistoryGap,
	}
	for _, step := range steps {
		if err := step(b); err != nil {
			return err
		}
	}
	return nil
}

func (w *encoded) putJobs(b *buckets) error {
	for i, j := range w.c.Jobs {
		if err := b.jobs.Put(itob(j.ID), w.jobs[i]); err != nil {
			return fmt.Errorf("put job %d: %w", j.ID, err)
		}
	}
	return nil
}

func (w *encoded) putEntries(b *buckets) error {
	for i, e := range w.c.Put {
		k := []byte(e.Key)
		old, err := readHead(b, k)
		if err != nil {
			return err
		}
		if err := unindex(b, k, old); err != nil {
			return err
		}
		if err := b.entries.Put(k, w.entries[i]); err != nil {
			return fmt.Errorf("put entry %q: %w", e.Key, err)
		}
		if err := b.expiry.Put(expiryKey(e.Expires, e.Key), []byte{}); err != nil {
			return fmt.Errorf("index entry %q: %w", e.Key, err)
		}
		if err := putParams(b, k, w.params[i]); err != nil {
			return err
		}
	}
	return nil
}

// putParams writes the encoded Params v of entry k: nil keeps those
// stored (a Put without Params), empty removes them.
func putParams(b *buckets, k, v []byte) error {
	var err error
	switch {
	case v == nil:
		return nil
	case len(v) == 0:
		err = b.params.Delete(k)
	default:
		err = b.params.Put(k, v)
	}
	if err != nil {
		return fmt.Errorf("put params of %q: %w", k, err)
	}
	return nil
}

func (w *encoded) delEntries(b *buckets) error {
	for _, r := range w.c.Del {
		k := []byte(r.Key)
		head, err := readHead(b, k)
		if err != nil {
			return err
		}
		if head == nil || head.Seq != r.Seq {
			continue // a missing key or a stale ref: nothing to do
		}
		if err := unindex(b, k, head); err != nil {
			return err
		}
		if err := b.entries.Delete(k); err != nil {
			return fmt.Errorf("delete entry %q: %w", r.Key, err)
		}
		if err := b.params.Delete(k); err != nil {
			return fmt.Errorf("delete params of %q: %w", r.Key, err)
		}
		if err := b.marks.Delete(k); err != nil {
			return fmt.Errorf("delete mark of %q: %w", r.Key, err)
		}
	}
	return nil
}

// readHead returns nil for a missing key.
func readHead(b *buckets, k []byte) (*entryHead, error) {
	v := b.entries.Get(k)
	if v == nil {
		return nil, nil
	}
	h, err := decodeHead(k, v)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// unindex removes the expiry index key of the stored entry k with head h;
// nil h (no stored entry) has none.
func unindex(b *buckets, k []byte, h *entryHead) error {
	if h == nil {
		return nil
	}
	if err := b.expiry.Delete(expiryKey(h.Expires, string(k))); err != nil {
		return fmt.Errorf("unindex entry %q: %w", k, err)
	}
	return nil
}

func (w *encoded) doneJobs(b *buckets) error {
	for _, id := range w.c.DoneJobs {
		if err := b.jobs.Delete(itob(id)); err != nil {
			return fmt.Errorf("delete job %d: %w", id, err)
		}
	}
	return nil
}

func (w *encoded) setOffences(b *buckets) error {
	for k, n := range w.c.Offences {
		var err error
		if n == 0 {
			err = b.offences.Delete([]byte(k))
		} else {
			err = b.offences.Put([]byte(k), itob(uint64(n)))
		}
		if err != nil {
			return fmt.Errorf("set offences of %q: %w", k, err)
		}
	}
	return nil
}

func (w *encoded) putPositions(b *buckets) error {
	for i, p := range w.c.Positions {
		if err := b.positions.Put([]byte(p.Source), w.positions[i]); err != nil {
			return fmt.Errorf("put position %q: %w", p.Source, err)
		}
	}
	return nil
}

func (w *encoded) setBootID(b *buckets) error {
	if w.c.BootID == "" {
		return nil
	}
	if err := b.meta.Put(keyBootID, []byte(w.c.BootID)); err != nil {
		return fmt.Errorf("put boot id: %w", err)
	}
	return nil
}
