package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Load reads the whole state in one read transaction. Entries come in
// expiry order (ties by key), jobs by id. Everything is decoded into fresh
// memory before the transaction ends, so the State stays valid.
func (db *DB) Load() (*engine.State, error) {
	if db.closed.Load() {
		return nil, fmt.Errorf("load: %w", ErrClosed)
	}
	s := &engine.State{Offences: map[string]int{}, Positions: map[string]engine.Position{}}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		for _, load := range []func(*buckets, *engine.State) error{
			loadEntries, loadJobs, loadOffences, loadPositions, loadMeta,
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

// loadEntries walks the expiry index and checks it against the entries: a
// mismatch would mean a lost revert, so it is an error, not a guess.
func loadEntries(b *buckets, s *engine.State) error {
	n := b.entries.Stats().KeyN
	if n > 0 {
		s.Entries = make([]engine.Entry, 0, n) // Entry is large: growing would copy much
	}
	c := b.expiry.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) <= 8 {
			return fmt.Errorf("bad expiry index key %x", k)
		}
		key := string(k[8:])
		v := b.entries.Get(k[8:])
		if v == nil {
			return fmt.Errorf("expiry index names missing entry %q", key)
		}
		e, err := decodeEntry(key, v)
		if err != nil {
			return err
		}
		if !bytes.Equal(k, expiryKey(e.Expires, key)) {
			return fmt.Errorf("expiry index key %x does not match entry %q", k[:8], key)
		}
		s.Entries = append(s.Entries, e)
	}
	if n != len(s.Entries) {
		return fmt.Errorf("%d entries but %d in the expiry index", n, len(s.Entries))
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

func loadOffences(b *buckets, s *engine.State) error {
	return b.offences.ForEach(func(k, v []byte) error {
		n, err := btoi(v)
		if err != nil {
			return fmt.Errorf("bad offence count of %q: %w", k, err)
		}
		s.Offences[string(k)] = int(n)
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
