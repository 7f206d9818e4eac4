package engine

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// A group is the alerts of one store commit. Jobs whose command has a
// batch form (Grouper) are decided right there, under one lock, and written
// in that one commit with the alerts' positions; their adds are then applied
// with one Group.Apply per command. Every other job is written as a Job and
// dispatched to its lane, to be decided when its command sends check_keys.
//
// A key is decided in the group only when its table entry is absent, or
// durable and not being deleted, or decided in a group not yet written
// (groups are written in order): a key with a one-job write in flight or a
// delete running goes the one-job way, where its lane and record keep the
// order.

// groupRun is the batch of one command in one group.
type groupRun struct {
	group  Group
	cmd    Command
	kernel bool // applied before the commit (Group.KernelTimeout)
	adds   []GroupAdd
	refs   []EntryRef // the entry generation of each add
	jobs   []uint64   // the job of each add
	marks  []EntryRef // continues of a command applied after the commit
	logs   func()     // writes the log lines of the adds applied (see Group.Apply)
	failed bool       // its Apply failed
}

// grouping is the part of a group decided in the commit.
type grouping struct {
	runs  []*groupRun
	byCmd map[string]*groupRun // by commandKey; nil: the command runs one job at a time
	undo  []undo               // in decision order
}

// undo is what a decision replaced: prev is nil when the key was absent.
type undo struct {
	ref  EntryRef
	prev *tableEntry
}

// groupJob is a job whose command has a batch form, with its keys.
type groupJob struct {
	job  Job
	run  *groupRun
	keys []string
}

// commandKey tells commands apart for batching: same executable, same
// extra_args.
func commandKey(c *Command) string {
	if len(c.ExtraArgs) == 0 {
		return c.Executable
	}
	return c.Executable + "\x00" + strings.Join(c.ExtraArgs, "\x00")
}

// split sorts a group's jobs into those with a batch form (with their keys)
// and the rest. It calls into the runner (which may look at
// active-response/bin), so it runs without the engine's lock.
func (e *Engine) split(items []commitItem) (grouped []groupJob, single []Job, g *grouping) {
	gr, _ := e.runner.(Grouper)
	g = &grouping{byCmd: map[string]*groupRun{}}
	n := 0
	for _, it := range items {
		n += len(it.jobs)
	}
	if gr != nil {
		grouped = make([]groupJob, 0, n)
	}
	for _, it := range items {
		for _, j := range it.jobs {
			run := g.run(gr, j.Command)
			if run == nil || j.Timeout <= 0 {
				single = append(single, j)
				continue
			}
			keys, err := run.group.Keys(j.Fields)
			if err != nil {
				single = append(single, j) // the command run alone says what is wrong
				continue
			}
			grouped = append(grouped, groupJob{job: j, run: run, keys: keys})
		}
	}
	return grouped, single, g
}

// run returns the batch of command c in this group, nil when c has no batch form.
func (g *grouping) run(gr Grouper, c *Command) *groupRun {
	if gr == nil || c.Protocol == ProtocolLegacy {
		return nil
	}
	k := commandKey(c)
	run, seen := g.byCmd[k]
	if !seen {
		if grp := gr.Group(*c); grp != nil {
			run = &groupRun{group: grp, cmd: *c, kernel: grp.KernelTimeout()}
			g.runs = append(g.runs, run)
		}
		g.byCmd[k] = run
	}
	return run
}

