package engine

import (
	"context"
	"time"
)

// Repeated offenders: each table key counts its offences (the adds that
// found it inactive or active alike), and the count picks the timeout from
// <repeated_offenders>. A count is forgotten once its key has been inactive
// (out of the table, and no offence) for offenceMemory, so that the table of counts, in memory and in the
// store, stays bounded by recent attackers instead of growing with every
// address ever seen. (Wazuh's execd keeps its counts in memory until it
// restarts.) A daemon that starts does not know when a stored count last
// grew, and counts it from its start: a count outlives its key's last
// offence by at most offenceMemory plus the time the daemon was down.
const (
	offenceMemory     = 7 * 24 * time.Hour
	offenceSweepEvery = time.Hour
	offenceSweepBatch = 4096 // counts forgotten per store commit
)

// offence is a key's count and when it last grew, in seconds since 1970:
// eight bytes a key, as the count alone took.
type offence struct {
	n    int32
	last uint32
}

// offencesFrom is the stored counts, as grown at now.
func offencesFrom(stored map[string]int, now time.Time) map[string]offence {
	m := make(map[string]offence, len(stored))
	for k, n := range stored {
		m[k] = offence{n: int32(n), last: unixSeconds(now)}
	}
	return m
}

func unixSeconds(t time.Time) uint32 { return uint32(max(t.Unix(), 0)) }

// offend counts an offence of key at now and returns the count. e.mu is held.
func (e *Engine) offend(key string, now time.Time) int {
	o := e.offences[key]
	o.n++
	o.last = unixSeconds(now)
	e.offences[key] = o
	return int(o.n)
}

// leftTable starts key's week of inactivity now that its entry is gone: a
// block longer than the week (repeated offenders escalate that far) keeps
// its count for a week after it ends, not after its last offence. e.mu is
// held.
func (e *Engine) leftTable(key string) {
	if o, ok := e.offences[key]; ok {
		o.last = unixSeconds(e.now())
		e.offences[key] = o
	}
}

// offenceLoop forgets, every offenceSweepEvery, the counts of keys that
// have not been in the table for offenceMemory, and moves the table out of
// the entries loaded at start once few of them are left.
func (e *Engine) offenceLoop(ctx context.Context) {
	tick := time.NewTicker(offenceSweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			e.forgetOffences()
			e.compactLoaded()
		}
	}
}

// forgetOffences forgets old counts in batches, each written to the store
// under e.mu so that no decision's count can interleave with it.
func (e *Engine) forgetOffences() {
	for {
		e.mu.Lock()
		cutoff := unixSeconds(e.now().Add(-offenceMemory))
		c := Change{Offences: make(map[string]int)}
		for k, o := range e.offences {
			if o.last < cutoff && e.table[k] == nil {
				c.Offences[k] = 0
				if len(c.Offences) == offenceSweepBatch {
					break
				}
			}
		}
		if len(c.Offences) == 0 {
			e.mu.Unlock()
			return
		}
		err := e.store.Apply(c)
		if err == nil {
			for k := range c.Offences {
				delete(e.offences, k)
			}
		}
		e.mu.Unlock()
		if err != nil {
			e.log.Error("forget old offence counts", "err", err)
			return
		}
		e.log.Info("forgot offence counts of keys inactive for a week", "keys", len(c.Offences))
		if len(c.Offences) < offenceSweepBatch {
			return
		}
	}
}

// compactLoaded moves the table's last entries out of the array loaded at
// start once fewer than a quarter of them are left: one entry pointing into
// it keeps all of it in memory (some 35 MB after a reboot with 100,000
// blocks), long after most have expired. Entries being decided, deleted or
// repaired are left for the next pass; the code busy with them looks them
// up again under e.mu, so it never holds one that moved.
func (e *Engine) compactLoaded() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.loadedN == 0 {
		return
	}
	left := 0
	for _, t := range e.table {
		if t.loaded {
			left++
		}
	}
	if left == 0 {
		e.loadedN = 0 // all gone: no more passes
		return
	}
	if left > e.loadedN/4 {
		return
	}
	busy := 0
	for key, t := range e.table {
		if !t.loaded {
			continue
		}
		if t.pending || t.inGroup || t.deleting || t.repairing {
			busy++
			continue
		}
		en := *t.Entry
		e.table[key] = &tableEntry{Entry: &en}
	}
	e.log.Info("table moved out of the entries loaded at start", "entries", left-busy, "loaded", e.loadedN, "busy", busy)
}
