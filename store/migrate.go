package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Schema 2 (commit 5a36f18) kept each entry's Params inside its record
// (entry format 1, without Job) and had no params or marks bucket.
//
// Open migrates such a store by writing the whole state, converted, to a
// new file in one transaction and renaming it over the old one; a failure
// or a crash before the rename leaves the old file as it was. Rewriting the
// file in place would leave it as large as it was plus the new records (a
// bbolt file never shrinks, and a transaction cannot reuse the pages it
// frees): 482 MB for 100,000 realistic entries, all of it read at every
// Open (see populate_linux.go), where the new file takes a fifth.

// entryFormat1 is schema 2's entry record: format 2 without Job, then
// bytes Params.
const entryFormat1 = 1

var (
	// errSchema2 is initSchema's answer for a store that Open migrates.
	errSchema2 = errors.New("schema 2")
	// errSuperseded is what a process finds that waited for the lock of a
	// file while another migrated it: that file is no longer the store.
	errSuperseded = fmt.Errorf("%w: the file was migrated to schema %d while this process waited; open it again",
		ErrLocked, schemaVersion)
)

// migrate writes the migrated state of old, the store at path, to a new
// file and renames it over path. It closes old.
func migrate(path string, old *bolt.DB) error {
	tmp := path + ".migrating"
	err := writeMigrated(tmp, old)
	if err == nil {
		err = replace(tmp, path, old)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return errors.Join(err, old.Close()) // a second Close is a no-op
}

// writeMigrated writes the state of old in schema 3 to a new file at tmp,
// in one transaction, synced.
func writeMigrated(tmp string, old *bolt.DB) error {
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale %s: %w", tmp, err)
	}
	nb, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	err = old.View(func(from *bolt.Tx) error {
		return nb.Update(func(to *bolt.Tx) error { return copySchema2(to, from) })
	})
	return errors.Join(err, nb.Close())
}

// replace renames tmp over path. Where an open file can be renamed over
// (not on Windows), old stays open, and so locked, until the new file is in
// place; it is then marked superseded for a process that waits for its
// lock and would otherwise migrate it again.
func replace(tmp, path string, old *bolt.DB) error {
	if runtime.GOOS == "windows" {
		if err := old.Close(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return err
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	return old.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySuperseded, []byte{1}) })
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory
// (and needs not: its renames are durable with the file system's journal).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// copySchema2 writes to, a new file, the state of from, a schema-2 store.
// Everything is copied in key order, so the new pages are filled whole.
func copySchema2(to, from *bolt.Tx) error {
	if err := createSchema(to); err != nil {
		return err
	}
	src, dst := bucketsOf(from), bucketsOf(to)
	if src.entries == nil || src.expiry == nil || src.jobs == nil || src.offences == nil || src.positions == nil {
		return fmt.Errorf("%w: schema 2 with a bucket missing", ErrNotStore)
	}
	for _, b := range []struct{ dst, src *bolt.Bucket }{
		{dst.expiry, src.expiry}, {dst.jobs, src.jobs}, {dst.offences, src.offences}, {dst.positions, src.positions},
	} {
		b.dst.FillPercent = 1
		if err := b.src.ForEach(b.dst.Put); err != nil {
			return err
		}
	}
	if id := src.meta.Get(keyBootID); id != nil {
		if err := dst.meta.Put(keyBootID, id); err != nil {
			return fmt.Errorf("put boot id: %w", err)
		}
	}
	dst.entries.FillPercent, dst.params.FillPercent = 1, 1
	return src.entries.ForEach(func(k, v []byte) error { return migrateEntry(dst, k, v) })
}

// migrateEntry writes the schema-2 entry v in format 2, its Params apart.
// Its key and value stay valid until to commits: from is read meanwhile.
func migrateEntry(dst *buckets, k, v []byte) error {
	e, params, err := decodeEntry1(string(k), v)
	if err != nil {
		return err
	}
	nv, _ := encodeEntry(e)
	if err := dst.entries.Put(k, nv); err != nil {
		return fmt.Errorf("put entry %q: %w", k, err)
	}
	if len(params) == 0 {
		return nil
	}
	if err := dst.params.Put(k, encodeParams(params)); err != nil {
		return fmt.Errorf("put params of %q: %w", k, err)
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
