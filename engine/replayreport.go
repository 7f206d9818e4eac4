package engine

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// ReplayReport is what a Replay found. Counts of alert-response pairs
// follow the daemon's: an alert white-listed or failing validation is one
// skip (on the first response it triggered), and no other response runs.
type ReplayReport struct {
	Alerts        int            `json:"alerts"`         // records read
	Malformed     int            `json:"malformed"`      // records that could not be decoded
	Untimed       int            `json:"untimed"`        // alerts without a time, decided at the clock's
	OutsideWindow int            `json:"outside_window"` // alerts before Since or from Until on
	First         time.Time      `json:"first"`          // the first alert's time
	Last          time.Time      `json:"last"`           // the clock at the end
	Matched       int            `json:"matched"`        // alert-response pairs that triggered
	Skipped       map[string]int `json:"skipped"`        // of those, not run, by reason
	Runs          int            `json:"runs"`           // adds that would have run
	Continues     int            `json:"continue"`       // of those, told continue: a new entry
	Aborts        int            `json:"abort"`          // told abort: key active, its timer restarted
	Failed        int            `json:"failed"`         // would fail before check_keys
	Reverts       int            `json:"reverts"`        // deletes that would have run
	ActiveAtEnd   int            `json:"active_at_end"`  // entries still active at the end
	// Responses are the active responses that can trigger, in config order.
	Responses []ResponseReport `json:"responses"`
}

// ResponseReport is what one <active-response> would have done.
type ResponseReport struct {
	Line           int            `json:"line"` // of <active-response> in ossec.conf
	Command        string         `json:"command"`
	Executable     string         `json:"executable"`
	TimeoutSeconds float64        `json:"timeout_seconds"`
	Matched        int            `json:"matched"` // alerts that triggered it
	Skipped        map[string]int `json:"skipped"` // by reason
	Runs           int            `json:"runs"`    // adds that would have run
	Continues      int            `json:"continue"`
	Aborts         int            `json:"abort"`
	// Stateless runs record no entry: timeout 0, or a command that sends no
	// check_keys.
	Stateless int    `json:"stateless"`
	Failed    int    `json:"failed"`
	Failure   string `json:"failure,omitempty"` // why the first failed run failed
	Reverts   int    `json:"reverts"`           // deletes of entries it created
	Keys      int    `json:"distinct_keys"`
	// MaxOffences is the highest offence count one of its keys reached,
	// and LongestTimeoutSeconds the longest timeout it set (escalated by
	// repeated_offenders); EscalatedKey is the key that reached it first.
	MaxOffences           int        `json:"max_offences"`
	LongestTimeoutSeconds float64    `json:"longest_timeout_seconds"`
	EscalatedKey          string     `json:"escalated_key,omitempty"`
	Top                   []KeyCount `json:"top_targets"`
}

// KeyCount is a target and the runs for it.
type KeyCount struct {
	Target string `json:"target"` // the keys of the table key, e.g. an address
	Runs   int    `json:"runs"`
}

// TopTargets is how many targets a ResponseReport lists.
const TopTargets = 5

// tally accumulates one response's ResponseReport.
type tally struct {
	ResponseReport
	base    string         // the table key's prefix: executable base name and "-"
	targets map[string]int // runs by table key
	longest time.Duration
}

func newTally(r *Response) *tally {
	return &tally{
		ResponseReport: ResponseReport{
			Line: r.Line, Command: r.Command.Name, Executable: r.Command.Executable,
			TimeoutSeconds: r.Timeout.Seconds(), Skipped: map[string]int{},
		},
		base: TableKey(r.Command.Executable, nil) + "-", targets: map[string]int{},
	}
}

func (t *tally) fail(err error) {
	t.Failed++
	if t.Failure == "" {
		t.Failure = err.Error()
	}
}

func (t *tally) target(key string) { t.targets[key]++ }

// decided counts a stateful decision: next is the entry it made at now.
func (t *tally) decided(key string, next Entry, d Decision, now time.Time) {
	if d.Verdict == Continue {
		t.Continues++
	} else {
		t.Aborts++
	}
	if next.Offences > t.MaxOffences {
		t.MaxOffences, t.EscalatedKey = next.Offences, key
	}
	t.longest = max(t.longest, next.Expires.Sub(now))
}

// matched counts the alerts that triggered the response: run or skipped.
func (t *tally) matched() int {
	n := t.Runs
	for _, v := range t.Skipped {
		n += v
	}
	return n
}

func (t *tally) report() ResponseReport {
	r := t.ResponseReport
	r.Matched = t.matched()
	r.Keys = len(t.targets)
	r.LongestTimeoutSeconds = t.longest.Seconds()
	r.Skipped = make(map[string]int, len(t.Skipped))
	for k, v := range t.Skipped {
		r.Skipped[k] = v
	}
	r.Top = make([]KeyCount, 0, len(t.targets))
	for k, n := range t.targets {
		r.Top = append(r.Top, KeyCount{Target: strings.TrimPrefix(k, t.base), Runs: n})
	}
	slices.SortFunc(r.Top, func(a, b KeyCount) int {
		return cmp.Or(cmp.Compare(b.Runs, a.Runs), strings.Compare(a.Target, b.Target))
	})
	r.Top = r.Top[:min(len(r.Top), TopTargets)]
	return r
}
