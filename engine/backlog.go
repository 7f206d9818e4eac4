package engine

import (
	"context"
	"sync"
)

// maxBacklog bounds the adds that wait for a worker. Alerts that make jobs
// faster than the commands run them (a script forks per alert; at a few
// hundred alerts a second it falls behind) queued them without end: each
// holds its alert, and the daemon's heap grew by about 2.7 KB per waiting
// job. Past maxBacklog, reading alerts waits until half have started; the
// alerts wait in their file, which is read on from where it stopped. Storms
// of built-ins apply in groups and queue nothing here.
const maxBacklog = 4096

// backlog counts the adds queued for the dispatcher, and holds back the
// alerts' reader while there are too many (see maxBacklog).
type backlog struct {
	mu   sync.Mutex
	n    int
	max  int
	room chan struct{} // closed once n is down to max/2; nil while nobody waits
}

// queued counts one add queued.
func (b *backlog) queued() {
	b.mu.Lock()
	b.n++
	b.mu.Unlock()
}

// started counts one queued add started (or dropped).
func (b *backlog) started() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n--
	if b.room != nil && b.n <= b.max/2 {
		close(b.room)
		b.room = nil
	}
}

// wait returns once fewer than max adds are queued, or ctx ends.
func (b *backlog) wait(ctx context.Context) {
	b.mu.Lock()
	if b.n < b.max {
		b.mu.Unlock()
		return
	}
	if b.room == nil {
		b.room = make(chan struct{})
	}
	room := b.room
	b.mu.Unlock()
	select {
	case <-room:
	case <-ctx.Done():
	}
}
