package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/engine/ossecconf"
	"github.com/threatlockdown/threatlockdown/platform"
)

// replayOptions are the flags of `threatlockdown replay`.
type replayOptions struct {
	files        []string
	root         string
	config       string // root/etc/ossec.conf when empty
	agentID      string
	json         bool
	since, until time.Time
}

// replayTimeLayouts are the forms --since and --until take; without a zone
// they are local time.
var replayTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

func parseReplayTime(s string) (time.Time, error) {
	for _, l := range replayTimeLayouts {
		if t, err := time.ParseInLocation(l, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2024-05-11, 2024-05-11 12:00, or RFC 3339)", s)
}

// parseReplayFlags reads FILE... and flags, in any order.
func parseReplayFlags(args []string, stderr io.Writer) (*replayOptions, error) {
	o := &replayOptions{}
	fs := flag.NewFlagSet("threatlockdown replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.root, "root", platform.DefaultRoot(), "install root whose etc/ossec.conf and active-response/bin are used")
	fs.StringVar(&o.config, "config", "", "ossec.conf to replay through (default ROOT/etc/ossec.conf)")
	fs.StringVar(&o.agentID, "agent-id", "000", "this host's agent id, as for run")
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON document")
	for _, tf := range []struct {
		name string
		t    *time.Time
	}{{"since", &o.since}, {"until", &o.until}} {
		fs.Func(tf.name, "replay only alerts from (since) or before (until) this time", func(s string) (err error) {
			*tf.t, err = parseReplayTime(s)
			return err
		})
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		o.files, args = append(o.files, args[0]), args[1:]
	}
	if len(o.files) == 0 {
		return nil, fmt.Errorf("%w: replay needs at least one alerts file", errUsage)
	}
	if o.config == "" {
		o.config = filepath.Join(o.root, "etc", "ossec.conf")
	}
	return o, nil
}

// cmdReplay is the replay command's entry in main's command table.
func cmdReplay(ctx context.Context, args []string, s stdio) error {
	return runReplay(ctx, args, s.out, s.err)
}

// runReplay is `threatlockdown replay FILE... [--root DIR] [--config FILE]
// [--agent-id ID] [--json] [--since T] [--until T]`: it runs the alerts
// files through the configuration with the engine's own decisions on a
// simulated clock (engine.Replay) and prints what would have run. It runs
// nothing and opens neither the store nor the firewall. SIGINT stops it
// with the report so far.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseReplayFlags(args, stderr)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(o.config)
	if err != nil {
		return err
	}
	cfg, err := ossecconf.Parse(bytes.NewReader(raw), o.config)
	if err != nil {
		return err
	}
	run, err := openReplay(o.files)
	if err != nil {
		return err
	}
	defer run.Close()
	keys := newReplayKeys(o.root)
	keys.prepare(cfg)
	run.r = engine.NewReplay(cfg, engine.ReplayOptions{AgentID: o.agentID, Keys: keys.keys, Since: o.since, Until: o.until})
	stop := startReplayProgress(stderr, run.files)
	start := time.Now()
	interrupted := run.feed(ctx)
	elapsed := time.Since(start)
	stop()
	doc := run.document(o, keys, elapsed, interrupted)
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	return writeReplayText(stdout, doc)
}

// replayRun is a replay under way: its files, merged in time order.
type replayRun struct {
	files    []*replayInput
	r        *engine.Replay
	bad      []replayBad // the first replayMaxBad
	badTotal int
}

// replayMaxBad is how many bad records a report lists (all are counted).
const replayMaxBad = 100

type replayBad struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Error string `json:"error"`
}

func openReplay(paths []string) (*replayRun, error) {
	run := &replayRun{}
	for _, p := range paths {
		f, err := openReplayInput(p)
		if err != nil {
			run.Close()
			return nil, err
		}
		run.files = append(run.files, f)
	}
	return run, nil
}

