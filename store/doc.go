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
// nanoseconds of Expires, then the key -> empty; Load walks it to return
// entries in expiry order, and it allows range scans by time), "jobs" (8-byte
// big-endian id -> job), "offences" (key -> 8-byte big-endian count),
// "positions" (source -> position) and "meta" (schema version, boot id).
// Entries, jobs and positions are encoding/json of private record types, so
// renaming a field of an engine type does not change the file format. Times
// are RFC 3339 with nanoseconds and come back in UTC without a monotonic
// reading; compare them with time.Time.Equal. A zero or pre-1970 Expires sorts
// first.
//
// Open refuses a file that is not a bbolt database, a bbolt database written
// by another program, and a schema version it does not know. The file is
// locked while open; a second Open gives up after one second with ErrLocked.
//
// # Caveats
//
// bbolt's values are valid only inside their transaction; Load decodes
// everything into fresh memory before the transaction ends, so the State it
// returns is the caller's to keep. Memory copies on the way in and out too, so
// callers can reuse the slices of a Change.
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
