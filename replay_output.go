package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// writeReplayText prints the report for a person.
func writeReplayText(w io.Writer, d *replayDoc) error {
	p := &replayPrinter{w: w}
	p.f("replayed %d alerts from %d file(s) through %s (agent %s) in %.2f s: %.0f alerts/s\n",
		d.Alerts, len(d.Files), d.Config, d.AgentID, d.ElapsedSeconds, d.AlertsPerSecond)
	if d.Interrupted {
		p.f("INTERRUPTED: the report covers the alerts read so far\n")
	}
	for _, f := range d.Files {
		gz := ""
		if f.Gzip {
			gz = ", gzip"
		}
		p.f("  %s (%s%s): %d records\n", f.Path, f.Format, gz, f.Records)
	}
	if !d.First.IsZero() {
		p.f("alerts from %s to %s (%s simulated)\n", replayStamp(d.First), replayStamp(d.Last), d.Last.Sub(d.First).Round(time.Second))
	}
	if d.Since != nil || d.Until != nil {
		p.f("window: %s to %s; %d alerts outside\n", replayOptStamp(d.Since), replayOptStamp(d.Until), d.OutsideWindow)
	}
	for _, r := range d.Responses {
		p.response(r, d.Commands[r.Executable])
	}
	p.f("\nskipped (alert-response pairs): %s\n", replayOrNone(replayCounts(d.Skipped)))
	p.f("bad records: %d\n", d.BadTotal)
	for _, b := range d.BadRecords[:min(len(d.BadRecords), 10)] {
		p.f("  %s:%d: %s\n", b.File, b.Line, b.Error)
	}
	if d.BadTotal > 10 {
		p.f("  ... (--json lists the first %d)\n", replayMaxBad)
	}
	p.f("totals: %d alerts (%d malformed, %d without a time, %d outside the window); %d matched, %d ran "+
		"(%d continue, %d abort, %d failed); %d reverts; %d active at the end\n",
		d.Alerts, d.Malformed, d.Untimed, d.OutsideWindow, d.Matched, d.Runs, d.Continues, d.Aborts, d.Failed,
		d.Reverts, d.ActiveAtEnd)
	return p.err
}

// replayPrinter writes formatted lines and keeps the first error.
type replayPrinter struct {
	w   io.Writer
	err error
}

func (p *replayPrinter) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *replayPrinter) response(r engine.ResponseReport, kind string) {
	p.f("\nactive response at line %d: %s (%s, %s), timeout %s\n", r.Line, r.Command, r.Executable, kind, replaySeconds(r.TimeoutSeconds))
	skipped := ""
	if len(r.Skipped) > 0 {
		skipped = " (" + replayCounts(r.Skipped) + ")"
	}
	p.f("  matched %d: ran %d, skipped %d%s\n", r.Matched, r.Runs, r.Matched-r.Runs, skipped)
	p.f("  continue %d, abort %d (already active), stateless %d, failed %d; reverts %d\n",
		r.Continues, r.Aborts, r.Stateless, r.Failed, r.Reverts)
	if r.Failure != "" {
		p.f("  first failure: %s\n", r.Failure)
	}
	if r.MaxOffences > 0 {
		p.f("  distinct keys %d; longest escalation: offence %d (%s), longest timeout %s\n",
			r.Keys, r.MaxOffences, r.EscalatedKey, replaySeconds(r.LongestTimeoutSeconds))
	} else {
		p.f("  distinct keys %d\n", r.Keys)
	}
	if len(r.Top) > 0 {
		var top []string
		for _, t := range r.Top {
			top = append(top, fmt.Sprintf("%s (%d)", t.Target, t.Runs))
		}
		p.f("  top targets: %s\n", strings.Join(top, ", "))
	}
}

func replaySeconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func replayStamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func replayOptStamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return replayStamp(*t)
}

func replayOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func replaySortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
