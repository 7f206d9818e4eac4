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

// tableEntry is an Entry plus its in-memory state.
type tableEntry struct {
	Entry
	pending  bool // its first write is not durable yet: treat as active
	deleting bool // its delete is running: a new add starts a new generation
}

// runAdd runs one matched alert's command and settles its job.
func (e *Engine) runAdd(ctx context.Context, job Job) {
	inv := Invocation{Command: job.Command, Op: OpAdd, Message: BuildMessage(e.node, OpAdd, job.Params), Fields: job.Fields}
	settled := false
	check := func(keys []string) (Decision, error) {
		d, err := e.decide(job, keys)
		settled = err == nil
		return d, err
	}
	var legacy EntryRef
	if job.Command.Protocol == ProtocolLegacy {
		// A legacy script cannot ask: the engine keys it on the address (or
		// user) itself, as wazuh-execd did before 4.2, and skips a repeat.
		d, ref, err := e.record(job, legacyKeys(job.Fields))
		if err != nil || d.Verdict == Abort {
			e.logRun(inv, err)
			return
		}
		settled, legacy, check = true, ref, nil
	}
	err := e.runner.Run(ctx, inv, check)
	e.logRun(inv, err)
	if legacy.Key != "" && errors.Is(err, ErrNotStarted) {
		e.forget(legacy) // recorded for a block that never happened
		return
	}
	if ctx.Err() != nil && !settled {
		return // stopped mid-run: the job stays pending and runs again at start
	}
	if !settled {
		if err := e.store.Apply(Change{DoneJobs: []uint64{job.ID}}); err != nil {
			e.log.Error("settle job", "job", job.ID, "err", err)
		}
	}
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

// decide answers check_keys for job: abort when the key is active (and
// restart its timer with the escalated timeout), continue otherwise, with the
// revert entry durable before the answer.
func (e *Engine) decide(job Job, keys []string) (Decision, error) {
	d, _, err := e.record(job, keys)
	return d, err
}

// record is decide, also naming the entry generation it wrote (none for a
// stateless job).
func (e *Engine) record(job Job, keys []string) (Decision, EntryRef, error) {
	key := TableKey(job.Command.Executable, keys)
	if job.Timeout <= 0 {
		err := e.store.Apply(Change{DoneJobs: []uint64{job.ID}})
		return Decision{Verdict: Continue}, EntryRef{}, err
	}
	now := e.now()
	e.mu.Lock()
	cur := e.table[key]
	active := cur != nil && !cur.deleting
	e.offences[key]++
	n := e.offences[key]
	next := Entry{
		Key: key, Seq: e.nextSeq(), Lane: job.Lane, Command: job.Command, Params: job.Params,
		Fields: job.Fields, Created: now, Offences: n,
	}
	next.Expires = now.Add(offenceTimeout(job.Timeout, job.Repeated, n))
	verdict := Continue
	if active {
		// The revert keeps the first add's command and alert; only the timer moves.
		verdict = Abort
		next.Lane, next.Command, next.Params, next.Fields, next.Created = cur.Lane, cur.Command, cur.Params, cur.Fields, cur.Created
	}
	prev := cur
	e.table[key] = &tableEntry{Entry: next, pending: true}
	e.mu.Unlock()

	err := e.store.Apply(Change{Put: []Entry{next}, Offences: map[string]int{key: n}, DoneJobs: []uint64{job.ID}})
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.offences[key]--
		if e.table[key] != nil && e.table[key].Seq == next.Seq {
			if prev != nil {
				e.table[key] = prev
				// Its timer may have fired meanwhile and been dropped as stale.
				e.timers.schedule(prev.Expires, EntryRef{Key: key, Seq: prev.Seq})
			} else {
				delete(e.table, key)
			}
		}
		return Decision{Verdict: Abort}, EntryRef{}, fmt.Errorf("record %s: %w", key, err)
	}
	if t := e.table[key]; t != nil && t.Seq == next.Seq {
		t.pending = false
	}
	e.timers.schedule(next.Expires, EntryRef{Key: key, Seq: next.Seq})
	e.log.Info("active response", "key", key, "verdict", verdict, "offence", n,
		"expires", next.Expires.Format(time.RFC3339))
	return Decision{Verdict: verdict, Expires: next.Expires}, EntryRef{Key: key, Seq: next.Seq}, nil
}

// expire is called by the timers for one entry generation. The delete goes
// to the entry's lane, behind any add of the same key already queued there;
// whether it still applies is decided when it starts.
func (e *Engine) expire(ref EntryRef) {
	e.mu.Lock()
	t := e.table[ref.Key]
	if t == nil || t.Seq != ref.Seq || t.deleting || t.pending || t.Expires.After(e.now()) {
		e.mu.Unlock()
		return // replaced, extended or already on its way out
	}
	entry := t.Entry
	e.mu.Unlock()
	e.disp.submit(e.ctx, entry.Lane, func(ctx context.Context) { e.runDelete(ctx, entry) })
}

// claimDelete marks entry as being deleted if it is still the current,
// expired generation: an add that ran before in its lane may have extended
// or replaced it.
func (e *Engine) claimDelete(entry Entry) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.table[entry.Key]
	if t == nil || t.Seq != entry.Seq || t.deleting || t.pending || t.Expires.After(e.now()) {
		return false
	}
	t.deleting = true
	return true
}

// runDelete reverts one entry and only then forgets it.
func (e *Engine) runDelete(ctx context.Context, entry Entry) {
	if !e.claimDelete(entry) {
		return
	}
	inv := Invocation{Command: entry.Command, Op: OpDelete, Message: BuildMessage(e.node, OpDelete, entry.Params), Fields: entry.Fields}
	err := e.runner.Run(ctx, inv, nil)
	e.logRun(inv, err)
	ref := EntryRef{Key: entry.Key, Seq: entry.Seq}
	if ctx.Err() != nil || errors.Is(err, ErrNotStarted) {
		e.mu.Lock()
		if t := e.table[entry.Key]; t != nil && t.Seq == entry.Seq {
			t.deleting = false
		}
		e.mu.Unlock()
		if ctx.Err() == nil {
			e.timers.schedule(e.now().Add(retryNotStarted), ref)
		}
		return
	}
	e.forget(ref)
	e.log.Info("reverted", "key", entry.Key)
}

// forget removes one entry generation from the store and the table.
func (e *Engine) forget(ref EntryRef) {
	if err := e.store.Apply(Change{Del: []EntryRef{ref}}); err != nil {
		e.log.Error("forget entry", "key", ref.Key, "err", err)
	}
	e.mu.Lock()
	if t := e.table[ref.Key]; t != nil && t.Seq == ref.Seq {
		delete(e.table, ref.Key)
	}
	e.mu.Unlock()
}

// runReassert runs an active entry's add again after a reboot wiped it.
func (e *Engine) runReassert(ctx context.Context, entry Entry) {
	inv := Invocation{Command: entry.Command, Op: OpAdd, Message: BuildMessage(e.node, OpAdd, entry.Params),
		Fields: entry.Fields}
	err := e.runner.Run(ctx, inv, func([]string) (Decision, error) {
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
