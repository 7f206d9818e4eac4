package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure an Engine.
type Options struct {
	Store   Store
	Runner  Runner
	Logger  *slog.Logger
	AgentID string // this host's agent id; default "000" (the all-in-one server)
	Node    string // origin name in messages (the host name)
	// Host knows the host's own addresses, which no command ever gets (see
	// HostAddrs); nil refuses the fixed classes only.
	Host    HostAddrs
	BootID  string // identifies this boot; a change re-applies active entries
	Workers int    // commands running at once; default 16
	// StopGrace is how long running commands may finish after Run's context
	// ends before they are killed; default 2 s.
	StopGrace time.Duration
	// FlushEvery is how often the read position of alerts that triggered
	// nothing is written; default 1 s. (Positions of alerts that triggered a
	// command are written with their jobs, before the command starts.)
	FlushEvery time.Duration
	Now        func() time.Time
	// Observer is told what the engine does, for metrics; nil for none.
	Observer Observer
}

// Engine is the daemon's core. Create it with New, hand it a configuration
// with SetConfig, run it with Run and feed it records with Handle.
type Engine struct {
	store   Store
	runner  Runner
	log     *slog.Logger
	agentID string
	node    string
	host    HostAddrs
	bootID  string
	grace   time.Duration
	flush   time.Duration
	now     func() time.Time

	matcher atomic.Pointer[matcher]
	alerts  sync.Pool
	commits chan commitItem
	bursts  chan struct{} // see Bursts
	disp    *dispatcher
	backlog backlog // adds queued for disp
	timers  *timers
	ctx     context.Context // the run context of dispatched work
	stats   Stats
	obs     observing
	replay  bool // a Replay's: nothing runs, so jobs carry no message
	hist    history

	mu sync.Mutex // guards the fields below
	// settled is signalled when pending table entries settle: a decision on
	// a key waits for the one before it (see record).
	settled   *sync.Cond
	table     map[string]*tableEntry
	offences  map[string]offence
	positions map[string]posMark // latest handled position per source
	// cut holds, per source, the order of its first record whose jobs were
	// dropped at stop: no position from there on is written, so the record
	// is read again at the next start.
	cut       map[string]uint64
	seq       uint64
	jobSeq    uint64
	recSeq    uint64
	state     *State        // loaded state, consumed by Run
	loadedN   int           // entries loaded at start, while the table may point into them
	reapplied chan struct{} // closed once what reconcile re-applies is in place
}

// posMark is a position with the order in which it was handled.
type posMark struct {
	Position
	order uint64
}

// New loads the stored state. It does not start anything.
func New(o Options) (*Engine, error) {
	if o.Store == nil || o.Runner == nil {
		return nil, errors.New("engine: store and runner are required")
	}
	e := &Engine{
		store: o.Store, runner: o.Runner, log: o.Logger, agentID: o.AgentID, node: o.Node, host: o.Host,
		bootID: o.BootID, grace: o.StopGrace, flush: o.FlushEvery, now: o.Now,
		commits: make(chan commitItem, handledRecords), bursts: make(chan struct{}, 1), timers: newTimers(), reapplied: make(chan struct{}),
		table: map[string]*tableEntry{}, positions: map[string]posMark{}, cut: map[string]uint64{},
	}
	e.settled = sync.NewCond(&e.mu)
	e.obs.Observer = o.Observer
	e.setDefaults(o.Workers)
	st, err := e.store.Load()
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	e.state = st
	e.offences = offencesFrom(st.Offences, e.now())
	st.Offences = nil
	for src, p := range st.Positions {
		e.positions[src] = posMark{Position: p}
	}
	// The table points into the loaded entries (the store loads them without
	// their Params): one allocation of flags for the whole table, and no
	// second copy of the entries.
	slab := make([]tableEntry, len(st.Entries))
	for i := range st.Entries {
		en := &st.Entries[i]
		slab[i] = tableEntry{Entry: en, loaded: true}
		e.table[en.Key] = &slab[i]
		e.seq = max(e.seq, en.Seq)
		e.jobSeq = max(e.jobSeq, en.Job) // job ids stay unique: an entry names the job that made it
	}
	for _, j := range st.Jobs {
		e.jobSeq = max(e.jobSeq, j.ID)
	}
	e.loadedN = len(st.Entries)
	e.matcher.Store(compile(nil))
	return e, nil
}

