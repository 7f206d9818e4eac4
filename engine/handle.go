package engine

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"
)

// Stats count what the engine did with alerts since it started.
type Stats struct {
	Alerts    atomic.Uint64 // records handled
	Malformed atomic.Uint64 // records that could not be decoded
	Matched   atomic.Uint64 // alert-response pairs that triggered
	Jobs      atomic.Uint64 // commands dispatched
	Skipped   atomic.Uint64 // triggered pairs not run (white list, location, validation)
	Repaired  atomic.Uint64 // blocks put back after they went missing from the OS

	skippedBy [len(SkipReasons)]atomic.Uint64
}

// SkippedBy returns the triggered responses not run, by reason.
func (s *Stats) SkippedBy() map[string]uint64 {
	m := make(map[string]uint64, len(SkipReasons))
	for i, r := range SkipReasons {
		m[r] = s.skippedBy[i].Load()
	}
	return m
}

// Stats returns the engine's counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// commitItem is a handled record on its way to the store: its jobs (if any)
// and its position, written together before the jobs are dispatched.
type commitItem struct {
	jobs []Job
	pos  posMark
}

// Handle processes one record. It decodes and matches it against the current
// configuration; the jobs of a triggering alert are written to the store
// together with the record's position and then dispatched, asynchronously.
// Handle waits while the queue to the store is full; when ctx ends meanwhile
// it returns nil and the record is read again at the next start (its
// position was not written).
// Handle may be called from several goroutines (one per alerts file).
func (e *Engine) Handle(ctx context.Context, r Record) error {
	e.stats.Alerts.Add(1)
	a := e.alerts.Get().(*Alert)
	defer e.alerts.Put(a)
	data, err := decodeRecord(r, a)
	if err != nil {
		return e.malformed(r, err)
	}
	var by []*Response
	jobs, err := e.matchAlert(a, data, &by)
	if err != nil {
		return e.malformed(r, err)
	}
	return e.handled(ctx, r, a, jobs, by)
}

// handled takes the record r, decoded into a, after matching: it publishes
// r's position, or queues the jobs it triggers with that position.
func (e *Engine) handled(ctx context.Context, r Record, a *Alert, jobs []Job, by []*Response) error {
	e.mu.Lock()
	e.recSeq++
	mark := posMark{Position: r.Pos, order: e.recSeq}
	if len(jobs) == 0 {
		// The path of almost every alert: no atomic counter moves for
		// nothing (each locked instruction was a fifth of Handle's own
		// time, outside decoding, in the daemon's profile).
		e.positions[r.Pos.Source] = mark
		e.mu.Unlock()
		return nil
	}
	e.stats.Jobs.Add(uint64(len(jobs)))
	for i := range jobs {
		e.jobSeq++
		jobs[i].ID = e.jobSeq
	}
	e.mu.Unlock()
	e.histMatched(a, jobs, by)
	e.obs.handled(jobs)
	e.backlog.wait(ctx) // too many adds waiting for a worker: the alerts wait in their file
	if ctx.Err() == nil {
		select {
		case e.commits <- commitItem{jobs: jobs, pos: mark}:
			return nil
		case <-ctx.Done():
		}
	}
	// Stopping: r's jobs are dropped. The reader may go on through its
	// buffer meanwhile, publishing later positions; none from r's on is
	// written, so r is read again at the next start.
	e.mu.Lock()
	if _, ok := e.cut[r.Pos.Source]; !ok {
		e.cut[r.Pos.Source] = mark.order
	}
	e.mu.Unlock()
	return nil
}

func (e *Engine) malformed(r Record, err error) error {
	e.stats.Malformed.Add(1)
	e.log.Warn("skipping malformed alert", "source", r.Pos.Source, "offset", r.Pos.Offset, "err", err)
	e.mu.Lock()
	e.recSeq++
	e.positions[r.Pos.Source] = posMark{Position: r.Pos, order: e.recSeq}
	e.mu.Unlock()
	return nil
}

// decodeRecord decodes r into a and returns the alert as JSON (an
// alerts.log block converted).
func decodeRecord(r Record, a *Alert) ([]byte, error) {
	data := r.Data
	if r.Format == FormatText {
		var err error
		if data, err = TextToJSON(data); err != nil {
			return nil, err
		}
	}
	return data, a.Decode(data)
}

