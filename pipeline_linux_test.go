//go:build linux

package main

// BenchmarkPipeline takes BenchmarkDaemonNonMatching apart in one process,
// without the daemon's neighbours (its other goroutines, the runtime's
// monitor, a second process on the same two cores): the same 300,000
// non-matching alerts, laid out as the daemon meets them, through
//
//   - tail: the tailer alone, read(2) and cutting lines, handing each
//     record to a handler that does nothing;
//   - pipeline: the tailer and the engine's Feed (decode, match, positions),
//     as the daemon wires them;
//   - engine: the Feed alone, over records cut beforehand,
//
// each timed in CPU-seconds of the process (getrusage). It reports
// alerts/cpu-s of each, the pipeline's over the engine's (ratio: what
// BenchmarkDaemonNonMatching's ratio would be if the daemon cost nothing
// beyond its tailer), and the tailer's share of the pipeline's CPU:
//
//	go test -run '^$' -bench Pipeline -benchtime 5x -cpu 1 .

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/store"
	"github.com/threatlockdown/threatlockdown/watch"
)

const pipelineAlerts = 300_000

func BenchmarkPipeline(b *testing.B) {
	samples, err := os.ReadFile("engine/testdata/alerts.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(samples), []byte("\n"))
	var buf bytes.Buffer
	for i := range pipelineAlerts {
		buf.Write(lines[i%len(lines)])
		buf.WriteByte('\n')
	}
	content := buf.Bytes()
	dir := b.TempDir()
	path := filepath.Join(dir, "alerts.json")
	records := make([]engine.Record, 0, pipelineAlerts)
	for off := 0; off < len(content); {
		end := off + bytes.IndexByte(content[off:], '\n')
		records = append(records, engine.Record{Data: content[off:end], Format: engine.FormatJSON,
			Pos: engine.Position{Source: path, FileID: "1:1", Offset: int64(end + 1)}})
		off = end + 1
	}

	db, err := store.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	e, err := engine.New(engine.Options{Store: db, Runner: idleRunner{}, Node: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	// The daemon benchmark's configuration: one response that nothing here
	// triggers.
	cmd := &engine.Command{Name: "test-drop", Executable: "test-drop", TimeoutAllowed: true}
	e.SetConfig(&engine.Config{Commands: []*engine.Command{cmd}, Responses: []*engine.Response{
		{Command: cmd, Location: engine.LocationLocal, RulesID: []string{"100999"}}}})
	ctx := context.Background()

	var tail, pipe, alone time.Duration
	for b.Loop() {
		tail += tailCPU(b, dir, content, func(engine.Record) error { return nil }, nil)
		feed := e.Feed()
		pipe += tailCPU(b, dir, content, func(r engine.Record) error { return feed.Handle(ctx, r) }, feed.Flush)
		feed = e.Feed()
		c0 := cpuTime(b)
		for _, r := range records {
			if err := feed.Handle(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		feed.Flush()
		alone += cpuTime(b) - c0
	}
	if n := e.Stats().Alerts.Load(); n != uint64(2*b.N*pipelineAlerts) {
		b.Fatalf("the engine counted %d alerts, want %d", n, 2*b.N*pipelineAlerts)
	}
	rate := func(d time.Duration) float64 { return float64(b.N*pipelineAlerts) / d.Seconds() }
	b.ReportMetric(rate(tail), "tail-alerts/cpu-s")
	b.ReportMetric(rate(pipe), "pipeline-alerts/cpu-s")
	b.ReportMetric(rate(alone), "engine-alerts/cpu-s")
	b.ReportMetric(rate(pipe)/rate(alone), "ratio")
	b.ReportMetric(tail.Seconds()/pipe.Seconds(), "tail-share")
}

// tailCPU has a tailer read content from its start, handing each record to
// handle, and returns the process's CPU time from the moment content is in
// place until the last record was handled. content replaces the empty file
// the tailer follows by a rename, as a rotation would: the tailer reads a
// new file from its start.
func tailCPU(b *testing.B, dir string, content []byte, handle func(engine.Record) error, flushed func()) time.Duration {
	path := filepath.Join(dir, "alerts.json")
	next := filepath.Join(dir, "next.json")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(next, content, 0o644); err != nil {
		b.Fatal(err)
	}
	t := watch.NewTailer(path, engine.FormatJSON, engine.Position{}, nil)
	started := make(chan struct{})
	t.Started = func(engine.Position) { close(started) }
	t.Flushed = flushed
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	end := int64(len(content))
	go func() {
		done <- t.Run(ctx, func(r engine.Record) error {
			err := handle(r)
			if r.Pos.Offset == end {
				cancel()
			}
			return err
		})
	}()
	<-started
	c0 := cpuTime(b)
	if err := os.Rename(next, path); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil && ctx.Err() == nil {
		b.Fatal(err)
	}
	return cpuTime(b) - c0
}

// idleRunner runs nothing: nothing in BenchmarkPipeline triggers a command.
type idleRunner struct{}

func (idleRunner) Run(context.Context, engine.Invocation, engine.CheckKeys) error {
	return nil
}
