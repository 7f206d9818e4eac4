package store

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Load reads the whole state in one read transaction. Entries come in
// expiry order (ties by key) without their Params, marks by key, jobs by
// id. Everything is decoded into fresh memory before the transaction ends,
// so the State stays valid.
//
// The file's pages that Load read are dropped from the process's mapping
// before it returns (see unmapPages and populate_linux.go).
func (db *DB) Load() (*engine.State, error) {
	if db.closed.Load() {
		return nil, fmt.Errorf("load: %w", ErrClosed)
	}
	db.readahead()
	s := &engine.State{Offences: map[string]int{}, Positions: map[string]engine.Position{}}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		// Inside the transaction, bbolt cannot map the file anew.
		defer unmapPages(db.bolt.Info().Data, uintptr(tx.Size()))
		b := bucketsOf(tx)
		var keys []string // the entries' keys in key order, for loadOffences to share
		for _, load := range []func(*buckets, *engine.State) error{
			func(b *buckets, s *engine.State) (err error) { keys, err = loadEntries(b, s); return err },
			loadMarks, loadJobs,
			func(b *buckets, s *engine.State) error { return loadOffences(b, s, keys) },
			loadPositions, loadMeta,
		} {
			if err := load(b, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", db.path, boltError(err))
	}
	return s, nil
}

// rank is an entry's place in expiry order: expiryNanos of its Expires,
// then its index in key order (the order of the entries bucket).
type rank struct {
	nanos uint64
	i     uint32
}

// loadEntries walks the entries bucket once, in key order, decoding each
// entry into the next place of s.Entries; sorts their ranks by expiry
// (ties by key, as the index orders them); checks the expiry index against
// that order; and only then puts the entries in expiry order, each moved
// once. One walk of the entries in key order, which keeps nothing that
// points into the file, and a sort of 16-byte ranks, not of entries. The
// params bucket is not read at all. The index must name
// exactly the stored entries: a mismatch would mean a lost revert, so it
// is an error, not a guess. It returns the entries' keys in key order.
func loadEntries(b *buckets, s *engine.State) ([]string, error) {
	n := b.expiry.Stats().KeyN // the index is small: cheap to count
	entries, order := make([]engine.Entry, 0, n), make([]rank, 0, n)
	var cmds commandCache
	c := b.entries.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		e, err := decodeEntryIn(string(k), v, &cmds)
		if err != nil {
			return nil, err
		}
		order = append(order, rank{nanos: expiryNanos(e.Expires), i: uint32(len(entries))})
		entries = append(entries, e)
	}
	slices.SortFunc(order, func(a, b rank) int {
		return cmp.Or(cmp.Compare(a.nanos, b.nanos), cmp.Compare(a.i, b.i))
	})
	if err := checkIndex(b.expiry, entries, order); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, nil
	}
	keys := make([]string, len(entries))
	for i := range entries {
		keys[i] = entries[i].Key
	}
	permute(entries, order)
	s.Entries = entries
	return keys, nil
}

// permute puts entries in the order of order (entries[r] becomes the
// entry that was at order[r].i), moving each entry once by following the
// permutation's cycles. It uses up order.
func permute(entries []engine.Entry, order []rank) {
	const done = math.MaxUint32
	for r := range order {
		if order[r].i == done || int(order[r].i) == r {
			continue
		}
		held := entries[r]
		j := r
		for {
			from := int(order[j].i)
			order[j].i = done
			if from == r {
				entries[j] = held
				break
			}
			entries[j] = entries[from]
			j = from
		}
	}
}

// checkIndex walks the expiry index alongside entries in the given order.
func checkIndex(expiry *bolt.Bucket, entries []engine.Entry, order []rank) error {
	c := expiry.Cursor()
	i := 0
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) <= 8 {
			return fmt.Errorf("bad expiry index key %x", k)
		}
		if i == len(order) {
			return fmt.Errorf("expiry index names missing entry %q", k[8:])
		}
		o := order[i]
		if binary.BigEndian.Uint64(k) != o.nanos || string(k[8:]) != entries[o.i].Key {
			return fmt.Errorf("expiry index key %x%q does not match entry %q", k[:8], k[8:], entries[o.i].Key)
		}
		i++
	}
	if i != len(order) {
		return fmt.Errorf("%d entries but %d in the expiry index", len(order), i)
	}
	return nil
}

func loadJobs(b *buckets, s *engine.State) error {
	return b.jobs.ForEach(func(k, v []byte) error {
		id, err := btoi(k)
		if err != nil {
			return fmt.Errorf("bad job key %x: %w", k, err)
		}
		j, err := decodeJob(id, v)
		if err != nil {
			return err
		}
		s.Jobs = append(s.Jobs, j)
		return nil
	})
}

// loadOffences reads the offence counts. Every active entry has one, under
// the same key: keys (the entries' keys, sorted as the bucket is) is walked
// alongside so that those counts share the entry's key string instead of
// holding a copy of it.
func loadOffences(b *buckets, s *engine.State, keys []string) error {
	s.Offences = make(map[string]int, len(keys))
	j := 0
	return b.offences.ForEach(func(k, v []byte) error {
		n, err := btoi(v)
		if err != nil {
			return fmt.Errorf("bad offence count of %q: %w", k, err)
		}
		for j < len(keys) && keys[j] < string(k) {
			j++
		}
		if j < len(keys) && keys[j] == string(k) {
			s.Offences[keys[j]] = int(n)
		} else {
			s.Offences[string(k)] = int(n)
		}
		return nil
	})
}

func loadPositions(b *buckets, s *engine.State) error {
	return b.positions.ForEach(func(k, v []byte) error {
		p, err := decodePosition(string(k), v)
		if err != nil {
			return err
		}
		s.Positions[p.Source] = p
		return nil
	})
}

func loadMeta(b *buckets, s *engine.State) error {
	s.BootID = string(b.meta.Get(keyBootID)) // string() copies out of the mmap
	return nil
}
