package engine

import "sync"

// The groups prepared and waiting for the writer are bounded by their
// records, not by their number. In a storm the groups are large and the
// bound is what it was with two groups of maxGroup; when alerts come one at
// a time each group is one record, and a bound of two groups made the
// commit loop wait behind one slow commit (an fsync of 5 to 160 ms on a
// busy disk) with the next alert's block ready to apply.
const (
	queuedRecords = 2 * maxGroup // waiting for the writer
	mergedRecords = 3 * maxGroup // written in one commit: what waits, and the group being prepared
	// mergedGroups bounds the groups the writer waits for while they are
	// being prepared (see take): it commits what is there, not what may
	// keep coming.
	mergedGroups = 4
)

// writeQueue is the groups prepared by the commit loop and not yet taken
// by the writer, in order.
type writeQueue struct {
	mu        sync.Mutex
	changed   sync.Cond // a group came or was taken, the queue closed
	groups    []*batch
	records   int  // the weight of groups
	preparing bool // the commit loop is preparing the next group
	closed    bool
}

func newWriteQueue() *writeQueue {
	q := &writeQueue{}
	q.changed.L = &q.mu
	return q
}

// weight is what a group counts against the bounds: its records, at least
// one (a group of positions only).
func weight(b *batch) int { return max(b.records, 1) }

// startPreparing tells the writer a group is being prepared (see take).
func (q *writeQueue) startPreparing() {
	q.mu.Lock()
	q.preparing = true
	q.mu.Unlock()
}

// push queues b, whose preparation is over. It waits while queuedRecords
// or more records are waiting: the writer is then the slower stage, and
// its pace holds the commit loop (and so the tailer) back.
func (q *writeQueue) push(b *batch) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.preparing = false
	for q.records >= queuedRecords {
		q.changed.Wait()
	}
	q.groups = append(q.groups, b)
	q.records += weight(b)
	q.changed.Broadcast()
}

// close tells the writer that no group comes after those queued.
func (q *writeQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.changed.Broadcast()
}

// take waits for a group and returns the groups to write in one commit, in
// order: all those waiting, up to mergedRecords records (at least one
// group). While the commit loop prepares a group and nothing taken waits
// for the commit (see nothingWaits), it waits for that group too, up to
// mergedGroups groups: in a storm of kernel-timeout blocks a commit at once
// would take CPU from the blocks still to apply, and waiting makes one
// commit of what would be several. It returns nil once the queue is closed
// and empty.
func (q *writeQueue) take() []*batch {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.groups) == 0 && !q.closed {
		q.changed.Wait()
	}
	var bs []*batch
	n := 0
	for {
		for len(q.groups) > 0 && (len(bs) == 0 || n+weight(q.groups[0]) <= mergedRecords) {
			w := weight(q.groups[0])
			n += w
			q.records -= w // room for the group being prepared, waited for below
			bs = append(bs, q.groups[0])
			q.groups[0] = nil
			q.groups = q.groups[1:]
		}
		q.changed.Broadcast()
		if len(q.groups) > 0 || q.closed || !q.preparing || len(bs) >= mergedGroups ||
			n >= mergedRecords || !nothingWaits(bs) {
			return bs
		}
		q.changed.Wait() // the group being prepared
	}
}
