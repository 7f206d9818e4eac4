package engine

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// The history says, per target, what became of each alert that triggered a
// response for it, and of each of its blocks: the record `explain` reads.
// The engine only produces it: events travel in Change.History with the
// next group commit (the decisions of a group in their own commit), and the
// store keeps them for a bounded window (see store's doc). Events of an
// add decided in a lane, of a skip and of a revert wait in memory until
// that commit, at most FlushEvery: a crash may lose that second of
// history, never a decision. Alerts that trigger nothing are not recorded,
// so that the everyday path of an alert writes nothing.

// HistoryEvent is one thing that happened to a target.
type HistoryEvent struct {
	// Target is the address (canonical: an IPv4-mapped address is its
	// IPv4 address) or, without one, the user. For a skip because the
	// address is not valid, it is the alert's text as given.
	Target  string
	Time    time.Time // the engine's clock when it happened
	Outcome string    // one of the History outcomes; escaped ones carry their Skip reason
	AlertID string
	RuleID  string
	Level   int
	Groups  string // the group string matching saw, "syslog,sshd,"
	Line    int    // of the <active-response> block in ossec.conf; 0 when unknown
	Command string // the <command> name
	Key     string // the table key, once decided (adds with a timeout, reverts)
	// Repeats is how many more events like this one (same target, outcome,
	// rule, level, groups, block, command and key) the same commit held,
	// merged into it: a storm from one address is a record per commit, not
	// per alert. The last of them was LastAlertID, at Last.
	Repeats     int
	LastAlertID string
	Last        time.Time
}

// Outcomes of a HistoryEvent.
const (
	HistoryApplied   = "applied"                // continue: the command acted (or ran stateless)
	HistoryAborted   = "aborted-already-active" // abort: the key was active, its timer restarted
	HistoryFailed    = "failed"                 // the command could not start or failed, and no entry was made
	HistoryEscaped   = "escaped:"               // + a Skip reason: triggered but not run
	HistoryReverted  = "reverted"               // the delete ran at the timeout (or at start, once overdue)
	HistoryUnblocked = "unblocked"              // the delete ran because unblock asked
)

// HistoryReader is a Store that keeps history: the CLI's explain reads it.
type HistoryReader interface {
	// History returns the events kept for target, oldest first.
	History(target string) ([]HistoryEvent, error)
	// HistoryGap returns the latest time events were dropped (see
	// Change.HistoryGap), zero when none were within the window kept:
	// the history may lack events of any target from then.
	HistoryGap() (time.Time, error)
}

// MaxHistoryTarget bounds a history target: longer ones (only a bad
// address's text can be) are not recorded.
const MaxHistoryTarget = 255

// ValidHistoryTarget reports whether s can key history: not empty, at most
// MaxHistoryTarget bytes, no NUL (the store ends a target's prefix with
// one). The engine records no other; the stores refuse them.
func ValidHistoryTarget(s string) bool {
	return s != "" && len(s) <= MaxHistoryTarget && !strings.Contains(s, "\x00")
}

// maxPendingHistory bounds the events waiting for a commit while the store
// fails; newer ones are dropped (and counted) past it.
const maxPendingHistory = 1 << 16

// history is the engine's side of the history: events waiting for the next
// commit, and the alert of each job until it is decided.
type history struct {
	mu sync.Mutex
	// pending are the events waiting, in chunks of historyChunk: a storm
	// of alerts that trigger a response but do not run (another agent's, a
	// white-listed address) pushes tens of thousands a second, and one
	// growing slice copied them all again at each growth, a long copy the
	// collector had to wait for (37 % of the CPU of bench/'s detection
	// run, which skips every alert).
	pending    [][]HistoryEvent
	npending   int
	strs       map[string]string // see shared
	dropped    uint64
	gap        time.Time            // the latest dropped event's time, not yet taken
	jobs       map[uint64]*jobAlert // by job id, from Handle to the end of its add
	unblocking map[EntryRef]bool    // deletes Unblock asked for
}

// jobAlert is what history needs of a job's alert and response.
type jobAlert struct {
	alertID, ruleID, groups string
	level, line             int
	decided                 bool
}

func (h *history) push(ev HistoryEvent) {
	if !ValidHistoryTarget(ev.Target) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.npending >= maxPendingHistory {
		h.dropped++
		if ev.Time.After(h.gap) {
			h.gap = ev.Time
		}
		return
	}
	if n := len(h.pending); n == 0 || len(h.pending[n-1]) == historyChunk {
		h.pending = append(h.pending, make([]HistoryEvent, 0, historyChunk))
	}
	last := &h.pending[len(h.pending)-1]
	*last = append(*last, ev)
	h.npending++
}