func (run *replayRun) Close() error {
	for _, f := range run.files {
		f.Close()
	}
	return nil
}

func (run *replayRun) report(file string, line int, err error) {
	run.badTotal++
	if len(run.bad) < replayMaxBad {
		run.bad = append(run.bad, replayBad{File: file, Line: line, Error: err.Error()})
	}
}

// feed hands every record to the replay, the earliest of the files' next
// records first. It reports whether ctx ended it early.
func (run *replayRun) feed(ctx context.Context) (interrupted bool) {
	for _, f := range run.files {
		f.onBad = func(line int, err error) { run.report(f.path, line, err) }
		run.advance(f)
	}
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return true
		}
		f := run.earliest()
		if f == nil {
			return false
		}
		if err := run.r.Add(engine.Record{Data: f.rec, Format: f.format}); err != nil {
			run.report(f.path, f.recLine, err)
		}
		run.advance(f)
	}
}

// advance moves f to its next record and, when there are several files,
// reads its time; a record without one keeps the time of the one before.
func (run *replayRun) advance(f *replayInput) {
	if !f.next(f.onBad) {
		if f.err != nil {
			run.report(f.path, f.line+1, f.err)
		}
		f.done = true
		return
	}
	if len(run.files) > 1 {
		if at, ok := engine.RecordTime(engine.Record{Data: f.rec, Format: f.format}); ok {
			f.at = at
		}
	}
}

// earliest is the file whose next record comes first (the first file on a tie).
func (run *replayRun) earliest() *replayInput {
	var first *replayInput
	for _, f := range run.files {
		if !f.done && (first == nil || f.at.Before(first.at)) {
			first = f
		}
	}
	return first
}

// replayDoc is the report, as --json prints it.
type replayDoc struct {
	Config      string            `json:"config"`
	AgentID     string            `json:"agent_id"`
	Since       *time.Time        `json:"since,omitempty"`
	Until       *time.Time        `json:"until,omitempty"`
	Files       []replayFile      `json:"files"`
	Commands    map[string]string `json:"commands"` // executable: built-in, script, or missing
	Interrupted bool              `json:"interrupted,omitempty"`
	engine.ReplayReport
	BadRecords      []replayBad `json:"bad_records"`
	BadTotal        int         `json:"bad_records_total"`
	ElapsedSeconds  float64     `json:"elapsed_seconds"`
	AlertsPerSecond float64     `json:"alerts_per_second"`
}

type replayFile struct {
	Path    string `json:"path"`
	Format  string `json:"format"` // json or text
	Gzip    bool   `json:"gzip"`
	Bytes   int64  `json:"bytes"`
	Records int    `json:"records"`
}

func (run *replayRun) document(o *replayOptions, keys *replayKeys, elapsed time.Duration, interrupted bool) *replayDoc {
	doc := &replayDoc{
		Config: o.config, AgentID: o.agentID, Interrupted: interrupted, ReplayReport: run.r.Report(),
		Commands: keys.kinds(), BadRecords: run.bad, BadTotal: run.badTotal, ElapsedSeconds: elapsed.Seconds(),
	}
	if doc.BadRecords == nil {
		doc.BadRecords = []replayBad{}
	}
	if elapsed > 0 {
		doc.AlertsPerSecond = float64(doc.Alerts) / elapsed.Seconds()
	}
	if !o.since.IsZero() {
		doc.Since = &o.since
	}
	if !o.until.IsZero() {
		doc.Until = &o.until
	}
	for _, f := range run.files {
		format := "json"
		if f.format == engine.FormatText {
			format = "text"
		}
		doc.Files = append(doc.Files, replayFile{Path: f.path, Format: format, Gzip: f.gzip, Bytes: f.size, Records: f.records})
	}
	return doc
}

// replayCounts renders counts as "a 1, b 2" in key order.
func replayCounts(m map[string]int) string {
	var parts []string
	for _, k := range replaySortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
