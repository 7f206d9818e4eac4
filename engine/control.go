package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
)

// This file is the engine's side of the control socket: a snapshot of the
// table, unblock, explain and trigger. Each goes through the paths alerts and
// timers take (the table, the lanes, the delete path, matching); none has
// a copy of them.

// Control errors.
var (
	// ErrNotActive is an Unblock of a key that is not in the table (or is
	// already being reverted).
	ErrNotActive = errors.New("no active response with that key")
	// ErrUnknownCommand is a Trigger of a command the config does not define.
	ErrUnknownCommand = errors.New("no such command in ossec.conf")
	// ErrStillActive is an Unblock whose key was decided again by a new
	// alert while it was being lifted: the new decision stands.
	ErrStillActive = errors.New("a new alert kept it active")
	// ErrInvalidTarget is a Trigger whose address or user fails the checks
	// an alert's would (not an address, the host's own, bad characters).
	ErrInvalidTarget = errors.New("invalid target")
	// ErrWhiteListed is a Trigger, without Force, of an address on the
	// white list.
	ErrWhiteListed = errors.New("on the white list")
)

// ActiveEntry is one entry of the table as the control socket shows it.
type ActiveEntry struct {
	Entry        // without Params
	Pending bool // its decision is being written (or applied, for a group)
	// Deleting is true while its delete runs.
	Deleting bool
}

// Entries returns how many entries the table holds (pending ones too).
func (e *Engine) Entries() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.table)
}

// Active returns a snapshot of the table, sorted by key.
func (e *Engine) Active() []ActiveEntry { return e.ActiveWhere(nil) }

