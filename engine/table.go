package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// retryNotStarted is how long a delete whose command could not start waits
// before it is tried again. Its entry stays in the store meanwhile.
const retryNotStarted = time.Minute

// tableEntry is an Entry plus its in-memory state. Its Params are not kept:
// they stay on disk until a delete needs them (Store.Params).
//
// Its Entry is never changed in place once in the table (a change puts a
// new Entry in its place), so a copy of the pointer may be read without
// e.mu. Entries loaded at start point into the loaded State's slice: the
// table holds no second copy of them.
type tableEntry struct {
	*Entry
	pending   bool // its write is not durable yet (or, from a group, not applied): treat as active
	inGroup   bool // pending in a group on its way to the store, written in order after the groups before
	deleting  bool // its delete is running: a new add starts a new generation
	repairing bool // being put back by drift repair: its delete waits
	loaded    bool // points into the entries loaded at start (see compactLoaded)
}

// runAdd runs one matched alert's command and settles its job. The job stays
// in the store until the command has run, so a crash at any point runs it
// again at the next start; a job that finds the entry its own decision
// created gets that decision again (see record).
func (e *Engine) runAdd(ctx context.Context, job Job) {
	inv := Invocation{Command: *job.Command, Op: OpAdd, Message: BuildMessage(e.node, OpAdd, job.Params), Fields: job.Fields, Target: job.Fields.Target()}
	defer e.histForget(job.ID)
	settled := false // by its decision: an abort has nothing left to run
	asked := false
	check := func(keys []string) (Decision, error) {
		d, _, err := e.record(job, keys)
		settled, asked = err == nil && d.Verdict == Abort, true
		return d, err
	}
	var legacy EntryRef
	if job.Command.Protocol == ProtocolLegacy {
		// A legacy script cannot ask: the engine keys it on the address (or
		// user) itself, as wazuh-execd did before 4.2, and skips a repeat.
		d, ref, err := e.record(job, legacyKeys(job.Fields))
		if err != nil || d.Verdict == Abort {
			e.logRun(inv, err)
			e.obs.ranAdd(ctx, &job, time.Time{}, true, err == nil, err)
			return // an error leaves the job to run again at the next start
		}
		legacy, check, asked = ref, nil, true
	}
	start := time.Now()
	err := e.runner.Run(ctx, inv, check)
	e.logRun(inv, err)
	e.obs.ranAdd(ctx, &job, start, asked, settled, err)
	e.histRan(&job, err != nil && ctx.Err() != nil, err)
	switch {
	case settled:
		return
	case legacy.Key != "" && errors.Is(err, ErrNotStarted):
		e.forget(legacy, job.ID) // recorded for a block that never happened
		return
	case err != nil && ctx.Err() != nil:
		return // stopped mid-run: the job stays and runs again at start
	}
	if err := e.store.Apply(Change{DoneJobs: []uint64{job.ID}}); err != nil {
		e.log.Error("settle job", "job", job.ID, "err", err)
		return
	}
	e.log.Debug("job done", "job", job.ID, "command", job.Command.Name)
}

// legacyKeys are the keys of a legacy-protocol run: its address, else its user.
func legacyKeys(f Fields) []string {
	if f.SrcIP != "-" {
		return []string{f.SrcIP}
	}
	if f.User != "-" {
		return []string{f.User}
	}
	return nil
}

