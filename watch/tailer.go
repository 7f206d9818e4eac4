package watch

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/threatlockdown/threatlockdown/engine"
)

// Defaults of the Tailer's settings.
const (
	DefaultMaxRecord = 32 << 20
	DefaultPoll      = 250 * time.Millisecond
)

// Tailer follows one alerts file across rotations and hands out its records.
type Tailer struct {
	// MaxRecord is the longest record delivered, in bytes; a longer one is
	// skipped with one log line. Zero means DefaultMaxRecord. Set before Run.
	MaxRecord int
	// Poll is how often the file is checked without being told to: the
	// safety net under file notifications. Zero means DefaultPoll.
	Poll time.Duration
	// Started, when set, is called once from Run when it has chosen where to
	// read from, with that position (FileID empty while the file does not
	// exist). A caller that stores it makes a first start's end-of-file the
	// place the next start resumes from, even if nothing is read meanwhile.
	Started func(engine.Position)
	// Flushed, when set, is called from Run after each batch of records
	// handed to handle (the complete records of one read), before Run reads
	// again or waits: a handler that keeps per-record work for later (see
	// engine.Feed) does it here. Not called after handle failed.
	Flushed func()

	path   string
	format engine.Format
	start  engine.Position
	log    *slog.Logger
}

// NewTailer returns a Tailer of the file at path that starts at start, a
// position handed out earlier by Run (the zero Position for a first start).
func NewTailer(path string, format engine.Format, start engine.Position, log *slog.Logger) *Tailer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tailer{path: path, format: format, start: start,
		log: log.With("component", "tail", "path", path)}
}

// Run reads records and calls handle for each, in file order, until ctx ends
// (then it returns nil) or handle fails (then it returns handle's error).
// Problems with the file itself are logged and retried, never returned.
// Record.Data points into Run's buffer and is valid only until handle
// returns; handle must copy what it keeps. One Run at a time per Tailer.
func (t *Tailer) Run(ctx context.Context, handle func(engine.Record) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &run{t: t, log: t.log, handle: handle, disc: newDiscovery(t.path, t.log),
		sp: newSplitter(t.format, or(t.MaxRecord, DefaultMaxRecord), t.log), known: make(map[string]int)}
	r.startPos.Source = t.path
	defer r.close()
	r.watch(ctx)
	r.begin()
	if t.Started != nil {
		t.Started(r.startPos)
	}
	tick := time.NewTicker(or(t.Poll, DefaultPoll))
	defer tick.Stop()
	for {
		if err := r.step(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.disc.wake:
		case <-tick.C:
			r.rewatch()
		}
	}
}

// run is the state of one Run.
type run struct {
	t        *Tailer
	log      *slog.Logger
	handle   func(engine.Record) error
	sp       *splitter
	disc     *discovery
	cur      *source         // the file being read; nil while there is none
	backlog  []*source       // files to read from 0, in order, before any new file at the path
	startPos engine.Position // where begin chose to start
	readErr  string          // the last read error logged

	known map[string]int // identities of files dealt with (read, queued, older), with when: moves
	past  seen           // the leading bytes of files read before
	moves int            // counts changes of the file being read, or of its offset to 0

	idFor *source // posID's cache: the FileID of idFor up to offset idLen
	idLen int64
	idStr string

	w        *fsnotify.Watcher // nil when notifications are unavailable
	watchErr bool              // adding the directory failed, logged
	done     chan struct{}     // closed when the event goroutine ends
}

// step reads what there is to read and moves on to the next file when there
// is one: a rotated file queued in the backlog, or a new file at the path.
// The file being read is read to its end first.
func (r *run) step(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := r.read(ctx); err != nil {
			return err
		}
		r.disc.poll()
		if len(r.backlog) == 0 && !r.disc.ready(r.cur == nil) {
			return nil
		}
		moves := r.moves
		if err := r.read(ctx); err != nil { // what was written to it meanwhile
			return err
		}
		if ctx.Err() != nil || r.moves != moves {
			continue // the file being read changed under the reads: look again
		}
		next := r.take()
		if next == nil {
			return nil
		}
		r.finish()
		r.setCur(next, 0)
	}
	return nil
}

// take returns the next file to read: the backlog's first, or a new file.
func (r *run) take() *source {
	if len(r.backlog) > 0 {
		next := r.backlog[0]
		r.backlog = r.backlog[1:]
		r.log.Info("reading rotated alerts file", "name", next.f.Name(), "file_id", next.id)
		return next
	}
	next := r.disc.take(true)
	if next != nil {
		r.log.Info("following new alerts file", "file_id", next.id)
	}
	return next
}

