package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Schema 2 (commit 5a36f18) kept each entry's Params inside its record
// (entry format 1, without Job) and had no params or marks bucket. Open
// migrates such a store in its own transaction: every entry is re-encoded
// (format 2, Job 0) with its Params moved to the params bucket, the new
// buckets are created and the schema version is set, all committed at once
// or not at all. Jobs, offences, positions and the boot id keep their
// records.

// entryFormat1 is schema 2's entry record: format 2 without Job, then
// bytes Params.
const entryFormat1 = 1

// migrateChunk is how many entries the migration copies out of the bucket
// before it writes them back: bbolt's values must not be used after a Put
// to their bucket, and copying them all would take the whole file again.
const migrateChunk = 1024

func migrate2(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketParams, bucketMarks} {
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	b := bucketsOf(tx)
	if b.entries == nil {
		return fmt.Errorf("%w: bucket %q is missing", ErrNotStore, bucketEntries)
	}
	for after := []byte(nil); ; {
		chunk := copyChunk(b.entries, after)
		if len(chunk) == 0 {
			break
		}
		if err := migrateEntries(b, chunk); err != nil {
			return err
		}
		after = chunk[len(chunk)-1].k
	}
	if err := b.meta.Put(keySchema, itob(schemaVersion)); err != nil {
		return fmt.Errorf("write schema version: %w", err)
	}
	return nil
}

// copyChunk returns copies of up to migrateChunk entries after the key
// after (from the first when nil).
func copyChunk(entries *bolt.Bucket, after []byte) []stored {
	c := entries.Cursor()
	k, v := c.First()
	if after != nil {
		if k, v = c.Seek(after); bytes.Equal(k, after) {
			k, v = c.Next()
		}
	}
	var out []stored
	for ; k != nil && len(out) < migrateChunk; k, v = c.Next() {
		out = append(out, stored{k: bytes.Clone(k), v: bytes.Clone(v)})
	}
	return out
}

// migrateEntries writes chunk back in entry format 2, their Params apart.
func migrateEntries(b *buckets, chunk []stored) error {
	for _, st := range chunk {
		e, params, err := decodeEntry1(string(st.k), st.v)
		if err != nil {
			return err
		}
		v, _ := encodeEntry(e)
		if err := b.entries.Put(st.k, v); err != nil {
			return fmt.Errorf("put entry %q: %w", st.k, err)
		}
		if len(params) == 0 {
			continue
		}
		if err := b.params.Put(st.k, encodeParams(params)); err != nil {
			return fmt.Errorf("put params of %q: %w", st.k, err)
		}
	}
	return nil
}

// decodeEntry1 decodes a schema-2 entry and its Params, which alias v.
func decodeEntry1(key string, v []byte) (engine.Entry, []byte, error) {
	r := reader{b: v}
	r.version(entryFormat1)
	e := engine.Entry{Key: key, Seq: r.u64(), Expires: r.time(), Created: r.time()}
	e.Offences = int(r.varint())
	e.Lane, e.Command, e.Fields = r.body()
	params := r.bytes()
	if err := r.end(); err != nil {
		return engine.Entry{}, nil, fmt.Errorf("decode schema-2 entry %q: %w", key, err)
	}
	return e, params, nil
}