func (e *Engine) setDefaults(workers int) {
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.agentID == "" {
		e.agentID = "000"
	}
	if e.grace <= 0 {
		e.grace = 2 * time.Second
	}
	if e.flush <= 0 {
		e.flush = time.Second
	}
	if e.now == nil {
		e.now = time.Now
	}
	if workers <= 0 {
		workers = 16
	}
	e.disp = newDispatcher(workers)
	e.backlog.max = maxBacklog
	e.alerts.New = func() any { return new(Alert) }
}

// SetConfig swaps in a new configuration atomically. Alerts handled after it
// returns match against c; running commands and stored entries keep the
// command definitions they started with.
func (e *Engine) SetConfig(c *Config) { e.matcher.Store(compile(c)) }

// Config returns the configuration in use.
func (e *Engine) Config() *Config { return e.matcher.Load().cfg }

// Position returns where reading of source stopped last time (zero if never).
func (e *Engine) Position(source string) Position {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.positions[source].Position
}

// MarkPosition records where reading of a source starts when nothing is
// stored for it yet (a first start at the end of the file), so that the next
// start resumes there even if no alert arrives meanwhile. It is written with
// the next group of positions.
func (e *Engine) MarkPosition(p Position) {
	if p.Source == "" || p.FileID == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.positions[p.Source].FileID == "" {
		e.recSeq++
		e.positions[p.Source] = posMark{Position: p, order: e.recSeq}
	}
}

// Run reconciles the stored state (deletes what expired while the daemon was
// down, re-applies active entries after a reboot, re-runs unfinished jobs)
// and then runs timers and commands until ctx ends. Records fed through
// Handle are committed and dispatched while Run runs.
func (e *Engine) Run(ctx context.Context) error {
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	e.ctx = runCtx

	var wg, bg sync.WaitGroup
	if err := e.reconcile(runCtx, &bg); err != nil {
		return err
	}
	wg.Add(4)
	go func() { defer wg.Done(); e.timers.run(ctx, e.now, e.expire) }()
	go func() { defer wg.Done(); e.commitLoop(ctx) }()
	go func() { defer wg.Done(); e.repairLoop(ctx) }()
	go func() { defer wg.Done(); e.offenceLoop(ctx) }()
	<-ctx.Done()
	wg.Wait()

	// Let running commands finish for a moment, then kill what is left.
	stop := time.AfterFunc(e.grace, cancelRuns)
	defer stop.Stop()
	e.disp.close()
	cancelRuns()
	bg.Wait()
	return nil
}

// reconcile acts on the state loaded by New: expired entries get their
// delete, active ones their timer, and unfinished jobs run again. Entries
// that may not be applied (all after a reboot; those still marked from a
// group whose apply the crash cut short) are applied again first, in the
// background, and get their timers only then.
func (e *Engine) reconcile(ctx context.Context, bg *sync.WaitGroup) error {
	st := e.state
	e.state = nil
	if st == nil {
		return errors.New("engine: Run called twice")
	}
	rebooted := st.BootID != "" && e.bootID != "" && st.BootID != e.bootID
	// A mark names the generation whose continue it recorded; aborts since
	// then made newer generations of the same block, still unapplied.
	marked := make(map[string]uint64, len(st.Marked))
	for _, r := range st.Marked {
		marked[r.Key] = r.Seq
	}
	now := e.now()
	entries := st.Entries
	n := e.partition(entries, func(en *Entry) bool {
		seq, isMarked := marked[en.Key]
		return en.Expires.After(now) && (rebooted || isMarked && seq <= en.Seq)
	})
	active, rest := entries[:n:n], entries[n:]
	e.timers.scheduleEntries(rest)
	done := Change{Unmark: st.Marked}
	if e.bootID != "" && st.BootID != e.bootID {
		done.BootID = e.bootID
	}
	if len(active) > 0 || rebooted {
		bg.Add(1)
		go func() { defer bg.Done(); defer close(e.reapplied); e.reapply(ctx, active, done, rebooted) }()
	} else {
		close(e.reapplied)
	}
	if len(active) == 0 && !rebooted && !isEmpty(done) {
		if err := e.store.Apply(done); err != nil {
			return fmt.Errorf("record boot id: %w", err)
		}
	}
	for _, j := range st.Jobs {
		e.log.Info("resuming unfinished job", "job", j.ID, "command", j.Command.Name)
		e.dispatchAdd(j)
	}
	e.log.Info("state loaded", "entries", len(entries), "jobs", len(st.Jobs), "marked", len(st.Marked), "rebooted", rebooted)
	return nil
}