// record answers check_keys for job: abort when the key is active (and
// restart its timer with the escalated timeout), continue otherwise, with the
// revert entry durable before the answer. It names the entry generation it
// wrote (none for a stateless job). An abort settles the job in the same
// commit; a continue leaves it pending until the command has run.
//
// A job that runs again after a crash and finds the generation its own
// continue created gets continue again, with no second offence. A decision
// waits while the key's previous one is still being written, so the writes
// of one key reach the store in order, and while the key's delete runs: a
// lane is chosen from the alert's address, so the add of a key that is not
// the address (disable-account's user) may run in another lane than the
// delete, and must not act before the delete has.
func (e *Engine) record(job Job, keys []string) (Decision, EntryRef, error) {
	key := TableKey(job.Command.Executable, keys)
	if job.Timeout <= 0 {
		return Decision{Verdict: Continue}, EntryRef{}, nil // stateless: settled once it has run
	}
	e.mu.Lock()
	cur := e.table[key]
	for cur != nil && (cur.pending || cur.deleting) {
		e.settled.Wait()
		cur = e.table[key]
	}
	if cur != nil && cur.Job == job.ID {
		e.mu.Unlock()
		return Decision{Verdict: Continue, Expires: cur.Expires}, EntryRef{Key: key, Seq: cur.Seq}, nil
	}
	next, d := e.decideLocked(key, cur, job)
	prev := cur
	e.table[key] = &tableEntry{Entry: &next, pending: true}
	e.mu.Unlock()

	c := Change{Put: []Entry{next}, Offences: map[string]int{key: next.Offences}}
	if d.Verdict == Continue {
		c.Put[0].Params = job.Params
	} else {
		c.DoneJobs = []uint64{job.ID}
	}
	err := e.store.Apply(c)
	ref := EntryRef{Key: key, Seq: next.Seq}
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.settled.Broadcast()
	if err != nil {
		e.rollbackLocked(ref, prev)
		return Decision{Verdict: Abort}, EntryRef{}, fmt.Errorf("record %s: %w", key, err)
	}
	if t := e.table[key]; t != nil && t.Seq == next.Seq {
		t.pending = false
	}
	e.timers.schedule(next.Expires, ref)
	e.logDecision(next, d)
	e.histDecided(&job, key, d, false)
	return d, ref, nil
}

// decideLocked takes the decision for job on key, whose current table entry
// is cur (nil when none), and returns the entry generation it makes, without
// its Params. e.mu is held; the offence is counted in memory.
func (e *Engine) decideLocked(key string, cur *tableEntry, job Job) (Entry, Decision) {
	now := e.now()
	n := e.offend(key, now)
	next := Entry{
		Key: key, Seq: e.nextSeq(), Lane: job.Lane, Command: job.Command, Fields: job.Fields,
		Created: now, Offences: n, Job: job.ID,
		Expires: now.Add(offenceTimeout(job.Timeout, job.Repeated, n)),
	}
	if cur == nil || cur.deleting {
		return next, Decision{Verdict: Continue, Expires: next.Expires}
	}
	// Active: the revert keeps the first add's command and alert; only the timer moves.
	next.Lane, next.Command, next.Fields, next.Created, next.Job = cur.Lane, cur.Command, cur.Fields, cur.Created, cur.Job
	return next, Decision{Verdict: Abort, Expires: next.Expires}
}

// rollbackLocked undoes a decision whose write failed: the offence and the
// table entry go back to what they were. e.mu is held.
func (e *Engine) rollbackLocked(ref EntryRef, prev *tableEntry) {
	if o, ok := e.offences[ref.Key]; ok {
		o.n--
		e.offences[ref.Key] = o
	}
	t := e.table[ref.Key]
	if t == nil || t.Seq != ref.Seq {
		return
	}
	if prev == nil || prev.pending && prev.inGroup { // a group rolled back as well
		delete(e.table, ref.Key)
		return
	}
	e.table[ref.Key] = prev
	// Its timer may have fired meanwhile and been dropped as stale.
	e.timers.schedule(prev.Expires, EntryRef{Key: ref.Key, Seq: prev.Seq})
}

func (e *Engine) logDecision(en Entry, d Decision) {
	e.log.Info("active response", "key", en.Key, "verdict", d.Verdict, "offence", en.Offences,
		"expires", en.Expires.Format(time.RFC3339))
}

// expire is called by the timers for one entry generation. The delete goes
// to the entry's lane, behind any add of the same key already queued there;
// whether it still applies is decided when it starts.
func (e *Engine) expire(ref EntryRef) {
	e.mu.Lock()
	t := e.dueLocked(ref)
	if t == nil {
		e.mu.Unlock()
		return // replaced, extended or already on its way out
	}
	entry := *t.Entry
	e.mu.Unlock()
	e.disp.submit(e.ctx, entry.Lane, func(ctx context.Context) { e.runDelete(ctx, entry) })
}

// dueLocked returns the table entry of ref when a revert timer may delete
// it: still the current generation, expired at e.now(), neither pending
// nor being deleted. e.mu is held.
func (e *Engine) dueLocked(ref EntryRef) *tableEntry {
	t := e.table[ref.Key]
	if t == nil || t.Seq != ref.Seq || t.deleting || t.pending || t.Expires.After(e.now()) {
		return nil
	}
	return t
}