// matchAlert returns the jobs the decoded alert a (JSON data) triggers; an
// alert that triggers a command must be valid JSON throughout. by, when not
// nil, gets the response of each job.
func (e *Engine) matchAlert(a *Alert, data []byte, by *[]*Response) ([]Job, error) {
	jobs := e.match(a, data, by)
	if len(jobs) > 0 && !validJSON(data) {
		return nil, errSyntax
	}
	return jobs, nil
}

// match returns the jobs an alert triggers: one per active response that
// triggers, runs on this host and passes the white list and validation.
// by, when not nil, gets the response of each job.
func (e *Engine) match(a *Alert, raw []byte, by *[]*Response) []Job {
	m := e.matcher.Load()
	var jobs []Job
	checked := false
	for _, r := range m.responses {
		if !r.triggers(a) {
			continue
		}
		e.stats.Matched.Add(1)
		if !checked {
			if m.whiteListed(a.SrcIP) {
				e.skip(a, r, SkipWhiteList)
				return nil
			}
			if reason := validate(a, e.host); reason != "" {
				e.skip(a, r, reason)
				return nil
			}
			checked = true
		}
		if !r.runsHere(a, e.agentID) {
			e.skip(a, r, SkipLocation)
			continue
		}
		jobs = append(jobs, Job{
			Lane: laneOf(r.Command, a), Command: r.Command, Params: e.jobParams(r, raw), Fields: fields(a),
			Timeout: r.Timeout, Repeated: r.RepeatedOffenders,
		})
		if by != nil {
			*by = append(*by, r.Response)
		}
	}
	return jobs
}

// skip counts and logs a triggered response that does not run: a warning
// for values that failed validation, less for the everyday reasons (another
// host's alert, a white-listed address), which the counters keep anyway.
func (e *Engine) skip(a *Alert, r *compiled, reason string) {
	e.stats.Skipped.Add(1)
	if i := slices.Index(SkipReasons[:], reason); i >= 0 {
		e.stats.skippedBy[i].Add(1)
	}
	e.obs.skipped(r.Response, reason)
	e.histEscaped(a, r.Response, reason)
	level := slog.LevelWarn
	switch reason {
	case SkipLocation:
		level = slog.LevelDebug
	case SkipWhiteList:
		level = slog.LevelInfo
	}
	ctx := context.Background()
	if !e.log.Enabled(ctx, level) {
		return // the arguments' strings would be made for nothing
	}
	e.log.Log(ctx, level, "active response skipped", "reason", reason, "command", r.Command.Name,
		"rule", string(a.RuleID), "alert", string(a.ID), "agent", string(a.AgentID),
		"srcip", string(a.SrcIP), "user", string(a.DstUser), "line", r.Line)
}

// maxGroup bounds the records of one group: one netlink batch per command,
// one log write, one decision pass under the lock.
const maxGroup = 1024

// The commit loop decides and applies (kernel timeouts) groups ahead of the
// store: prepared groups wait for the writer in a writeQueue, bounded by
// their records (see writequeue.go). In a storm longer than that, the
// writer is the slower stage and its pace holds the tailer back: at most
// mergedRecords are being written, queuedRecords wait, a group of up to
// maxGroup is being prepared and handledRecords are queued for the loop.
//
// These sizes are what a storm keeps in memory at once: every record in
// flight holds its alert (about 2 KB) until its group's log lines are
// written, and a commit's size is what bbolt holds in dirty pages. With
// groups of 4,096, four merged per commit, and 4,096 records queued, a
// storm of 10,000 held all of itself at once: 70 MB more live heap at the
// peak of BenchmarkBuildUp100k than with these sizes (about 20 MB), for no
// faster storm (a commit of 2,048 records is still one fsync for hundreds
// of blocks).
const handledRecords = maxGroup

// commitLoop groups handled records and decides them (see prepare), then
// hands each group to a writer goroutine: while one commit is being
// written (an fsync), the next groups are already being decided and their
// kernel-timeout blocks applied, so a storm's blocks do not wait for the
// store. Groups are written in the order they were prepared. Positions of
// records without jobs are written at least every FlushEvery and at the end.
func (e *Engine) commitLoop(ctx context.Context) {
	writes := newWriteQueue()
	wrote := make(chan struct{})
	go func() { defer close(wrote); e.writeLoop(ctx, writes) }()
	defer func() { writes.close(); <-wrote }()
	tick := time.NewTicker(e.flush)
	defer tick.Stop()
	written := map[string]uint64{}
	for {
		var first *commitItem
		select {
		case it := <-e.commits:
			first = &it
		case <-tick.C:
		case <-ctx.Done():
			writes.push(e.prepare(first, written)) // one last try: ctx is done
			return
		}
		writes.startPreparing()
		writes.push(e.prepare(first, written))
	}
}