// shared returns b as a string, the same string each time while b stays
// among the last few values asked for: alerts of one storm share their rule
// and groups, and each event (and the store's record of it) needs them.
// h.mu is held.
func (h *history) shared(b []byte) string {
	if s, ok := h.strs[string(b)]; ok { // no allocation for the lookup
		return s
	}
	if len(h.strs) >= maxSharedStrings {
		clear(h.strs)
	}
	if h.strs == nil {
		h.strs = make(map[string]string)
	}
	s := string(b)
	h.strs[s] = s
	return s
}

// maxSharedStrings bounds history.shared's strings.
const maxSharedStrings = 256

// historyChunk is how many pending events one chunk holds.
const historyChunk = 512

// take returns the events waiting, for the Change being prepared, with
// repeats merged (see HistoryEvent.Repeats), and the time of the latest
// event dropped since the last take (zero if none was).
func (h *history) take() ([]HistoryEvent, time.Time) {
	h.mu.Lock()
	chunks, gap := h.pending, h.gap
	h.pending, h.npending, h.gap = nil, 0, time.Time{}
	h.mu.Unlock()
	if len(chunks) == 1 {
		return mergeRepeats(chunks[0]), gap
	}
	return mergeRepeats(slices.Concat(chunks...)), gap
}

// HistoryAlike reports whether a and b are the same thing happening again
// to the same target: same outcome, rule, level, groups, block, command
// and key. Such events are one record with Repeats.
func HistoryAlike(a, b HistoryEvent) bool {
	return historyLike(a) == historyLike(b)
}

type like struct {
	target, outcome, rule, groups, command, key string
	level, line                                 int
}

func historyLike(ev HistoryEvent) like {
	return like{ev.Target, ev.Outcome, ev.RuleID, ev.Groups, ev.Command, ev.Key, ev.Level, ev.Line}
}

// mergeRepeats merges each event into the first one like it, in place.
func mergeRepeats(evs []HistoryEvent) []HistoryEvent {
	if len(evs) < 2 {
		return evs
	}
	first := make(map[like]int, len(evs))
	out := evs[:0]
	for _, ev := range evs {
		k := historyLike(ev)
		if i, ok := first[k]; ok {
			out[i].Repeats += 1 + ev.Repeats
			out[i].LastAlertID, out[i].Last = ev.AlertID, ev.Time
			if ev.Repeats > 0 {
				out[i].LastAlertID, out[i].Last = ev.LastAlertID, ev.Last
			}
			continue
		}
		first[k] = len(out)
		out = append(out, ev)
	}
	return out
}

// HistoryDropped is how many history events were dropped because the
// store could not take them fast enough.
func (e *Engine) HistoryDropped() uint64 {
	e.hist.mu.Lock()
	defer e.hist.mu.Unlock()
	return e.hist.dropped
}

// histMatched notes the alert and response of each job Handle made (by
// holds the response of each job), for the events of their decisions.
func (e *Engine) histMatched(a *Alert, jobs []Job, by []*Response) {
	if e.replay || len(jobs) == 0 {
		return
	}
	e.hist.mu.Lock()
	defer e.hist.mu.Unlock()
	alertID, ruleID, groups := string(a.ID), e.hist.shared(a.RuleID), e.hist.shared(a.Groups)
	if e.hist.jobs == nil {
		e.hist.jobs = map[uint64]*jobAlert{}
	}
	for i, j := range jobs {
		ja := &jobAlert{alertID: alertID, ruleID: ruleID, groups: groups, level: a.Level}
		if i < len(by) {
			ja.line = by[i].Line
		}
		e.hist.jobs[j.ID] = ja
	}
}

// histEscaped records a response r that alert a triggered but that did
// not run, and why.
func (e *Engine) histEscaped(a *Alert, r *Response, reason string) {
	if e.replay {
		return
	}
	e.hist.mu.Lock()
	ruleID, groups := e.hist.shared(a.RuleID), e.hist.shared(a.Groups)
	e.hist.mu.Unlock()
	e.hist.push(HistoryEvent{
		Target: alertTarget(a), Time: e.now(), Outcome: HistoryEscaped + reason,
		AlertID: string(a.ID), RuleID: ruleID, Level: a.Level, Groups: groups,
		Line: r.Line, Command: r.Command.Name,
	})
}

