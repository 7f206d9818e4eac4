// Package store keeps the engine's state durable: it implements engine.Store
// on a bbolt file (DB) and in memory (Memory, for --dry-run and tests).
//
// # Model
//
// The state is a handful of maps: table entries by key, their Params by
// key, apply marks by key, pending jobs by id, offence counts by table key,
// alerts-file positions by source, and the boot id. The engine reads all
// of it but the Params once with Load at start; from then on it writes,
// through Apply, one engine.Change at a time, and reads the Params of one
// entry with Params when its delete needs the alert. A Change is applied
// atomically, in this order:
//
//  1. Jobs are added (an existing id is replaced).
//  2. Put entries are written; a Put replaces whatever entry the key holds,
//     whatever its Seq (a nil Command is written as the zero Command). Its Params are written when not nil (empty removes
//     them); a Put with nil Params keeps those stored for the key, as a
//     timer restart rewrites an entry without its alert.
//  3. Del refs are removed, each only when the stored entry has the same Seq
//     (the Seq rule below), together with the key's Params and mark.
//  4. Mark refs are set: the key's mark now names that Seq.
//  5. Unmark refs are removed, each only when the key's mark has the same
//     Seq.
//  6. DoneJobs are removed (an unknown id is no error).
//  7. Offences are set; a count of 0 removes the key.
//  8. Positions are upserted by Source.
//  9. BootID is recorded when it is not empty.
//
// Last, history events (Change.History) are added, and each target they
// name is trimmed to its newest records (see History below).
//
// The order only matters when one Change names the same thing twice: a Put
// and a Del of the same key and Seq leave no entry, a Del and a Mark of the
// same key leave the mark, a Mark and an Unmark of the same ref leave none,
// and a job that is both added and done is gone.
//
// # The Seq rule
//
// Every entry carries a generation (Seq). A delete names the generation it
// reverted; when a newer generation was written in the meantime (the key was
// blocked again), the stale delete leaves it alone, its Params and its mark
// too. A Del of a missing key is a no-op. Unmark follows the same rule on
// marks: an Unmark of an older generation leaves a newer mark alone.
//
// # Marks and the invariant
//
// The engine relies on this invariant, and the store keeps the marks exact
// for it: an entry is never active without either being applied by its
// action, marked to apply (Mark), or owned by a pending job whose id it
// records (Entry.Job). A mark is set only by Mark and removed only by an
// Unmark of its Seq or by the Del that removes its key's entry (whatever
// generation it names: none of the key's generations is left). Load returns
// the marks by key in State.Marked; a mark may name a key that has no
// entry, if the engine marked one it never put or deleted it before.
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
// it. Changes are validated and encoded (Params compressed) before they
// reach the transaction, so a bad Change fails alone and writes nothing,
// and a group's transaction holds the file's lock only to write.
//
// # On disk (schema 3)
//
// Buckets: "entries" (key -> entry, without Params), "expiry" (8-byte
// big-endian unix nanoseconds of Expires, then the key -> empty; it allows
// range scans by time and is checked against the entries at every Load),
// "params" (entry key -> Params), "marks" (entry key -> 8-byte big-endian
// Seq), "jobs" (8-byte big-endian id -> job), "offences" (key -> 8-byte
// big-endian count), "positions" (source -> position) and "meta" (schema
// version, boot id, and "superseded" in a file a migration replaced).
//
// History (history.go) is two more buckets, added to a schema-3 file
// by the first writable Open that finds them missing (an older build
// ignores them; a read-only open of a file without them reads an empty
// history): "history" (target, a NUL, 8 bytes of unix seconds with the
// sign bit flipped and 4 of nanoseconds, then an 8-byte sequence ->
// record) and "history_count" (target -> 8-byte big-endian count of its
// records). A target's records are one key range in time order, so
// explain reads them with one prefix scan. A record is the format byte
// 1, then Outcome, AlertID, RuleID, Groups, Command and Key (uvarint
// length and bytes), varint Level and uvarint Line (of the
// <active-response> block); about 70 bytes for an sshd alert. The
// history is bounded twice: each Apply trims the targets it names to
// their newest records (WithHistory, default 1,000: a storm from one
// address cannot grow it), and a pruner deletes records older than the
// window (default 7 days) every minute, in write transactions of at most
// 512 deletes found by a read transaction, each target costing one seek
// (PruneHistory). The store is thus bounded by its active state plus the
// window. The meta key "history_gap" holds the latest time the engine
// dropped events before they reached the store (8 bytes of big-endian
// unix nanoseconds), so that explain can say so after a restart too; an
// older build ignores it. A negative window records nothing. Target keys
// hold no NUL (engine.ValidHistoryTarget); Apply refuses others with
// ErrInvalid.
//
// Entries, jobs and positions are compact binary records of our own (layout
// in codec.go), not of the engine types, so renaming a field of an engine
// type does not change the file format. A record starts with its format
// byte; integers are big-endian where Apply reads them at fixed offsets (an
// entry's Seq and Expires) and varints elsewhere; strings are a uvarint
// length then the bytes. An entry (format 2) holds its Job and no Params;
// a job keeps its Params inside, as given. Times are unix seconds and
// nanoseconds, exact for any time.Time; they come back in UTC without a
// monotonic reading (compare them with time.Time.Equal). A zero or
// pre-1970 Expires sorts first.
//
// Params are stored apart (params.go): raw DEFLATE primed with a preset
// dictionary of Wazuh alert fragments that we wrote (params.dict, part of
// the format), or as given when that is not shorter. Our encoder
// (deflate.go) writes one block of fixed Huffman codes: a realistic sshd
// alert's Params of 1.8 KB take 257 bytes (239 with flate.Writer's level
// 6, 700 without the dictionary); the sample alert of Wazuh's own tests
// (1.65 KB), not one the dictionary was written from, takes 313. That
// costs 4.5 µs to encode (28-29 µs with flate.Writer, which clears and
// primes its large tables for each value), outside the transaction, and
// 3.2-3.6 µs to decode (BenchmarkParams, TestParams_Size).
//
// A store of 100,000 realistic entries written as a storm writes them
// (random keys, a hundred a commit) takes 84 MB, 840 bytes an entry: an
// entry record of about 140 bytes, its Params of 230 and its expiry index
// key of 35, each with its key and bbolt's 16-byte element header, in
// pages about two thirds full. Schema 2 took 2,530 bytes an entry. A
// process that opens and loads it holds 53 MB more than before (VmRSS),
// the entries decoded; the file's pages are dropped once loaded, and at
// Load's peak about 80 MB of them are mapped. Schema 2 held 468 MB (226
// of entries and 242 of file). BenchmarkLoad_100k and
// BenchmarkLoadProcess_100k report these.
//
// Load reads one sequential walk of the entries reading only their fixed
// heads (their Params untouched), a sort by expiry in memory, a walk of the
// index alongside, then one decode per entry with its strings in one
// allocation: for 100,000 entries with the file cached, 0.14-0.22 s, and
// 0.27-0.41 s into a fresh heap as at start. The entries are decoded in
// key order, the file's order, and then moved once each into expiry
// order. On Linux, Load first asks the kernel to read the whole file
// into the page cache (POSIX_FADV_WILLNEED), so that a file not cached is
// read sequentially rather than page by page at random (bbolt maps it
// MADV_RANDOM): a fresh process opens and loads the store in about
// 0.25 s after a reboot, against 0.9-1.0 s without (populate_linux.go
// has the trade-offs).
//
// # Migration
//
// Open migrates a store of schema 2 (entries with their Params inside, no
// params or marks bucket; the code of commit 5a36f18) by writing its whole
// state converted to a new file, path + ".migrating", in one transaction:
// every entry re-encoded with Job 0 and its Params moved, compressed, to
// the params bucket, the other buckets copied, the marks bucket created,
// the schema version set to 3. Only then is the new file renamed over the
// old one (and the directory synced), so a failure or a crash leaves the
// old file as it was, and a stale ".migrating" file is removed by the next
// attempt. The old file stays locked until the new one is in place, and is
// then marked superseded, so that a process that was waiting for its lock
// fails (ErrLocked) instead of migrating it again; on Windows, which cannot
// rename over an open file, it is closed just before the rename. A new
// file, rather than the old one rewritten in its own transaction, because
// a bbolt file never shrinks and a transaction cannot reuse the pages it
// frees: 100,000 realistic entries take 237 MB in schema 2, 482 MB
// rewritten in place, 71 MB migrated to a new file, in 4-7 s
// (BenchmarkMigrate_100k). Schema 1 (encoding/json records) is not read,
// nor any schema newer than 3: Open refuses them with ErrSchema.
//
// Open refuses a file that is not a bbolt database, a bbolt database written
// by another program, and a schema version it does not know. The file is
// locked while open; a second Open gives up after one second with ErrLocked.
//
// # Caveats
//
// bbolt's values are valid only inside their transaction; Load and Params
// decode everything into fresh memory before the transaction ends, so what
// they return is the caller's to keep. Memory copies on the way in and out
// too, so callers can reuse the slices of a Change. The strings of one
// loaded entry share one allocation.
//
// Load maps the pages it reads, and those around them (fault-around), and
// drops them from the process's mapping before it returns: they stay in
// the page cache but leave the daemon's RSS. The file is no longer mapped
// with MAP_POPULATE, which mapped all of it, Params and history included,
// at Open and each time a growing file was mapped anew. A store in use
// maps again the pages Apply and Params touch.
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
