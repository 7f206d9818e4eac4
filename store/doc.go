// Package store keeps the engine's state durable: it implements engine.Store
// on a bbolt file (DB) and in memory (Memory, for --dry-run and tests).
//
// # Model
//
// The state is a handful of maps: table entries by key, pending jobs by id,
// offence counts by table key, alerts-file positions by source, and the boot
// id. The engine reads all of it once with Load at start and from then on only
// writes, through Apply, one engine.Change at a time. A Change is applied
// atomically, in this order:
//
//  1. Jobs are added (an existing id is replaced).
//  2. Put entries are written; a Put replaces whatever entry the key holds,
//     whatever its Seq.
//  3. Del refs are removed, each only when the stored entry has the same Seq
//     (the Seq rule below).
//  4. DoneJobs are removed (an unknown id is no error).
//  5. Offences are set; a count of 0 removes the key.
//  6. Positions are upserted by Source.
//  7. BootID is recorded when it is not empty.
//
// The order only matters when one Change names the same thing twice: a Put
// and a Del of the same key and Seq leave no entry, and a job that is both
// added and done is gone.
//
// # The Seq rule
//
// Every entry carries a generation (Seq). A delete names the generation it
// reverted; when a newer generation was written in the meantime (the key was
// blocked again), the stale delete leaves it alone. A Del of a missing key is
// a no-op.
//
// # Durability and grouped commits
//
// Apply returns only when its Change is committed and fsynced. A lone Apply
// commits at once. An Apply that starts while another is in flight goes
// through bbolt's DB.Batch, which gathers such calls for up to MaxBatchDelay
// (2ms by default, see WithMaxBatchDelay) into one transaction and one fsync;
// under load most calls share a commit. If one Change in a group fails, bbolt
// rolls the group back and runs the rest again; the transaction function is
// therefore idempotent, and a failed Change never takes its neighbours with
// it. Changes are validated and encoded before they reach the transaction, so
// a bad Change fails alone and writes nothing.
//
// # On disk
//
// Buckets: "entries" (key -> entry), "expiry" (8-byte big-endian unix
// nanoseconds of Expires, then the key -> empty; it allows range scans by
// time and is checked against the entries at every Load), "jobs" (8-byte
// big-endian id -> job), "offences" (key -> 8-byte big-endian count),
// "positions" (source -> position) and "meta" (schema version, boot id).
//
// Entries, jobs and positions are compact binary records of our own (layout
// in codec.go), not of the engine types, so renaming a field of an engine
// type does not change the file format. A record starts with its format
// byte; integers are big-endian where Apply reads them at fixed offsets (an
// entry's Seq and Expires) and varints elsewhere; strings and Params are a
// uvarint length then the bytes, Params exactly as given. Times are unix
// seconds and nanoseconds, exact for any time.Time; they come back in UTC
// without a monotonic reading (compare them with time.Time.Equal). A zero or
// pre-1970 Expires sorts first. Schema 1 (encoding/json records, base64
// Params, RFC 3339 times) is not read: Open refuses it with ErrSchema.
//
// Load is built for a store of 100,000 entries read at start after a reboot
// (issue 3): one sequential walk of the entries reading only their fixed
// heads, a sort by expiry in memory, a walk of the index alongside, then one
// decode per entry with its strings in one allocation and Params carved from
// shared chunks. On Linux the file is mapped with MAP_POPULATE, so that a
// file not in the page cache is read sequentially when it is opened rather
// than page by page at random, and the chunks are prefaulted (see
// populate_linux.go).
//
// Open refuses a file that is not a bbolt database, a bbolt database written
// by another program, and a schema version it does not know. The file is
// locked while open; a second Open gives up after one second with ErrLocked.
//
// # Caveats
//
// bbolt's values are valid only inside their transaction; Load decodes
// everything into fresh memory before the transaction ends, so the State it
// returns is the caller's to keep. Memory copies on the way in and out too,
// so callers can reuse the slices of a Change.
//
// The Params of the entries Load returns share 1 MB chunks, filled in expiry
// order: a chunk is freed when its last entry is dropped, so memory comes
// back as entries are reverted, not entry by entry, and never exceeds what
// Load allocated. The strings of one entry share one allocation too.
//
// MAP_POPULATE reads the whole file at Open (and maps it again whole when it
// grows past its mapping); the daemon reads it all at start anyway.
package store

import "errors"

// Errors.
var (
	// ErrLocked is returned by Open when another process holds the database.
	ErrLocked = errors.New("database is locked by another process")
	// ErrNotStore is returned by Open for a file that is not a ThreatLockDown
	// store: not bbolt at all, corrupt, or another program's bbolt file.
	ErrNotStore = errors.New("not a threatlockdown store")
	// ErrSchema is returned by Open for a store of an unknown schema version.
	ErrSchema = errors.New("unsupported schema version")
	// ErrInvalid wraps Apply's complaint about a Change it cannot write.
	ErrInvalid = errors.New("invalid change")
	// ErrClosed is returned by Load and Apply after Close.
	ErrClosed = errors.New("store closed")
)
