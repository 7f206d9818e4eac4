package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/control"
	"github.com/threatlockdown/threatlockdown/store"
)

// Explain's bounds: the tail of each alerts file it reads, and how many of
// the most recent alerts for the target it explains from it.
const (
	explainTail   = 16 << 20
	explainAlerts = 20
)

// explainView is what explain reports: the target's active responses, its
// history from the store (every response applied to it or escaped, every
// revert and unblock), and recent alerts of the alerts file that the
// history does not hold; or the verdicts on one alert given whole.
//
// The history records every alert that triggered a response; an alert
// that triggers none (its level, rule or groups match no block) is not
// recorded, so that the everyday path of an alert writes nothing. The
// alerts file's tail is kept for those: it says which block each one
// missed and why, judged by ossec.conf as it is now. When the history
// holds nothing for the target (right after an upgrade, or with
// --history 0), every recent alert of the file is shown, as before.
type explainView struct {
	Target  string          `json:"target,omitempty"`
	Active  []entryView     `json:"active"`
	History []historyView   `json:"history"`
	Alerts  []alertVerdicts `json:"alerts"`
	Note    string          `json:"note,omitempty"`
}

// historyView is one record of the history.
type historyView struct {
	Time    time.Time `json:"time"`
	Outcome string    `json:"outcome"`
	AlertID string    `json:"alert_id,omitempty"`
	RuleID  string    `json:"rule_id,omitempty"`
	Level   int       `json:"level,omitempty"`
	Groups  string    `json:"groups,omitempty"`
	Line    int       `json:"line,omitempty"` // of the <active-response> block in ossec.conf
	Command string    `json:"command,omitempty"`
	Key     string    `json:"key,omitempty"`
	// Repeats more alerts like this one came in the same commit, the last
	// LastAlertID at Last.
	Repeats     int       `json:"repeats,omitempty"`
	LastAlertID string    `json:"last_alert_id,omitempty"`
	Last        time.Time `json:"last,omitzero"`
}

type alertVerdicts struct {
	Source    string        `json:"source,omitempty"`
	ID        string        `json:"alert_id"`
	RuleID    string        `json:"rule_id"`
	Level     int           `json:"level"`
	Groups    string        `json:"groups"`
	AgentID   string        `json:"agent_id,omitempty"`
	SrcIP     string        `json:"srcip,omitempty"`
	User      string        `json:"user,omitempty"`
	Responses []verdictView `json:"responses"`
}

type verdictView struct {
	Line    int    `json:"line"`
	Command string `json:"command"`
	Runs    bool   `json:"runs"`
	Reason  string `json:"reason,omitempty"`
}

// explainFunc explains one alert line under some config.
type explainFunc func(alert []byte) (engine.Explanation, error)