// histDecided records the decision d on key for job. last is true when
// nothing more of the job follows (a decision in a group commit), so its
// alert is forgotten.
func (e *Engine) histDecided(job *Job, key string, d Decision, last bool) {
	if e.replay {
		return
	}
	out := HistoryApplied
	if d.Verdict == Abort {
		out = HistoryAborted
	}
	e.hist.push(e.jobEvent(job, key, out, last))
}

// histRan records the end of job's add when nothing was decided for it (a
// stateless run, or a command that failed before it asked), or when it
// failed after its decision; then forgets the job's alert. A run cut short
// by the daemon's stop records nothing: it runs again at the next start.
func (e *Engine) histRan(job *Job, stopped bool, err error) {
	if e.replay {
		return
	}
	e.hist.mu.Lock()
	ja := e.hist.jobs[job.ID]
	decided := ja != nil && ja.decided
	e.hist.mu.Unlock()
	switch {
	case stopped:
	case err != nil:
		e.hist.push(e.jobEvent(job, "", HistoryFailed, false))
	case !decided:
		e.hist.push(e.jobEvent(job, "", HistoryApplied, false))
	}
	e.histForget(job.ID)
}

// histForget drops the alert kept for job id (runAdd defers it, so that
// every way out of an add forgets it).
func (e *Engine) histForget(id uint64) {
	e.hist.mu.Lock()
	delete(e.hist.jobs, id)
	e.hist.mu.Unlock()
}

// jobEvent is the event of job with outcome out, with its alert as Handle
// saw it when it is known (not for a trigger, nor a job resumed after a
// restart: those have the fields the job keeps).
func (e *Engine) jobEvent(job *Job, key, out string, last bool) HistoryEvent {
	ev := HistoryEvent{
		Target: job.Fields.Target().Key(), Time: e.now(), Outcome: out,
		AlertID: dashless(job.Fields.AlertID), RuleID: dashless(job.Fields.RuleID), Command: job.Command.Name, Key: key,
	}
	e.hist.mu.Lock()
	defer e.hist.mu.Unlock()
	if ja := e.hist.jobs[job.ID]; ja != nil {
		ev.AlertID, ev.RuleID, ev.Level, ev.Groups, ev.Line = ja.alertID, ja.ruleID, ja.level, ja.groups, ja.line
		ja.decided = ja.decided || key != ""
		if last {
			delete(e.hist.jobs, job.ID)
		}
	}
	return ev
}

// histReverted records the delete of entry, which ran: an unblock when
// Unblock asked for it.
func (e *Engine) histReverted(entry *Entry) {
	if e.replay {
		return
	}
	ref := EntryRef{Key: entry.Key, Seq: entry.Seq}
	out := HistoryReverted
	e.hist.mu.Lock()
	if e.hist.unblocking[ref] {
		out = HistoryUnblocked
		delete(e.hist.unblocking, ref)
	}
	e.hist.mu.Unlock()
	e.hist.push(HistoryEvent{
		Target: entry.Fields.Target().Key(), Time: e.now(), Outcome: out,
		AlertID: dashless(entry.Fields.AlertID), RuleID: dashless(entry.Fields.RuleID),
		Command: entry.Command.Name, Key: entry.Key,
	})
}

// histUnblocking marks (on) or unmarks the delete of ref as asked for by
// Unblock.
func (e *Engine) histUnblocking(ref EntryRef, on bool) {
	e.hist.mu.Lock()
	defer e.hist.mu.Unlock()
	if !on {
		delete(e.hist.unblocking, ref)
		return
	}
	if e.hist.unblocking == nil {
		e.hist.unblocking = map[EntryRef]bool{}
	}
	e.hist.unblocking[ref] = true
}

// alertTarget is the target of a's events: its address in canonical form,
// its address text when that is not an address, else its user.
func alertTarget(a *Alert) string {
	if len(a.SrcIP) > 0 {
		s := string(a.SrcIP)
		if addr, err := netip.ParseAddr(strings.TrimPrefix(s, "::ffff:")); err == nil && addr.Zone() == "" {
			return addr.Unmap().String()
		}
		return s
	}
	return string(a.DstUser)
}

// dashless is a Fields value without the legacy protocol's "-" for none.
func dashless(s string) string {
	if s == "-" {
		return ""
	}
	return s
}
