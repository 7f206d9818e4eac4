package engine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Observer is told what the engine does, for metrics (Options.Observer). Its
// methods are called from the engine's goroutines, some on the path of every
// alert: they must be quick, safe for concurrent use, and never block.
type Observer interface {
	// Skipped is called for each response r that an alert triggered but
	// that did not run, with the reason (one of the Skip constants).
	Skipped(r *Response, reason string)
	// Ran is called for each add or delete of command c that was decided
	// or ran, with what came of it.
	Ran(c *Command, op Op, o Outcome)
	// Took is called once per run of command c with how long it took; the
	// adds of a built-in applied in one batch are one run.
	Took(c *Command, op Op, d time.Duration)
	// Acted is called when an add of command c has taken effect (its
	// command ran after continue, or without asking; its batch was
	// applied), latency after its alert was handled. Adds resumed after a
	// restart are not timed.
	Acted(c *Command, latency time.Duration)
}

// Outcome is what came of one add or delete.
type Outcome string

const (
	OutcomeContinue = Outcome("continue")  // an add told continue (check_keys, or a legacy run keyed by the engine)
	OutcomeAbort    = Outcome("abort")     // an add told abort: its key was active
	OutcomeDone     = Outcome("done")      // a delete, or an add that never asked, ran to its end
	OutcomeFailed   = Outcome("failed")    // the command failed or could not start
	OutcomeTimedOut = Outcome("timed_out") // the command was killed at its time limit
)

// SkipReasons lists every skip reason, in the order status lists them.
var SkipReasons = [...]string{SkipWhiteList, SkipLocation, SkipSrcIP, SkipUser, SkipAlertID, SkipOwnAddress}

// observing is the engine's side of its Observer: it keeps when the
// alerts of pending jobs were handled, to time them once they acted.
type observing struct {
	Observer // nil: nothing is observed or kept

	mu    sync.Mutex
	since map[uint64]time.Time // by job id
}

func (o *observing) skipped(r *Response, reason string) {
	if o.Observer != nil {
		o.Skipped(r, reason)
	}
}

// handled notes when the alert of jobs was handled.
func (o *observing) handled(jobs []Job) {
	if o.Observer == nil || len(jobs) == 0 {
		return
	}
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since == nil {
		o.since = make(map[uint64]time.Time)
	}
	for _, j := range jobs {
		o.since[j.ID] = now
	}
}

// settled forgets job id and, when it acted, reports its latency.
func (o *observing) settled(c *Command, id uint64, acted bool) {
	o.mu.Lock()
	at, ok := o.since[id]
	delete(o.since, id)
	o.mu.Unlock()
	if ok && acted {
		o.Acted(c, time.Since(at))
	}
}

// ranAdd reports the add of job: asked tells whether it was decided by the
// engine (check_keys, or legacy keying), aborted whether abort was the
// answer; start is zero when the command did not run. An add cut short by
// the daemon's stop is not reported: it runs again at the next start.
func (o *observing) ranAdd(ctx context.Context, job *Job, start time.Time, asked, aborted bool, err error) {
	if o.Observer == nil || err != nil && ctx.Err() != nil {
		return
	}
	out := outcome(ctx, err)
	switch {
	case out != "":
	case aborted:
		out = OutcomeAbort
	case asked:
		out = OutcomeContinue
	default:
		out = OutcomeDone
	}
	o.Ran(job.Command, OpAdd, out)
	if !start.IsZero() {
		o.Took(job.Command, OpAdd, time.Since(start))
	}
	o.settled(job.Command, job.ID, out == OutcomeContinue || out == OutcomeDone)
}

// ranDelete reports a delete of command c that started at start.
func (o *observing) ranDelete(ctx context.Context, c *Command, start time.Time, err error) {
	if o.Observer == nil || err != nil && ctx.Err() != nil {
		return
	}
	out := outcome(ctx, err)
	if out == "" {
		out = OutcomeDone
	}
	o.Ran(c, OpDelete, out)
	o.Took(c, OpDelete, time.Since(start))
}

// ranGroup reports the adds of run, applied in one batch from start.
func (o *observing) ranGroup(run *groupRun, start time.Time, err error) {
	if o.Observer == nil {
		return
	}
	o.Took(&run.cmd, OpAdd, time.Since(start))
	for i, a := range run.adds {
		out := OutcomeFailed
		switch {
		case err != nil:
		case a.Decision.Verdict == Abort:
			out = OutcomeAbort
		default:
			out = OutcomeContinue
		}
		o.Ran(&run.cmd, OpAdd, out)
		o.settled(&run.cmd, run.jobs[i], out == OutcomeContinue)
	}
}

// outcome classifies a run's error: "" when it succeeded. The runners
// kill a command at its time limit with a context deadline of their own.
func outcome(ctx context.Context, err error) Outcome {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return OutcomeTimedOut
	}
	return OutcomeFailed
}

// TableCounts is a view of the table of active responses at one time.
type TableCounts struct {
	Active  map[string]int // entries by command name
	Overdue int            // entries past their expiry whose delete has not finished
}

// Table counts the entries of the table of active responses at now. It
// holds the engine's lock for one pass over the table (about a millisecond
// for 100,000 entries).
func (e *Engine) Table(now time.Time) TableCounts {
	tc := TableCounts{Active: map[string]int{}}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range e.table {
		tc.Active[t.Command.Name]++
		if !t.Expires.After(now) {
			tc.Overdue++
		}
	}
	return tc
}