// explainRequest answers explain: --alert explains that alert; otherwise
// the one argument is an address or a user, whose history hist holds (nil:
// a store that keeps none). dropped is how many history events the running
// daemon dropped in storms (0 offline); hist's HistoryGap says when the
// last were, this run or one before. With either, the history may lack
// some of the target's, so the alerts that trigger a response are listed
// too.
func (m *Main) explainRequest(r control.Request, explain explainFunc, active []engine.ActiveEntry, hist engine.HistoryReader, dropped uint64) (explainView, error) {
	if a, ok := r.Flags["alert"]; ok {
		if len(r.Args) > 0 {
			return explainView{}, errors.New("explain takes an IP or a USER, or --alert, not both")
		}
		v, err := verdicts("", []byte(a), explain)
		if err != nil {
			return explainView{}, fmt.Errorf("the alert: %w", err)
		}
		return explainView{Alerts: []alertVerdicts{v}, Active: []entryView{}, History: []historyView{}}, nil
	}
	if len(r.Args) != 1 || r.Args[0] == "" {
		return explainView{}, errors.New("explain takes one IP or USER")
	}
	who := historyTarget(r.Args[0])
	x := explainView{Target: who, Active: []entryView{}, History: []historyView{}, Alerts: []alertVerdicts{}}
	names := namedBy(r.Args[0])
	active = slices.DeleteFunc(slices.Clone(active), func(a engine.ActiveEntry) bool { return !names(a.Key, a.Fields) })
	x.Active = append(x.Active, entryViews(active)...)
	var notes []string
	var gap time.Time
	if hist != nil {
		evs, err := hist.History(who)
		if err != nil {
			return explainView{}, err
		}
		if gap, err = hist.HistoryGap(); err != nil {
			return explainView{}, err
		}
		for _, ev := range evs {
			x.History = append(x.History, historyView{
				Time: ev.Time, Outcome: ev.Outcome, AlertID: ev.AlertID, RuleID: ev.RuleID, Level: ev.Level,
				Groups: ev.Groups, Line: ev.Line, Command: ev.Command, Key: ev.Key,
				Repeats: ev.Repeats, LastAlertID: ev.LastAlertID, Last: ev.Last,
			})
		}
	}
	untriggeredOnly := len(x.History) > 0 && dropped == 0 && gap.IsZero()
	switch {
	case hist == nil:
		notes = append(notes, "history: none, this store keeps none")
	case len(x.History) > 0:
		notes = append(notes, fmt.Sprintf("history: %d records from the store (kept 7 days by default, --history)", len(x.History)))
	default:
		notes = append(notes, fmt.Sprintf("history: none for %s in the store (kept from this version on, 7 days by default; none with --history 0)", who))
	}
	const mayLack = "it may lack some of %s's, so the alerts below include those that trigger a response"
	switch {
	case dropped > 0 && !gap.IsZero():
		notes = append(notes, fmt.Sprintf("history: %d events dropped since the daemon started, the latest stored one at %s "+
			"(more came in a storm than one commit takes): "+mayLack, dropped, stamp(gap), who))
	case dropped > 0:
		notes = append(notes, fmt.Sprintf("history: %d events dropped since the daemon started (more came in a storm than one commit takes): "+
			mayLack, dropped, who))
	case !gap.IsZero():
		notes = append(notes, fmt.Sprintf("history: events were dropped at %s (more came in a storm than one commit takes): "+
			mayLack, stamp(gap), who))
	}
	var scanned []string
	for _, path := range m.alertFiles() {
		if formatOf(path) != engine.FormatJSON {
			continue
		}
		lines, err := recentAlerts(path, who)
		if err != nil {
			scanned = append(scanned, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		scanned = append(scanned, path)
		for _, l := range lines {
			v, err := verdicts(path, l, explain)
			if err != nil || untriggeredOnly && triggersAny(v) {
				continue // an alert that triggers a response is in the history
			}
			x.Alerts = append(x.Alerts, v)
		}
	}
	if n := len(x.Alerts); n > explainAlerts {
		x.Alerts = x.Alerts[n-explainAlerts:]
	}
	which := "alerts"
	if untriggeredOnly {
		which = "alerts that trigger no response"
	}
	notes = append(notes, fmt.Sprintf("%s: the last %d for %s in the last %d MiB of %s, judged by ossec.conf as it is now",
		which, explainAlerts, who, explainTail>>20, strings.Join(scanned, ", ")))
	x.Note = strings.Join(notes, "\n")
	return x, nil
}

// historyTarget is who as the history keys it: an address in canonical
// form (an IPv4-mapped address is its IPv4 address), anything else as is.
func historyTarget(who string) string {
	if a, err := netip.ParseAddr(who); err == nil && a.Zone() == "" {
		return a.Unmap().String()
	}
	return who
}

// triggersAny reports whether some response triggers on the alert v: run
// or skipped for a reason the history records (white list, location,
// validation), rather than missed by its level, rule or groups.
func triggersAny(v alertVerdicts) bool {
	for _, r := range v.Responses {
		if r.Runs || slices.Contains(engine.SkipReasons[:], r.Reason) {
			return true
		}
	}
	return false
}

func verdicts(source string, line []byte, explain explainFunc) (alertVerdicts, error) {
	x, err := explain(line)
	if err != nil {
		return alertVerdicts{}, err
	}
	a := x.Alert
	v := alertVerdicts{Source: source, ID: a.ID, RuleID: a.RuleID, Level: a.Level, Groups: a.Groups,
		AgentID: a.AgentID, SrcIP: a.SrcIP, User: a.User, Responses: []verdictView{}}
	for _, r := range x.Responses {
		v.Responses = append(v.Responses, verdictView{Line: r.Line, Command: r.Command, Runs: r.Runs, Reason: r.Reason})
	}
	return v, nil
}

// recentAlerts returns the alerts of the last explainTail bytes of path
// whose source address or user is who, oldest first.
func recentAlerts(path, who string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	start := max(fi.Size()-explainTail, 0)
	buf := make([]byte, fi.Size()-start)
	n, err := f.ReadAt(buf, start)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:n]
	if start > 0 { // the first line is cut
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var out [][]byte
	var a engine.Alert
	needle := []byte(who)
	for line := range bytes.Lines(buf) {
		if !bytes.Contains(line, needle) {
			continue
		}
		line = bytes.TrimRight(line, "\r\n")
		if a.Decode(line) != nil {
			continue
		}
		ip := strings.TrimPrefix(string(a.SrcIP), "::ffff:")
		if ip == who || string(a.DstUser) == who {
			out = append(out, line)
		}
	}
	if len(out) > explainAlerts {
		out = out[len(out)-explainAlerts:]
	}
	return out, nil
}

// offlineStore reads, when no daemon runs, the active responses and the
// history of who from the store opened read-only; nothing when the daemon
// never ran.
func (c *client) offlineStore(who string) ([]engine.ActiveEntry, engine.HistoryReader, error) {
	if _, err := os.Stat(c.dbPath()); errors.Is(err, fs.ErrNotExist) {
		return nil, noHistory{}, nil
	}
	db, err := store.Open(c.dbPath(), store.WithReadOnly(), store.WithLockTimeout(200*time.Millisecond))
	if errors.Is(err, store.ErrLocked) {
		return nil, nil, fmt.Errorf("the daemon holds %s but does not answer on %s", c.dbPath(), c.sockPath())
	}
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	st, err := db.Load()
	if err != nil {
		return nil, nil, err
	}
	active := make([]engine.ActiveEntry, 0, len(st.Entries))
	for _, e := range st.Entries {
		active = append(active, engine.ActiveEntry{Entry: e})
	}
	evs, err := db.History(historyTarget(who))
	if err != nil {
		return nil, nil, err
	}
	gap, err := db.HistoryGap()
	if err != nil {
		return nil, nil, err
	}
	return active, readHistory{evs, gap}, nil
}

// noHistory is the history of a store that does not exist yet.
type noHistory struct{}

func (noHistory) History(string) ([]engine.HistoryEvent, error) { return nil, nil }
func (noHistory) HistoryGap() (time.Time, error)                { return time.Time{}, nil }

// readHistory is history read already, for explainRequest.
type readHistory struct {
	events []engine.HistoryEvent
	gap    time.Time
}

func (r readHistory) History(string) ([]engine.HistoryEvent, error) { return r.events, nil }
func (r readHistory) HistoryGap() (time.Time, error)                { return r.gap, nil }

// parseHistory reads --history: a Go duration ("36h") or whole days
// ("7d"); 0 keeps none.
func parseHistory(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	switch {
	case err != nil || d < 0:
		return 0, fmt.Errorf("%q: a duration such as 7d or 36h", s)
	case d == 0:
		return -1, nil // none
	}
	return d, nil
}

// printHistory writes the history as a table, oldest first.
func printHistory(w io.Writer, hist []historyView) {
	if len(hist) == 0 {
		return
	}
	fmt.Fprintln(w, "\nhistory, oldest first:")
	fmt.Fprintln(w, "TIME\tOUTCOME\tALERT\tRULE\tLEVEL\tGROUPS\tOSSEC.CONF\tCOMMAND\tKEY")
	for _, h := range hist {
		outcome, alert := h.Outcome, dash(h.AlertID)
		if h.Repeats > 0 {
			outcome = fmt.Sprintf("%s x%d to %s", outcome, h.Repeats+1, h.Last.Local().Format("15:04:05"))
			alert += ".." + h.LastAlertID
		}
		level, line := "-", "-"
		if h.Level != 0 || h.Groups != "" {
			level = strconv.Itoa(h.Level)
		}
		if h.Line > 0 {
			line = fmt.Sprintf("line %d", h.Line)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", stamp(h.Time), outcome, alert, dash(h.RuleID), level,
			dash(strings.TrimSuffix(h.Groups, ",")), line, dash(h.Command), dash(h.Key))
	}
}