// Bursts receives a value after a commit of at least BurstEntries entries
// (a storm's), at most one waiting: the heap such a burst grew is the
// runtime's to keep or return, and the caller may return it once the
// bursts stop.
func (e *Engine) Bursts() <-chan struct{} { return e.bursts }

// BurstEntries is the size of a commit that Bursts reports.
const BurstEntries = 500

// Reapplied is closed once Run's start-up is done: what it had to apply
// again (after a reboot, or marked by a crash) is in place, or there was
// nothing to apply.
func (e *Engine) Reapplied() <-chan struct{} { return e.reapplied }

// partition moves the entries for which first holds to the front of
// entries, in place, and returns how many there are. The table points into
// entries (see New): each pointer follows its entry, under e.mu, since
// Handle may already run. Entries are not changed otherwise, so the
// slices made of them may be read without the lock afterwards.
func (e *Engine) partition(entries []Entry, first func(*Entry) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for i := range entries {
		if !first(&entries[i]) {
			continue
		}
		if i != n {
			ti, tn := e.table[entries[i].Key], e.table[entries[n].Key]
			entries[n], entries[i] = entries[i], entries[n]
			if ti != nil && ti.Entry == &entries[i] {
				ti.Entry = &entries[n]
			}
			if tn != nil && tn.Entry == &entries[n] {
				tn.Entry = &entries[i]
			}
		}
		n++
	}
	return n
}

// reapply applies again active entries that may be missing (a reboot wiped
// them, or a crash cut their group's apply short): in batches where the
// runner can, one run each in their lanes otherwise. Only then are their
// timers set and done written (the new boot id, the marks cleared), so a
// crash half-way re-applies everything again at the next start (every add
// is idempotent).
func (e *Engine) reapply(ctx context.Context, active []Entry, done Change, rebooted bool) {
	e.log.Info("re-applying active responses", "entries", len(active), "rebooted", rebooted)
	rest := active
	if r, ok := e.runner.(Reasserter); ok && len(active) > 0 {
		var err error
		if rest, err = r.Reassert(ctx, active); err != nil {
			e.log.Error("batch re-apply", "err", err)
		}
	}
	// finished closes when the last run ends. A count, not a WaitGroup and
	// a goroutine to wait on it: runs the dispatcher drops at stop never
	// end, and such a goroutine would wait for them for ever.
	finished := make(chan struct{})
	var left atomic.Int64
	left.Store(int64(len(rest)) + 1)
	ended := func() {
		if left.Add(-1) == 0 {
			close(finished)
		}
	}
	for _, en := range rest {
		if !e.disp.submit(ctx, en.Lane, func(ctx context.Context) { defer ended(); e.runReassert(ctx, en) }) {
			ended()
		}
	}
	ended()
	select {
	case <-finished:
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		// Stopping: runs were cut short or dropped (the batch too: it
		// returns when ctx ends). The boot id and the marks stay, and the
		// next start re-applies.
		return
	}
	e.timers.scheduleEntries(active)
	if err := e.store.Apply(done); err != nil {
		e.log.Error("record re-apply", "err", err)
		return
	}
	e.log.Info("re-applied", "entries", len(active), "rebooted", rebooted)
}
