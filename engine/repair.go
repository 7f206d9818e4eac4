package engine

import (
	"context"
	"time"
)

// Repairer is a Runner whose built-ins can tell which of their blocks are
// missing from the OS: flushed by an admin, a config-management tool or
// another firewall. The engine then puts back exactly what its table says,
// through Reasserter.
type Repairer interface {
	Reasserter
	// Missing returns those of entries (active, of any command) whose blocks
	// the runner owns and finds missing from the OS. The entries are the
	// table's own, shared: they must not be changed. Pointers, so that a
	// check of 100,000 blocks copies 800 KB, not 35 MB, every time.
	Missing(ctx context.Context, entries []*Entry) ([]*Entry, error)
	// Changes delivers, when the OS reports that another process changed
	// what the runner owns, who did it as the OS names it (may be ""). Nil
	// when the runner cannot watch: the periodic check still runs.
	Changes() <-chan string
}

// Drift repair timing: a check every repairEvery, and soon after the OS
// reports a change; a check that found drift is followed by the next no
// sooner than a backoff that doubles, up to repairMaxBackoff, while every
// check finds drift again (a tool that keeps flushing must not make us spin).
const (
	repairEvery       = 30 * time.Second
	repairDebounce    = 200 * time.Millisecond
	repairMinBackoff  = time.Second
	repairMaxBackoff  = time.Minute
	repairListExample = 5 // keys named in the log line
)

// repairLoop checks the runner's blocks against the table: once at start,
// then periodically and on the OS's reports, backed off while drift persists.
func (e *Engine) repairLoop(ctx context.Context) {
	r, ok := e.runner.(Repairer)
	if !ok {
		return
	}
	select { // what start re-applies is not drift
	case <-e.reapplied:
	case <-ctx.Done():
		return
	}
	changes := r.Changes()
	tick := time.NewTicker(repairEvery)
	defer tick.Stop()
	backoff := time.Duration(0)
	var notBefore time.Time // no check before this, while drift persists
	who := ""
	var prepared error
	for {
		if n := e.repair(ctx, r, who); n > 0 {
			backoff = min(max(2*backoff, repairMinBackoff), repairMaxBackoff)
		} else {
			backoff = 0
		}
		// After the check, which sets up what it looks at anyway: the
		// commands without blocks yet.
		prepared = e.prepareRunner(ctx, prepared)
		notBefore = time.Now().Add(backoff)
		who = ""
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case who = <-changes:
			if !e.debounce(ctx, changes, &who) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(notBefore)):
		}
	}
}

// prepareRunner has the runner set up what the built-ins of the configured
// responses need, ahead of their first block (see Preparer). An error is
// logged when it differs from last, the previous call's; the first block
// tries again anyway.
func (e *Engine) prepareRunner(ctx context.Context, last error) error {
	p, ok := e.runner.(Preparer)
	cfg := e.Config()
	if !ok || cfg == nil || cfg.Disabled {
		return nil
	}
	seen := make(map[*Command]bool, len(cfg.Responses))
	cmds := make([]Command, 0, len(cfg.Responses))
	for _, r := range cfg.Responses {
		if r.Disabled || r.Command == nil || seen[r.Command] {
			continue
		}
		seen[r.Command] = true
		cmds = append(cmds, *r.Command)
	}
	err := p.Prepare(ctx, cmds)
	if err != nil && (last == nil || err.Error() != last.Error()) {
		e.log.Warn("could not set up ahead of the first block; the first block tries again", "err", err)
	}
	return err
}

// debounce lets the rest of a flush's reports arrive before one look; it
// keeps the first non-empty name of who did it. It reports false when ctx
// ended.
func (e *Engine) debounce(ctx context.Context, changes <-chan string, who *string) bool {
	wait := time.NewTimer(repairDebounce)
	defer wait.Stop()
	for {
		select {
		case w := <-changes:
			if *who == "" {
				*who = w
			}
		case <-wait.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
}

// repair puts back the blocks of active entries that the runner finds
// missing, and returns how many. An entry being put back is marked so that
// its delete waits; one whose delete started meanwhile is left alone.
func (e *Engine) repair(ctx context.Context, r Repairer, who string) int {
	missing, err := r.Missing(ctx, e.activeEntries())
	if err != nil {
		e.log.Error("drift check failed", "err", err)
	}
	if len(missing) == 0 {
		return 0
	}
	claimed := e.claimRepairs(missing)
	if len(claimed) == 0 {
		return 0
	}
	defer e.releaseRepairs(claimed)
	rest, err := r.Reassert(ctx, claimed)
	if err != nil {
		e.log.Error("drift repair failed", "err", err)
	}
	for _, en := range rest { // not the runner's after all: nothing it can put back
		e.log.Warn("drift repair: not a built-in", "key", en.Key)
	}
	keys := make([]string, min(len(claimed), repairListExample))
	for i := range keys {
		keys[i] = claimed[i].Key
	}
	e.stats.Repaired.Add(uint64(len(claimed) - len(rest)))
	e.log.Warn("drift repaired: blocks missing from the OS put back", "blocks", len(claimed)-len(rest),
		"removed_by", who, "first", keys)
	return len(claimed)
}

// activeEntries is a snapshot of the entries whose blocks should be in
// place: written, not being deleted, not expired.
// The table's entries are never changed in place, so they are shared.
func (e *Engine) activeEntries() []*Entry {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	out := make([]*Entry, 0, len(e.table))
	for _, t := range e.table {
		if !t.pending && !t.deleting && t.Expires.After(now) {
			out = append(out, t.Entry)
		}
	}
	return out
}

// claimRepairs marks the entries still current (same generation, no delete
// started) as being repaired, and returns them.
func (e *Engine) claimRepairs(missing []*Entry) []Entry {
	e.mu.Lock()
	defer e.mu.Unlock()
	claimed := make([]Entry, 0, len(missing))
	for _, en := range missing {
		t := e.table[en.Key]
		if t == nil || t.Seq != en.Seq || t.pending || t.deleting || t.repairing {
			continue
		}
		t.repairing = true
		claimed = append(claimed, *t.Entry)
	}
	return claimed
}

func (e *Engine) releaseRepairs(claimed []Entry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, en := range claimed {
		if t := e.table[en.Key]; t != nil && t.Seq == en.Seq {
			t.repairing = false
		}
	}
}