// decideGroup takes the decisions of grouped jobs into c. A job whose key
// cannot be decided here is returned for the one-job way.
func (e *Engine) decideGroup(c *Change, g *grouping, grouped []groupJob) (single []Job) {
	if len(grouped) == 0 {
		return nil
	}
	g.undo = make([]undo, 0, len(grouped))
	c.Put = make([]Entry, 0, len(grouped))
	c.Offences = make(map[string]int, len(grouped))
	for _, run := range g.runs {
		run.adds = slices.Grow(run.adds, len(grouped))
		run.refs = slices.Grow(run.refs, len(grouped))
	}
	putAt := make(map[string]int, len(grouped)) // a key decided again in the group: one Put, the last
	head := MessageHead(e.node, OpAdd)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, gj := range grouped {
		key := TableKey(gj.job.Command.Executable, gj.keys)
		cur := e.table[key]
		if cur != nil && (cur.deleting || cur.pending && !cur.inGroup) {
			single = append(single, gj.job)
			continue
		}
		next, d := e.decideLocked(key, cur, gj.job)
		put := next
		if d.Verdict == Continue {
			next.Job, put.Job = 0, 0
			put.Params = gj.job.Params
		}
		ref := EntryRef{Key: key, Seq: next.Seq}
		g.undo = append(g.undo, undo{ref: ref, prev: cur})
		e.table[key] = &tableEntry{Entry: &next, pending: true, inGroup: true}
		if i, ok := putAt[key]; ok {
			if put.Params == nil {
				put.Params = c.Put[i].Params // the first add's alert, for the delete
			}
			c.Put[i] = put
		} else {
			putAt[key] = len(c.Put)
			c.Put = append(c.Put, put)
		}
		c.Offences[key] = next.Offences
		run := gj.run
		if d.Verdict == Continue && !run.kernel {
			c.Mark = append(c.Mark, ref)
			run.marks = append(run.marks, ref)
		}
		run.adds = append(run.adds, GroupAdd{
			Head: head, Params: gj.job.Params, Keys: gj.keys, Fields: gj.job.Fields, Decision: d,
		})
		run.refs = append(run.refs, ref)
		run.jobs = append(run.jobs, gj.job.ID)
		e.histDecided(&gj.job, key, d, true)
	}
	return single
}

// applyRuns applies the runs of g applied before (kernel) or after the commit.
// It returns the marks of what was applied.
func (e *Engine) applyRuns(g *grouping, kernel bool) (applied []EntryRef) {
	for _, run := range g.runs {
		if run.kernel != kernel || len(run.adds) == 0 {
			continue
		}
		start := time.Now()
		logs, err := run.group.Apply(e.ctx, run.adds)
		run.logs = logs
		e.obs.ranGroup(run, start, err)
		if err != nil {
			// The entries stay (their reverts run); a mark stays too, so the
			// next start applies them again (see kernelMarks for runs
			// applied before the commit).
			run.failed = true
			e.log.Error("group apply failed", "adds", len(run.adds), "err", err)
			continue
		}
		applied = append(applied, run.marks...)
	}
	return applied
}

// kernelMarks returns the continues of g's runs applied before the commit
// whose Apply failed: marked in that commit, the entries are applied again
// at the next start, as those of a run applied after the commit are when
// its Apply fails. Without it, such an entry would be active with nothing
// in the kernel and nothing to put it there.
func (g *grouping) kernelMarks() []EntryRef {
	var marks []EntryRef
	for _, run := range g.runs {
		if !run.kernel || !run.failed {
			continue
		}
		for i, ref := range run.refs {
			if run.adds[i].Decision.Verdict == Continue {
				marks = append(marks, ref)
			}
		}
	}
	return marks
}

// writeLogs starts writing the log lines of what g applied, in order.
func (g *grouping) writeLogs() {
	for _, run := range g.runs {
		if run.logs != nil {
			run.logs()
		}
	}
}

// settleGroup makes the entries of g active once written and applied:
// their timers start and decisions waiting on them go ahead.
func (e *Engine) settleGroup(g *grouping) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.settled.Broadcast()
	debug := e.log.Enabled(context.Background(), slog.LevelDebug)
	due := make([]timerItem, 0, len(g.undo))
	decided := 0
	for _, run := range g.runs {
		for i, ref := range run.refs {
			t := e.table[ref.Key]
			if t == nil || t.Seq != ref.Seq {
				continue // decided again later in the group
			}
			t.pending, t.inGroup = false, false
			due = append(due, timerItem{at: t.Expires, ref: ref})
			if debug {
				e.log.Debug("active response", "key", ref.Key, "verdict", run.adds[i].Decision.Verdict,
					"offence", t.Offences, "expires", t.Expires.Format(time.RFC3339))
			}
		}
		decided += len(run.adds)
	}
	e.timers.scheduleItems(due)
	if decided > 0 {
		e.log.Info("active responses decided in group", "adds", decided, "entries", len(due))
	}
}

// rollbackGroup undoes the decisions of a group that was never written
// (the daemon is stopping): latest first, so each key gets back what it had.
func (e *Engine) rollbackGroup(g *grouping) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.settled.Broadcast()
	for i := len(g.undo) - 1; i >= 0; i-- {
		e.rollbackLocked(g.undo[i].ref, g.undo[i].prev)
	}
}
