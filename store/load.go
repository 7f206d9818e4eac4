package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Load reads the whole state in one read transaction. Entries come in
// expiry order (ties by key) without their Params, marks by key, jobs by
// id. Everything is decoded into fresh memory before the transaction ends,
// so the State stays valid.
func (db *DB) Load() (*engine.State, error) {
	if db.closed.Load() {
		return nil, fmt.Errorf("load: %w", ErrClosed)
	}
	s := &engine.State{Offences: map[string]int{}, Positions: map[string]engine.Position{}}
	err := db.bolt.View(func(tx *bolt.Tx) error {
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
	db.unmapPages()
	return s, nil
}

// stored is one entry as it lies in the file, valid only inside the
// transaction.
type stored struct{ k, v []byte }

// rank is an entry's place in expiry order: expiryNanos of its Expires,
// then its index in key order (the order of the entries bucket).
type rank struct {
	nanos uint64
	i     uint32
}

// loadEntries walks the entries bucket once, in key order, reading only each
// entry's fixed head; sorts by expiry in memory (ties by key, as the index
// orders them); checks the expiry index against that order; and only then
// decodes the entries, each straight into its place. One sequential walk
// and a sort instead of an index lookup per entry. The params bucket is not
// read at all. The index must name exactly the stored entries: a mismatch
// would mean a lost revert, so it is an error, not a guess.
// It returns the entries' keys in key order.
func loadEntries(b *buckets, s *engine.State) ([]string, error) {
	all, order, err := scanEntries(b)
	if err != nil {
		return nil, err
	}
	if err := checkIndex(b.expiry, all, order); err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, nil
	}
	s.Entries = make([]engine.Entry, len(all))
	keys := make([]string, len(all))
	for i, o := range order {
		st := all[o.i]
		if s.Entries[i], err = decodeEntry(string(st.k), st.v); err != nil {
			return nil, err
		}
		keys[o.i] = s.Entries[i].Key
	}
	return keys, nil
}

// scanEntries returns the stored entries in key order and their expiry
// order.
func scanEntries(b *buckets) (all []stored, order []rank, err error) {
	n := b.expiry.Stats().KeyN // the index is small: cheap to count
	all, order = make([]stored, 0, n), make([]rank, 0, n)
	c := b.entries.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		h, err := decodeHead(k, v)
		if err != nil {
			return nil, nil, err
		}
		order = append(order, rank{nanos: expiryNanos(h.Expires), i: uint32(len(all))})
		all = append(all, stored{k: k, v: v})
	}
	slices.SortFunc(order, func(a, b rank) int {
		return cmp.Or(cmp.Compare(a.nanos, b.nanos), cmp.Compare(a.i, b.i))
	})
	return all, order, nil
}

// checkIndex walks the expiry index alongside all in the given order.
func checkIndex(expiry *bolt.Bucket, all []stored, order []rank) error {
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
		if binary.BigEndian.Uint64(k) != o.nanos || !bytes.Equal(k[8:], all[o.i].k) {
			return fmt.Errorf("expiry index key %x%q does not match entry %q", k[:8], k[8:], all[o.i].k)
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