// read reads the current file to its end, handing out complete records.
// Before each read it checks the file was not truncated: the handler may
// have taken long, and bytes read at a stale offset would be garbage. After
// the read it checks again, for a truncation while it read.
func (r *run) read(ctx context.Context) error {
	for r.cur != nil && ctx.Err() == nil {
		if !r.more() {
			return nil // nothing new
		}
		from, tail := r.sp.offset(), r.sp.tail
		k, short, rerr := r.sp.fill(r.cur.f)
		if k > 0 && !tail.matches(r.cur.f, from) {
			r.sp.unread(k, tail)
			r.log.Warn("alerts file rewritten while read", "offset", from)
			r.rewound(from)
			continue
		}
		if from == 0 && k > 0 && r.missed() {
			continue // files rotated away unread come first; this one is read after them
		}
		if err := r.emit(); err != nil {
			return err
		}
		r.readFailed(rerr)
		if short || rerr != nil {
			return nil
		}
	}
	return nil
}

// readFailed logs a read error once, until a read succeeds again.
func (r *run) readFailed(err error) {
	if err == nil || err == io.EOF {
		r.readErr = ""
		return
	}
	if msg := err.Error(); msg != r.readErr {
		r.readErr = msg
		r.log.Warn("reading alerts file", "err", err)
	}
}

// emit hands every complete buffered record to the handler, then calls
// Flushed if there was any.
func (r *run) emit() error {
	for n := 0; ; n++ {
		data, end, ok := r.sp.next()
		if !ok {
			if n > 0 && r.t.Flushed != nil {
				r.t.Flushed()
			}
			return nil
		}
		rec := engine.Record{Data: data, Format: r.t.format, Pos: engine.Position{
			Source: r.t.path, FileID: r.posID(end), Offset: end}}
		if err := r.handle(rec); err != nil {
			return err
		}
	}
}

// more reports whether the current file has bytes past the read offset.
// A file truncated in place (copytruncate) is handed to rewound.
func (r *run) more() bool {
	size, off := r.cur.size(), r.sp.offset()
	switch {
	case size < 0: // cannot tell: try reading
		return true
	case size < off:
		r.log.Warn("alerts file truncated", "size", size, "offset", off)
	case !r.sp.tail.matches(r.cur.f, off):
		r.log.Warn("alerts file rewritten in place", "size", size, "offset", off)
	default:
		return size > off
	}
	r.rewound(off)
	return true
}

// setCur makes s the file being read, from offset off.
func (r *run) setCur(s *source, off int64) {
	if _, err := s.f.Seek(off, io.SeekStart); err != nil {
		r.log.Warn("seeking in alerts file; reading it from the start", "offset", off, "err", err)
		off = 0
	}
	r.cur = s
	r.sp.reset(off)
	if off > 0 {
		r.sp.head.load(s.f, off)
	}
	r.idFor = nil
	r.moves++
	r.known[s.id] = r.moves
	if r.startPos.FileID == "" {
		r.startPos = engine.Position{Source: r.t.path, FileID: r.posID(off), Offset: off}
	}
}

// finish closes the current file, which has been read to its end.
func (r *run) finish() {
	if r.cur == nil {
		return
	}
	if p := r.sp.pending(); p > 0 {
		r.log.Warn("old alerts file ends in an incomplete record; dropped", "bytes", p, "file_id", r.cur.id)
	}
	r.past.add(r.sp.head.bytes())
	r.cur.f.Close()
	r.cur = nil
}

// watch starts file notifications on the file's directory. Without them
// (no inotify instance left, say) the tailer polls.
func (r *run) watch(ctx context.Context) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		r.log.Warn("file notifications unavailable; polling", "err", err)
		return
	}
	r.w, r.done = w, make(chan struct{})
	r.rewatch()
	go func() {
		defer close(r.done)
		r.disc.watch(ctx, w)
	}()
}

// rewatch adds the directory to the watcher if it is not watched, as when
// it did not exist yet or was removed and made again.
func (r *run) rewatch() {
	if r.w == nil || len(r.w.WatchList()) > 0 {
		return
	}
	dir := filepath.Dir(r.t.path)
	if err := r.w.Add(dir); err != nil {
		if !r.watchErr {
			r.log.Warn("cannot watch directory; polling until it can", "dir", dir, "err", err)
		}
		r.watchErr = true
		return
	}
	r.watchErr = false
}

func (r *run) close() {
	if r.w != nil {
		r.w.Close()
		<-r.done
	}
	r.disc.close()
	if r.cur != nil {
		r.cur.f.Close()
	}
	for _, s := range r.backlog {
		s.f.Close()
	}
}

// or returns v, or def when v is not positive.
func or[T cmp.Ordered](v, def T) T {
	var zero T
	if v <= zero {
		return def
	}
	return v
}
