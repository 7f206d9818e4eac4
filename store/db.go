package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/threatlockdown/threatlockdown/engine"
)

// schemaVersion is the layout of the buckets below. Open migrates schema 2
// (migrate.go) and refuses any other.
const schemaVersion = 3

// Buckets and meta keys; see the package doc.
var (
	bucketEntries   = []byte("entries")
	bucketExpiry    = []byte("expiry")
	bucketParams    = []byte("params")
	bucketMarks     = []byte("marks")
	bucketJobs      = []byte("jobs")
	bucketOffences  = []byte("offences")
	bucketPositions = []byte("positions")
	bucketMeta      = []byte("meta")

	allBuckets = [][]byte{bucketEntries, bucketExpiry, bucketParams, bucketMarks,
		bucketJobs, bucketOffences, bucketPositions, bucketMeta}

	keySchema     = []byte("schema")
	keyBootID     = []byte("boot_id")
	keySuperseded = []byte("superseded")  // see migrate.go
	keyHistoryGap = []byte("history_gap") // see history.go
)

// DB is an engine.Store on a bbolt file. Its methods are safe for concurrent use.
type DB struct {
	path   string
	bolt   *bolt.DB
	closed atomic.Bool
	// inflight counts Apply calls between validation and commit; see commit.
	inflight atomic.Int64
	hist     historyOptions // history.go
	pruner   *pruner        // nil when read-only
}

var (
	_ engine.Store         = (*DB)(nil)
	_ engine.HistoryReader = (*DB)(nil) // explain reads it through the interface
)

// Option tunes Open.
type Option func(*options)

type options struct {
	lockTimeout   time.Duration
	maxBatchDelay time.Duration
	maxBatchSize  int
	mmapFlags     int // see populate_linux.go; benchmarks compare others
	readOnly      bool
	history       historyOptions
}

// WithReadOnly opens the store for reading only: a shared lock (so it
// waits, up to the lock timeout, while a daemon has the file), no
// migration, and Apply fails. The CLI's offline list and explain use it.
func WithReadOnly() Option { return func(o *options) { o.readOnly = true } }

// WithLockTimeout sets how long Open waits for another process to release
// the file (default one second; 0 waits for ever).
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// WithMaxBatchDelay sets how long a group of concurrent Apply calls waits for
// more to share its commit (default 2ms). Longer groups more under load.
func WithMaxBatchDelay(d time.Duration) Option { return func(o *options) { o.maxBatchDelay = d } }

// WithMaxBatchSize sets how many Apply calls at most share one commit
// (default 1000); a full group commits without waiting for the delay.
func WithMaxBatchSize(n int) Option { return func(o *options) { o.maxBatchSize = n } }

// Open opens the store at path, creating it and its parent directory (0700)
// when missing. It fails after the lock timeout with an error that wraps
// ErrLocked when another process has the file open, and with ErrNotStore or
// ErrSchema when the file is not a store this build can use.
func Open(path string, opts ...Option) (*DB, error) {
	o := options{lockTimeout: time.Second, maxBatchDelay: 2 * time.Millisecond, maxBatchSize: 1000, mmapFlags: mmapFlags,
		history: defaultHistory()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.readOnly {
		return openReadOnly(path, o)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout, MmapFlags: o.mmapFlags})
	if err != nil {
		return nil, openError(path, o.lockTimeout, err)
	}
	b.MaxBatchDelay = o.maxBatchDelay
	b.MaxBatchSize = o.maxBatchSize
	err = b.Update(func(tx *bolt.Tx) error {
		if err := initSchema(tx); err != nil {
			return err
		}
		return createHistory(tx) // a schema-3 file from before the history gets it
	})
	if errors.Is(err, errSchema2) {
		if err := migrate(path, b); err != nil { // closes b
			return nil, fmt.Errorf("open store %s: migrate schema 2 to %d: %w", path, schemaVersion, err)
		}
		return Open(path, opts...) // the new file, of schema 3
	}
	if err != nil {
		_ = b.Close() // the schema error is the one to report
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := &DB{path: path, bolt: b, hist: o.history}
	db.startPruner()
	return db, nil
}

// openReadOnly is Open with WithReadOnly: the schema is checked in a read
// transaction, and a store that needs migrating (or is not one) is refused.
func openReadOnly(path string, o options) (*DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout, MmapFlags: o.mmapFlags, ReadOnly: true})
	if err != nil {
		return nil, openError(path, o.lockTimeout, err)
	}
	err = b.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return fmt.Errorf("%w: no schema (an empty file)", ErrNotStore)
		}
		return initSchema(tx) // reads only, for a store that has its meta
	})
	if errors.Is(err, errSchema2) {
		err = fmt.Errorf("%w 2: the daemon migrates it at its next start", ErrSchema)
	}
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &DB{path: path, bolt: b, hist: o.history}, nil
}

// Path returns the file the store is kept in.
func (db *DB) Path() string { return db.path }

// Close closes the file, waiting for a running commit. Calls to Apply still
// waiting for their group fail with ErrClosed.
func (db *DB) Close() error {
	db.closed.Store(true)
	db.stopPruner()
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", db.path, err)
	}
	return nil
}

// lockedError is Open's answer when the file is locked: a message that names
// the file, ErrLocked for errors.Is, and bbolt's error underneath.
type lockedError struct {
	path    string
	timeout time.Duration
	err     error
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("database %s is locked by another process (gave up after %v)", e.path, e.timeout)
}

func (e *lockedError) Unwrap() error        { return e.err }
func (e *lockedError) Is(target error) bool { return target == ErrLocked }

func openError(path string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return &lockedError{path: path, timeout: timeout, err: err}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch):
		return fmt.Errorf("open store %s: %w: %w", path, ErrNotStore, err)
	}
	return fmt.Errorf("open store %s: %w", path, err)
}

// initSchema creates the buckets of a new file, or checks those of a store
// written before. It returns errSchema2 for a store to migrate.
func initSchema(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return createSchema(tx)
	}
	if meta.Get(keySuperseded) != nil {
		return errSuperseded
	}
	v := meta.Get(keySchema)
	if v == nil {
		return fmt.Errorf("%w: no schema version", ErrNotStore)
	}
	n, err := btoi(v)
	if err != nil {
		return fmt.Errorf("%w: schema version: %w", ErrNotStore, err)
	}
	switch n {
	case schemaVersion:
	case 2:
		return errSchema2
	default:
		return fmt.Errorf("%w %d (this build knows %d, and migrates 2)", ErrSchema, n, schemaVersion)
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("%w: bucket %q is missing", ErrNotStore, name)
		}
	}
	return nil
}

// createSchema sets up an empty file. A file that holds buckets but no meta
// is another program's, and is left alone.
func createSchema(tx *bolt.Tx) error {
	if name, _ := tx.Cursor().First(); name != nil {
		return fmt.Errorf("%w: bbolt file with foreign bucket %q", ErrNotStore, name)
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	if err := tx.Bucket(bucketMeta).Put(keySchema, itob(schemaVersion)); err != nil {
		return fmt.Errorf("write schema version: %w", err)
	}
	return nil
}

// boltError turns bbolt's "not open" into ErrClosed: a Close may overtake an
// Apply waiting for its group.
func boltError(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}
