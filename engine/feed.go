package engine

import "context"

// Feed hands the records of one reader to the engine, as Handle does, with
// less bookkeeping per record: the position of a record that triggers
// nothing (almost every record) is only kept, and published, with the count
// of records, at Flush. The reader calls Flush after each batch of records
// (each read of the file) and before it waits; Position and the positions
// written to the store therefore lag by at most one unflushed batch, whose
// records are read again after a stop (they triggered nothing). In the
// daemon's profile the lock, the map update, the atomic count and the pool
// round trip of every record were about 3 % of its CPU time: half of what
// its tailer spent outside decoding and read(2).
//
// A Feed is used by one goroutine at a time; feeds of different sources may
// run concurrently.
type Feed struct {
	e       *Engine
	a       Alert // decoded into; a Feed is not shared, so no pool
	by      []*Response
	n       uint64   // records handled since the last Flush
	pending Position // the latest position not published, if has
	has     bool
}

// Feed returns a new Feed.
func (e *Engine) Feed() *Feed { return &Feed{e: e} }

// Handle processes one record as Engine.Handle does, except that the
// position of a record that triggers nothing waits for Flush.
func (f *Feed) Handle(ctx context.Context, r Record) error {
	e := f.e
	f.n++
	data, err := decodeRecord(r, &f.a)
	if err != nil {
		f.settle() // r's position, published now, passes the pending one
		return e.malformed(r, err)
	}
	f.by = f.by[:0]
	jobs, err := e.matchAlert(&f.a, data, &f.by)
	switch {
	case err != nil:
		f.settle()
		return e.malformed(r, err)
	case len(jobs) == 0:
		if f.has && f.pending.Source != r.Pos.Source {
			f.publish() // a feed reads one source at a time, but need not
		}
		f.pending, f.has = r.Pos, true
		return nil
	}
	f.settle() // the jobs carry r's position, which passes the pending one
	return e.handled(ctx, r, &f.a, jobs, f.by)
}

// settle counts the records handled so far and drops the pending position,
// which the record being handled passes: its position is published (or
// queued with its jobs) at once.
func (f *Feed) settle() {
	f.e.stats.Alerts.Add(f.n)
	f.n, f.has = 0, false
}

// Flush publishes the latest position of the records handled since the
// last Flush, and counts them.
func (f *Feed) Flush() {
	if f.n > 0 {
		f.e.stats.Alerts.Add(f.n)
		f.n = 0
	}
	if f.has {
		f.publish()
	}
}

// publish makes the pending position the source's latest handled one.
func (f *Feed) publish() {
	e := f.e
	e.mu.Lock()
	e.recSeq++
	e.positions[f.pending.Source] = posMark{Position: f.pending, order: e.recSeq}
	e.mu.Unlock()
	f.has = false
}
