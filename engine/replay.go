package engine

import (
	"time"
)

// Replay decides alerts as the daemon would, on a simulated clock, and runs
// nothing: the what-if replay of old alerts through a configuration. It
// drives the daemon's own code: decoding (alerts.log blocks converted),
// matching, the white list, location and validation, the table key, the
// decision (abort while a key is active, offences counted per key,
// repeated_offenders escalation) and the revert timers' rule for when an
// entry expires. Only two things differ: the clock is the alerts' own time
// (see RecordTime), and since nothing runs to send check_keys, the keys of
// a command come from a KeysFunc.
//
// Caveats: a Replay starts from an empty table and no offence counts, not
// from the daemon's store; a revert takes no time (the daemon's runs in the
// entry's lane, a moment after its expiry); alerts are decided in the order
// given, at their own time or, when it is earlier than the clock, at the
// clock's. A Replay is used by one goroutine.
type Replay struct {
	e            *Engine
	keys         KeysFunc
	since, until time.Time

	a       Alert
	by      []*Response
	clock   time.Time
	timers  *timers
	nextDue time.Time // no timer is due before
	rep     ReplayReport
	tally   map[*Response]*tally
	owner   map[string]*tally // by table key: the response whose continue made the entry
}

// KeysFunc returns the keys command c would send in check_keys for an
// alert with fields f, as it would run in the daemon. ask is false for a
// command that sends none (a stateless run, whatever its timeout). An error
// is a run that would fail before check_keys, for that reason.
type KeysFunc func(c *Command, f Fields) (keys []string, ask bool, err error)

// StockKeys keys a command as Wazuh's stock scripts do: on the alert's
// address, else its user; a script with neither gives up before check_keys.
// It is also how the engine keys legacy-protocol runs.
func StockKeys(_ *Command, f Fields) ([]string, bool, error) {
	keys := legacyKeys(f)
	return keys, keys != nil, nil
}

// ReplayOptions configure a Replay.
type ReplayOptions struct {
	AgentID string    // this host's agent id; default "000"
	Host    HostAddrs // the host's own addresses; nil refuses the fixed classes only
	Keys    KeysFunc  // default StockKeys
	// Since and Until bound the alerts decided (Until excluded); zero is
	// unbounded. Alerts outside are counted and skipped.
	Since, Until time.Time
}

// NewReplay returns a Replay of alerts through cfg.
func NewReplay(cfg *Config, o ReplayOptions) *Replay {
	r := &Replay{
		keys: o.Keys, since: o.Since, until: o.Until, timers: newTimers(),
		tally: map[*Response]*tally{}, owner: map[string]*tally{},
	}
	if r.keys == nil {
		r.keys = StockKeys
	}
	e := &Engine{
		agentID: o.AgentID, host: o.Host, now: func() time.Time { return r.clock },
		table: map[string]*tableEntry{}, offences: map[string]offence{},
	}
	e.setDefaults(1)
	e.replay = true
	e.matcher.Store(compile(cfg))
	e.obs.Observer = replayObserver{r}
	r.e = e
	for _, c := range e.matcher.Load().responses {
		r.tally[c.Response] = newTally(c.Response)
	}
	r.rep.Skipped = map[string]int{}
	return r
}

// Add decides one record at its alert's time, after the reverts due by
// then. A malformed record is counted and its error returned; the replay
// goes on.
func (r *Replay) Add(rec Record) error {
	r.rep.Alerts++
	data, err := decodeRecord(rec, &r.a)
	if err != nil {
		r.rep.Malformed++
		return err
	}
	at, ok := alertTime(&r.a)
	if !ok {
		r.rep.Untimed++
		at = r.clock
	}
	if at.Before(r.since) || !r.until.IsZero() && !at.Before(r.until) {
		r.rep.OutsideWindow++
		return nil
	}
	r.advance(at)
	r.by = r.by[:0]
	jobs, err := r.e.matchAlert(&r.a, data, &r.by)
	if err != nil {
		r.rep.Malformed++
		return err
	}
	for i := range jobs {
		r.decide(r.by[i], &jobs[i])
	}
	return nil
}