// claimDelete marks entry as being deleted if it is still the current,
// expired generation: an add that ran before in its lane may have extended
// or replaced it.
func (e *Engine) claimDelete(entry Entry) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.dueLocked(EntryRef{Key: entry.Key, Seq: entry.Seq})
	if t == nil {
		return false
	}
	if t.repairing { // its block is being put back: try again right after
		e.timers.schedule(e.now().Add(retryRepairing), EntryRef{Key: entry.Key, Seq: entry.Seq})
		return false
	}
	t.deleting = true
	return true
}

// retryRepairing is how long a delete waits for a drift repair of its entry.
const retryRepairing = 100 * time.Millisecond

// runDelete reverts one entry and only then forgets it.
func (e *Engine) runDelete(ctx context.Context, entry Entry) {
	if !e.claimDelete(entry) {
		return
	}
	ref := EntryRef{Key: entry.Key, Seq: entry.Seq}
	params, err := e.params(entry)
	if err == nil {
		inv := Invocation{Command: *entry.Command, Op: OpDelete, Message: BuildMessage(e.node, OpDelete, params), Fields: entry.Fields, Target: entry.Fields.Target()}
		start := time.Now()
		err = e.runner.Run(ctx, inv, nil)
		e.logRun(inv, err)
		e.obs.ranDelete(ctx, entry.Command, start, err)
	}
	if ctx.Err() != nil || errors.Is(err, ErrNotStarted) || errors.Is(err, errNoParams) {
		e.mu.Lock()
		if t := e.table[entry.Key]; t != nil && t.Seq == entry.Seq {
			t.deleting = false
		}
		e.settled.Broadcast() // a decision may wait for the delete
		e.mu.Unlock()
		if ctx.Err() == nil {
			e.timers.schedule(e.now().Add(retryNotStarted), ref)
		}
		return
	}
	e.forget(ref)
	e.histReverted(&entry)
	e.log.Info("reverted", "key", entry.Key)
}

// errNoParams is a delete whose message could not be read from the store.
var errNoParams = errors.New("entry parameters unreadable")

// params reads the parameters (the first add's alert) of entry from the
// store: the table keeps them on disk only. An entry stored without them
// gets an alert rebuilt from its fields, so that its delete still runs.
func (e *Engine) params(entry Entry) ([]byte, error) {
	p, err := e.store.Params(entry.Key)
	if err != nil {
		e.log.Error("entry parameters unreadable; retrying later", "key", entry.Key, "err", err)
		return nil, fmt.Errorf("%w: %s: %w", errNoParams, entry.Key, err)
	}
	if len(p) == 0 {
		e.log.Warn("entry parameters missing; the delete carries an alert rebuilt from its fields", "key", entry.Key)
		return buildParams(entry.Command, fieldsAlert(entry.Fields)), nil
	}
	return p, nil
}

// forget removes one entry generation from the store and the table, and
// settles the jobs named.
func (e *Engine) forget(ref EntryRef, jobs ...uint64) {
	if err := e.store.Apply(Change{Del: []EntryRef{ref}, DoneJobs: jobs}); err != nil {
		e.log.Error("forget entry", "key", ref.Key, "err", err)
	}
	e.mu.Lock()
	if t := e.table[ref.Key]; t != nil && t.Seq == ref.Seq {
		delete(e.table, ref.Key)
		e.leftTable(ref.Key)
	}
	e.settled.Broadcast() // a decision may wait for the delete
	e.mu.Unlock()
}

// runReassert runs an active entry's add again after a reboot wiped it.
func (e *Engine) runReassert(ctx context.Context, entry Entry) {
	params, err := e.params(entry)
	if err != nil {
		return
	}
	inv := Invocation{Command: *entry.Command, Op: OpAdd, Message: BuildMessage(e.node, OpAdd, params),
		Fields: entry.Fields, Target: entry.Fields.Target()}
	err = e.runner.Run(ctx, inv, func([]string) (Decision, error) {
		return Decision{Verdict: Continue, Expires: entry.Expires}, nil
	})
	e.logRun(inv, err)
}

func (e *Engine) logRun(inv Invocation, err error) {
	if err == nil {
		return
	}
	level := slog.LevelWarn
	if errors.Is(err, ErrNotStarted) {
		level = slog.LevelError
	}
	e.log.Log(context.Background(), level, "command failed", "command", inv.Command.Name,
		"executable", inv.Command.Executable, "op", inv.Op, "err", err)
}

func (e *Engine) nextSeq() uint64 {
	e.seq++
	return e.seq
}