// batch is one group on its way from the commit loop to the writer.
type batch struct {
	c       Change
	g       *grouping
	single  []Job              // jobs to dispatch once written
	marks   map[string]posMark // positions it makes durable
	records int
}

// prepare takes one group of records: the decisions of the jobs with a
// batch form, the other jobs, and the positions, in one Change; the adds
// whose blocks carry a kernel timeout are applied before it is written
// (see group.go). The positions snapshot is taken before draining the
// queue: every record handled before a snapshotted position is then either
// in a group prepared earlier (written earlier) or in this one, so a
// position never gets ahead of a job still waiting.
func (e *Engine) prepare(first *commitItem, written map[string]uint64) *batch {
	marks, items := e.drain(first)
	grouped, single, g := e.split(items)
	b := &batch{g: g, marks: marks, records: len(items)}
	single = append(single, e.decideGroup(&b.c, g, grouped)...)
	b.c.Jobs, b.single = single, single
	b.c.History, b.c.HistoryGap = e.hist.take()
	e.mu.Lock()
	for _, it := range items {
		if it.pos.order > marks[it.pos.Source].order && !e.passesCut(it.pos) {
			marks[it.pos.Source] = it.pos
		}
	}
	e.mu.Unlock()
	for src, m := range marks {
		if m.order > written[src] && m.Source != "" {
			b.c.Positions = append(b.c.Positions, m.Position)
			written[src] = m.order
		}
	}
	e.applyRuns(g, true) // kernel timeouts: safe before the commit
	b.c.Mark = append(b.c.Mark, g.kernelMarks()...)
	return b
}

// writeLoop commits the groups in order, with the marks of what the commit
// before applied after it. The groups waiting when it is free go into one
// commit (see writeQueue.take and mergeBatches); then, group by group, it
// applies the rest, settles the decisions and dispatches the jobs.
func (e *Engine) writeLoop(ctx context.Context, writes *writeQueue) {
	var unmarks []EntryRef
	gaveUp := false // a write was given up at stop: nothing after it may be written
	for {
		bs := writes.take()
		if bs == nil {
			return
		}
		c, records := mergeBatches(bs)
		c.Unmark = append(c.Unmark, unmarks...)
		unmarks = nil
		if isEmpty(c) {
			continue
		}
		if gaveUp || !e.write(ctx, c, records) {
			// A later group's positions would pass the records of the
			// group given up, whose jobs are not written: those records are
			// read again at the next start, so no later group is written.
			gaveUp = true
			unmarks = c.Unmark
			for i := len(bs) - 1; i >= 0; i-- {
				e.rollbackGroup(bs[i].g)
			}
			continue
		}
		if len(c.Put) >= BurstEntries {
			select {
			case e.bursts <- struct{}{}:
			default:
			}
		}
		e.mu.Lock()
		for _, b := range bs {
			for src, m := range b.marks {
				if m.order > e.positions[src].order {
					e.positions[src] = m
				}
			}
		}
		e.mu.Unlock()
		for _, b := range bs {
			unmarks = append(unmarks, e.applyRuns(b.g, false)...)
			e.settleGroup(b.g)
			b.g.writeLogs()
			for _, j := range b.single {
				e.dispatchAdd(j)
			}
		}
	}
}

// dispatchAdd queues j's add, counted in the backlog until it starts.
func (e *Engine) dispatchAdd(j Job) {
	e.backlog.queued()
	if !e.disp.submit(e.ctx, j.Lane, func(ctx context.Context) { e.backlog.started(); e.runAdd(ctx, j) }) {
		e.backlog.started()
	}
}

// nothingWaits reports whether nothing in bs waits for their commit: no
// job to dispatch and no block to apply after it.
func nothingWaits(bs []*batch) bool {
	for _, b := range bs {
		if len(b.single) > 0 || len(b.c.Mark) > 0 {
			return false
		}
	}
	return true
}