// advance moves the clock to at (never back) and reverts the entries
// expired by then.
func (r *Replay) advance(at time.Time) {
	if r.rep.First.IsZero() {
		r.rep.First = at
	}
	if at.After(r.clock) {
		r.clock = at
	}
	r.rep.Last = r.clock
	if r.clock.Before(r.nextDue) {
		return
	}
	refs, wait := r.timers.due(r.clock)
	r.nextDue = r.clock.Add(wait)
	if len(refs) == 0 {
		return
	}
	r.e.mu.Lock()
	defer r.e.mu.Unlock()
	for _, ref := range refs {
		if r.e.dueLocked(ref) == nil {
			continue // extended or replaced since
		}
		delete(r.e.table, ref.Key)
		r.rep.Reverts++
		if t := r.owner[ref.Key]; t != nil {
			t.Reverts++
			delete(r.owner, ref.Key)
		}
	}
}

// decide takes the decision the daemon takes for job, triggered by resp:
// the keys its command sends, then, for a stateful run, abort or continue
// and the entry's timeout (Engine.record without the store).
func (r *Replay) decide(resp *Response, job *Job) {
	t := r.tally[resp]
	t.Runs++
	r.rep.Runs++
	keys, ask := legacyKeys(job.Fields), true // the engine keys legacy runs itself
	if job.Command.Protocol != ProtocolLegacy {
		var err error
		if keys, ask, err = r.keys(job.Command, job.Fields); err != nil {
			t.fail(err)
			r.rep.Failed++
			return
		}
	}
	key := TableKey(job.Command.Executable, keys)
	t.target(key)
	if !ask || job.Timeout <= 0 {
		t.Stateless++
		return
	}
	r.e.mu.Lock()
	cur := r.e.table[key]
	next, d := r.e.decideLocked(key, cur, *job)
	if cur == nil {
		cur = &tableEntry{}
		r.e.table[key] = cur
	}
	cur.Entry = &next
	r.e.mu.Unlock()
	r.timers.schedule(next.Expires, EntryRef{Key: key, Seq: next.Seq})
	if next.Expires.Before(r.nextDue) {
		r.nextDue = next.Expires
	}
	t.decided(key, next, d, r.clock)
	if d.Verdict == Continue {
		r.rep.Continues++
		r.owner[key] = t
	} else {
		r.rep.Aborts++
	}
}

// Report returns what the replay found so far: the entries still active
// are those not expired at the last alert's time.
func (r *Replay) Report() ReplayReport {
	rep := r.rep
	rep.Skipped = make(map[string]int, len(r.rep.Skipped))
	for k, v := range r.rep.Skipped {
		rep.Skipped[k] = v
	}
	r.e.mu.Lock()
	rep.ActiveAtEnd = len(r.e.table)
	r.e.mu.Unlock()
	for _, c := range r.e.matcher.Load().responses {
		t := r.tally[c.Response]
		rep.Matched += t.matched()
		rep.Responses = append(rep.Responses, t.report())
	}
	return rep
}

// jobParams are the parameters of a job's message: none in a replay,
// where nothing runs.
func (e *Engine) jobParams(r *compiled, raw []byte) []byte {
	if e.replay {
		return nil
	}
	return r.frame.params(raw)
}

// replayObserver counts the skips reported by the engine's matching.
type replayObserver struct{ r *Replay }

func (o replayObserver) Skipped(resp *Response, reason string) {
	o.r.rep.Skipped[reason]++
	o.r.tally[resp].Skipped[reason]++
}

func (replayObserver) Ran(*Command, Op, Outcome)        {}
func (replayObserver) Took(*Command, Op, time.Duration) {}
func (replayObserver) Acted(*Command, time.Duration)    {}