// ActiveWhere returns a snapshot of the entries keep accepts (every one
// when keep is nil), sorted by key. keep runs under the engine's lock: it
// must be quick and must not call the engine. Looking one address up in a
// table of 100,000 so copies one entry, not 24 MB.
func (e *Engine) ActiveWhere(keep func(*Entry) bool) []ActiveEntry {
	e.mu.Lock()
	n := len(e.table)
	if keep != nil {
		n = 0
	}
	out := make([]ActiveEntry, 0, n)
	for _, t := range e.table {
		if keep != nil && !keep(t.Entry) {
			continue
		}
		en := *t.Entry
		en.Params = nil
		out = append(out, ActiveEntry{Entry: en, Pending: t.pending, Deleting: t.deleting})
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Running is how many commands are running or queued to run now.
func (e *Engine) Running() int {
	d := e.disp
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, l := range d.lanes {
		n += len(l.tasks)
		if l.running {
			n++
		}
	}
	return n
}

// Unblock reverts the active entry key now: its delete runs in its lane
// (after whatever is queued there), through the same path as a timer's:
// claimed, run, and only then forgotten, so drift repair no longer sees
// it. ctx bounds the wait and the delete's run (give it the daemon's run
// context, not a client's). It waits for what the start re-applies (after
// a reboot) to be in place first, as timers do.
//
// The entry's new expiry (now) is durable before the delete is queued, so
// a daemon killed before the delete ran lifts the block as soon as it
// starts again, as it does any entry that expired while it was down. It
// returns ErrNotActive when key is not in the table, ErrStillActive when
// an alert for key was decided while it was being lifted (an abort that
// restarted its timer: the block stays, as the table says), the store's error
// when that write failed (nothing is changed then: the block stays until
// its own expiry), and an error when the delete did not complete (it is
// then retried as an expired entry's is).
func (e *Engine) Unblock(ctx context.Context, key string) (Entry, error) {
	select {
	case <-e.Reapplied():
	case <-ctx.Done():
		return Entry{}, ctx.Err()
	}
	entry, err := e.expireNow(key)
	if errors.Is(err, errLiftedMeanwhile) {
		return entry, nil // its own expiry lifted it while we waited
	}
	if err != nil {
		return Entry{}, err
	}
	ref := EntryRef{Key: entry.Key, Seq: entry.Seq}
	e.histUnblocking(ref, true)
	defer e.histUnblocking(ref, false)
	ran := make(chan struct{})
	if !e.disp.submit(ctx, entry.Lane, func(ctx context.Context) { defer close(ran); e.runDelete(ctx, entry) }) {
		return entry, errors.New("the engine is stopping; the next start lifts it")
	}
	select {
	case <-ran:
	case <-ctx.Done():
		return entry, ctx.Err()
	}
	e.mu.Lock()
	t := e.table[key]
	var now Entry
	if t != nil {
		now = *t.Entry
	}
	e.mu.Unlock()
	switch {
	case t == nil:
		return entry, nil
	case now.Seq == entry.Seq:
		return entry, fmt.Errorf("%s: the delete did not complete and will be retried (see the log)", key)
	}
	return entry, fmt.Errorf("%w: %s until %s", ErrStillActive, key, now.Expires.Format(time.RFC3339))
}

// expireNow makes the current generation of key due now, once any
// decision on it being written has settled, and durably: the entry is
// stored again with Expires = now (same generation, its Params kept), so
// that a crash before its delete has run cannot leave the block to its
// old expiry. While that write is in flight the entry is pending, as a
// decision's is: a new alert for the key waits for it (and then finds the
// key active, due now: an abort restarts its timer, as one would just
// before a timer's delete), timers and drift repair leave it alone, and
// no second Unblock writes it too.
//
// A key whose delete is already running (its timer fired) is waited for
// too: when that delete lifts it, expireNow returns the entry it lifted
// and errLiftedMeanwhile (ErrStillActive if an alert blocked the key again
// right after); when the delete could not run, the entry is due and goes
// on as any due entry.
func (e *Engine) expireNow(key string) (Entry, error) {
	e.mu.Lock()
	t := e.table[key]
	var lifting *Entry
	for t != nil && (t.pending || t.deleting) {
		if t.deleting {
			lifting = t.Entry
		}
		e.settled.Wait()
		t = e.table[key]
	}
	switch {
	case lifting != nil && t == nil:
		e.mu.Unlock()
		return *lifting, errLiftedMeanwhile
	case lifting != nil && t.Seq != lifting.Seq: // an alert blocked it again since
		e.mu.Unlock()
		return Entry{}, fmt.Errorf("%w: %s until %s", ErrStillActive, key, t.Expires.Format(time.RFC3339))
	case t == nil:
		e.mu.Unlock()
		return Entry{}, fmt.Errorf("%w: %q", ErrNotActive, key)
	}
	now := e.now()
	if !t.Expires.After(now) { // already due, and stored so
		en := *t.Entry
		e.mu.Unlock()
		return en, nil
	}
	prev := t.Entry
	due := *prev // a new Entry: the table's are never changed in place
	due.Expires = now
	due.Params = nil // keep the stored alert for the delete
	t.Entry, t.pending = &due, true
	e.mu.Unlock()

	err := e.store.Apply(Change{Put: []Entry{due}})

	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.settled.Broadcast()
	t.pending = false
	if err != nil {
		t.Entry = prev
		// Its timer may have fired while it was pending, and been dropped.
		e.timers.schedule(prev.Expires, EntryRef{Key: key, Seq: prev.Seq})
		e.log.Error("unblock not recorded", "key", key, "err", err)
		return Entry{}, fmt.Errorf("unblock %s not recorded, the block stays: %w", key, err)
	}
	return due, nil
}

// errLiftedMeanwhile is expireNow's: the key's own delete, already running,
// lifted it.
var errLiftedMeanwhile = errors.New("lifted by its own expiry meanwhile")

// Trigger is a response run by hand (Wazuh's agent_control -b): the
// command of that name from the running config, for an alert that carries
// only the target, through the same commit, table and protocol as an
// alert's.
type Trigger struct {
	Command string        // a <command> name
	SrcIP   string        // the address, or "" for a user-only command
	User    string        // data.dstuser, or ""
	Timeout time.Duration // 0: stateless; forced to 0 when the command does not allow one
	By      string        // who asked, kept in the alert's rule description
	Force   bool          // run it for an address on the white list too
}

var triggerSeq atomic.Uint64

// Trigger queues t's add. It returns once the add is handed to the commit
// loop; its entry is in Active once decided. The synthetic alert is
// checked as an alert's fields are (validate), so the host's own addresses
// and malformed targets are refused; an address on the white list is
// refused too unless t.Force (Wazuh's agent_control -b skips the white
// list; here a typo cannot block a host the white list protects).
func (e *Engine) Trigger(ctx context.Context, t Trigger) error {
	cfg := e.Config()
	var cmd *Command
	if cfg != nil {
		for _, c := range cfg.Commands {
			if c.Name == t.Command {
				cmd = c
				break
			}
		}
	}
	if cmd == nil {
		return fmt.Errorf("%w: %q", ErrUnknownCommand, t.Command)
	}
	raw := triggerAlert(t, e.now())
	a := new(Alert)
	if err := a.Decode(raw); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidTarget, err)
	}
	if len(a.SrcIP) == 0 && len(a.DstUser) == 0 {
		return fmt.Errorf("%w: an address or a user is needed", ErrInvalidTarget)
	}
	if reason := validate(a, e.host); reason != "" {
		return fmt.Errorf("%w: %s", ErrInvalidTarget, reason)
	}
	if m := e.matcher.Load(); !t.Force && len(a.SrcIP) > 0 && m != nil && m.whiteListed(a.SrcIP) {
		return fmt.Errorf("%s is %w (<global><white_list>): not run; --force runs it anyway", a.SrcIP, ErrWhiteListed)
	}
	timeout := t.Timeout
	if !cmd.TimeoutAllowed || timeout < 0 {
		timeout = 0
	}
	job := Job{Lane: laneOf(cmd, a), Command: cmd, Params: buildParams(cmd, raw), Fields: fields(a), Timeout: timeout}
	e.mu.Lock()
	e.jobSeq++
	job.ID = e.jobSeq
	e.mu.Unlock()
	select {
	case e.commits <- commitItem{jobs: []Job{job}}: // no position to move
		e.stats.Jobs.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// triggerAlert is the alert a Trigger's command gets: rule 0 at level 0
// (no alert of Wazuh's has them), an id from the clock, and the target.
func triggerAlert(t Trigger, now time.Time) []byte {
	type data struct {
		SrcIP   string `json:"srcip,omitempty"`
		DstUser string `json:"dstuser,omitempty"`
	}
	type rule struct {
		Level       int    `json:"level"`
		ID          string `json:"id"`
		Description string `json:"description"`
	}
	b, _ := json.Marshal(struct {
		Timestamp string `json:"timestamp"`
		Rule      rule   `json:"rule"`
		ID        string `json:"id"`
		Data      data   `json:"data"`
	}{
		now.UTC().Format("2006-01-02T15:04:05.000+0000"),
		rule{0, "0", "threatlockdown trigger" + by(t.By)},
		strconv.FormatInt(now.Unix(), 10) + "." + strconv.FormatUint(triggerSeq.Add(1), 10),
		data{t.SrcIP, t.User},
	})
	return b
}

func by(who string) string {
	if who == "" {
		return ""
	}
	return " by " + who
}