// mergeBatches is the one Change that writes the changes of bs, prepared
// in that order, as if one after the other. It holds Put, Mark, Jobs,
// Offences, Positions and History (prepare writes nothing else), which the
// store applies in order within each kind: a later Put or Mark of a key
// wins, a later Put without Params keeps those of an earlier one, a later
// position of a source wins, a later offence count replaces an earlier.
func mergeBatches(bs []*batch) (Change, int) {
	if len(bs) == 1 {
		return bs[0].c, bs[0].records
	}
	// Each slice is made once at its size: a storm's groups hold tens of
	// thousands of entries, and growing them would copy each several times.
	records, offences := 0, 0
	for _, b := range bs {
		records += b.records
		offences += len(b.c.Offences)
	}
	c := Change{
		Put:       make([]Entry, 0, total(bs, func(c *Change) int { return len(c.Put) })),
		Mark:      make([]EntryRef, 0, total(bs, func(c *Change) int { return len(c.Mark) })),
		Unmark:    make([]EntryRef, 0, total(bs, func(c *Change) int { return len(c.Unmark) })),
		Jobs:      make([]Job, 0, total(bs, func(c *Change) int { return len(c.Jobs) })),
		Positions: make([]Position, 0, total(bs, func(c *Change) int { return len(c.Positions) })),
		History:   make([]HistoryEvent, 0, total(bs, func(c *Change) int { return len(c.History) })),
	}
	if offences > 0 {
		c.Offences = make(map[string]int, offences)
	}
	for _, b := range bs {
		c.Put = append(c.Put, b.c.Put...)
		c.Mark = append(c.Mark, b.c.Mark...)
		c.Unmark = append(c.Unmark, b.c.Unmark...)
		c.Jobs = append(c.Jobs, b.c.Jobs...)
		c.Positions = append(c.Positions, b.c.Positions...)
		c.History = append(c.History, b.c.History...)
		if b.c.HistoryGap.After(c.HistoryGap) {
			c.HistoryGap = b.c.HistoryGap
		}
		for k, n := range b.c.Offences {
			c.Offences[k] = n
		}
	}
	return c, records
}

// total is the sum of n over the changes of bs.
func total(bs []*batch, n func(*Change) int) int {
	t := 0
	for _, b := range bs {
		t += n(&b.c)
	}
	return t
}

// drain takes first and whatever else is queued (up to maxGroup), with the
// positions snapshot described on commit.
func (e *Engine) drain(first *commitItem) (map[string]posMark, []commitItem) {
	e.mu.Lock()
	marks := make(map[string]posMark, len(e.positions))
	for src, p := range e.positions {
		if e.passesCut(p) {
			continue
		}
		marks[src] = p
	}
	e.mu.Unlock()
	var items []commitItem
	if first != nil {
		items = append(items, *first)
	}
	for len(items) < maxGroup {
		select {
		case it := <-e.commits:
			items = append(items, it)
		default:
			return marks, items
		}
	}
	clear(marks) // records still queued may precede the snapshot
	return marks, items
}

// passesCut reports whether p is at or past a record of its source whose
// jobs were dropped at stop (see handled): such a position is not written.
// e.mu is held.
func (e *Engine) passesCut(p posMark) bool {
	c, ok := e.cut[p.Source]
	return ok && p.order >= c
}

// write applies c, retrying each second while the store fails. It reports
// false when ctx ended first: nothing ran and no position moved, so the
// records are read again at the next start.
func (e *Engine) write(ctx context.Context, c Change, records int) bool {
	for err := e.store.Apply(c); err != nil; err = e.store.Apply(c) {
		select {
		case <-ctx.Done():
			e.log.Error("store write failed; stopping without it", "err", err, "records", records)
			return false
		case <-time.After(time.Second):
			e.log.Error("store write failed; retrying", "err", err)
		}
	}
	return true
}

func isEmpty(c Change) bool {
	return len(c.Put) == 0 && len(c.Del) == 0 && len(c.Jobs) == 0 && len(c.DoneJobs) == 0 &&
		len(c.Mark) == 0 && len(c.Unmark) == 0 && len(c.Offences) == 0 && len(c.Positions) == 0 && c.BootID == "" &&
		len(c.History) == 0 && c.HistoryGap.IsZero()
}
