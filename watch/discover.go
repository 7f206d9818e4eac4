package watch

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// source is one open file and its identity.
type source struct {
	f  *os.File
	id string
}

// size is the file's current size, or -1 when it cannot be had.
func (s *source) size() int64 {
	fi, err := s.f.Stat()
	if err != nil {
		return -1
	}
	return fi.Size()
}

// discovery opens each new file that appears at path, as soon as it is seen,
// and queues it in order. Opening at once matters: a file held open can be
// read to its end however often it is renamed afterwards.
type discovery struct {
	path string
	log  *slog.Logger
	wake chan struct{} // one pending wake-up for the reader

	polling sync.Mutex // one poll at a time, so files queue in the order they appeared
	mu      sync.Mutex
	last    string    // identity of the newest file seen at path
	queue   []*source // seen, not yet taken by the reader
	lastErr string    // last error logged, to log each error once
	closed  bool
}

func newDiscovery(path string, log *slog.Logger) *discovery {
	return &discovery{path: path, log: log, wake: make(chan struct{}, 1)}
}

// poll looks at path and queues the file there if it is new.
func (d *discovery) poll() {
	d.polling.Lock()
	defer d.polling.Unlock()
	id, err := pathID(d.path)
	if err != nil {
		d.logErr(err)
		return
	}
	d.mu.Lock()
	seen := id == d.last
	d.mu.Unlock()
	if seen {
		return
	}
	f, err := openShared(d.path)
	if err != nil {
		d.logErr(err)
		return
	}
	if id, err = fileID(f); err != nil {
		f.Close()
		d.logErr(err)
		return
	}
	d.add(&source{f: f, id: id})
}

// add queues s unless it is the newest file already seen.
func (d *discovery) add(s *source) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.id == d.last || d.closed {
		s.f.Close()
		return
	}
	d.last = s.id
	d.queue = append(d.queue, s)
	d.lastErr = ""
	d.notify()
}

// ready reports whether the reader should move to the oldest queued file:
// when it reads nothing (force), when the next file has data, or when a
// later one exists. While the next file is empty the old one may still be
// written by a writer that has not reopened yet, so it stays.
func (d *discovery) ready(force bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.readyLocked(force)
}

func (d *discovery) readyLocked(force bool) bool {
	return len(d.queue) > 1 || len(d.queue) == 1 && (force || d.queue[0].size() != 0)
}

// take returns the oldest queued file if ready(force).
func (d *discovery) take(force bool) *source {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.readyLocked(force) {
		return nil
	}
	next := d.queue[0]
	d.queue = d.queue[1:]
	return next
}

// ids returns the identities of the queued files.
func (d *discovery) ids() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, len(d.queue))
	for i, s := range d.queue {
		out[i] = s.id
	}
	return out
}

// peek returns the oldest queued file without taking it.
func (d *discovery) peek() *source {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.queue) == 0 {
		return nil
	}
	return d.queue[0]
}

// notify wakes the reader without blocking.
func (d *discovery) notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *discovery) logErr(err error) {
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if msg := err.Error(); msg != d.lastErr {
		d.lastErr = msg
		d.log.Warn("cannot open alerts file", "err", err)
	}
}

// close closes every queued file; files found later are closed at once.
func (d *discovery) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for _, s := range d.queue {
		s.f.Close()
	}
	d.queue = nil
}

// watch forwards fsnotify events about path until w is closed or ctx ends.
// A Create opens the new file right here, not in the reader, which may be
// busy in its handler.
func (d *discovery) watch(ctx context.Context, w *fsnotify.Watcher) {
	base := filepath.Base(d.path)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) != base {
				continue
			}
			if ev.Has(fsnotify.Create) {
				d.poll()
			}
			d.notify()
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			d.log.Warn("file notification error; polling covers it", "err", err)
			d.poll()
			d.notify()
		}
	}
}
