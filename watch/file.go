package watch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long File waits for a burst of changes to settle.
const DefaultDebounce = 100 * time.Millisecond

// File calls changed once a burst of changes to the file at path has
// settled: nothing happened for debounce (DefaultDebounce if zero). It
// watches the directory, not the file, so that editors that write a temporary
// file and rename it over path are seen; it ignores other names in the
// directory and bare attribute changes. A notification error (such as a
// queue overflow) counts as a change, since one may have been missed, so
// changed must tolerate calls when the file is unchanged.
//
// File also calls changed once as soon as the watch is in place, so that a
// change made between the caller's first read of the file and the start of
// the watch is not missed.
//
// changed runs on File's goroutine; changes during it start a new burst.
// File returns nil when ctx ends, or an error if the directory cannot be
// watched.
func File(ctx context.Context, path string, debounce time.Duration, changed func()) error {
	debounce = or(debounce, DefaultDebounce)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	defer w.Close()
	if err := w.Add(filepath.Dir(path)); err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	return follow(ctx, path, w.Events, w.Errors, debounce, changed)
}

// follow is File's loop on the watcher's channels: a change to path (or an
// error) starts or restarts the quiet period, and changed runs when it ends;
// it runs once at the start too.
func follow(ctx context.Context, path string, events <-chan fsnotify.Event, errs <-chan error, debounce time.Duration, changed func()) error {
	base := filepath.Base(path)
	settle := time.NewTimer(0) // the first check, now that the watch is in place
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return fmt.Errorf("watch %s: %w", path, errWatcherClosed)
			}
			if filepath.Base(ev.Name) == base && ev.Op != fsnotify.Chmod {
				settle.Reset(debounce)
			}
		case _, ok := <-errs:
			if !ok {
				return fmt.Errorf("watch %s: %w", path, errWatcherClosed)
			}
			settle.Reset(debounce)
		case <-settle.C:
			changed()
		}
	}
}

var errWatcherClosed = errors.New("watcher closed")
