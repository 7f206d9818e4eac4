package watch

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// recs collects copies of the records a tailer delivers.
type recs struct {
	mu  sync.Mutex
	got []engine.Record
}

func (c *recs) add(r engine.Record) error {
	r.Data = bytes.Clone(r.Data) // Run reuses its buffer
	c.mu.Lock()
	c.got = append(c.got, r)
	c.mu.Unlock()
	return nil
}

func (c *recs) snapshot() []engine.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]engine.Record(nil), c.got...)
}

// wait waits for n records and returns them.
func (c *recs) wait(t *testing.T, n int) []engine.Record {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(c.snapshot()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d records, want %d", len(c.snapshot()), n)
		}
		time.Sleep(time.Millisecond)
	}
	return c.snapshot()
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestTailer_PartialLine(t *testing.T) {
	path, start := newFile(t)
	var c recs
	startTailer(t, NewTailer(path, engine.FormatJSON, start, testLogger(t)), c.add)
	appendFile(t, path, "{\"n\":0}\n{\"n\":1,\"half")
	c.wait(t, 1)
	time.Sleep(2 * DefaultPoll) // events and polls come and go
	if got := c.snapshot(); len(got) != 1 {
		t.Fatalf("incomplete line delivered: %q", got[len(got)-1].Data)
	}
	appendFile(t, path, "\":true}\r\n")
	got := c.wait(t, 2)[1]
	end := fileSize(t, path)
	want := engine.Position{Source: path, FileID: fileIDAt(t, path, end), Offset: end}
	if string(got.Data) != `{"n":1,"half":true}` || got.Pos != want {
		t.Errorf("got %q at %+v, want the completed line at %+v", got.Data, got.Pos, want)
	}
}

func TestTailer_LongLines(t *testing.T) {
	path, start := newFile(t)
	log, logs := newLogs(t)
	tl := NewTailer(path, engine.FormatJSON, start, log)
	tl.MaxRecord = 2 << 20
	var c recs
	startTailer(t, tl, c.add)
	mib := `{"big":"` + strings.Repeat("m", 1<<20) + `"}`
	over := strings.Repeat("o", 3<<20)
	appendFile(t, path, mib+"\n"+over[:1<<20])
	appendFile(t, path, over[1<<20:]+"\n{\"n\":2}\n")
	got := c.wait(t, 2)
	if len(got[0].Data) != len(mib) || got[0].Pos.Offset != int64(len(mib)+1) {
		t.Errorf("1 MiB line: got %d bytes at %d", len(got[0].Data), got[0].Pos.Offset)
	}
	if string(got[1].Data) != `{"n":2}` || got[1].Pos.Offset != fileSize(t, path) {
		t.Errorf("after the skipped line: got %.20q at %d", got[1].Data, got[1].Pos.Offset)
	}
	if n := logs.count("longer than the limit"); n != 1 {
		t.Errorf("%d log lines about the 3 MiB line, want 1", n)
	}
}

func TestTailer_Text(t *testing.T) {
	fixture, err := os.ReadFile("testdata/alerts.log")
	if err != nil {
		t.Fatal(err)
	}
	path, start := newFile(t)
	var c recs
	startTailer(t, NewTailer(path, engine.FormatText, start, testLogger(t)), c.add)
	half := len(fixture) / 2 // inside the second block
	appendFile(t, path, string(fixture[:half]))
	c.wait(t, 1)
	appendFile(t, path, string(fixture[half:]))
	got := c.wait(t, 3)
	want := strings.Split(strings.TrimSuffix(string(fixture), "\n\n"), "\n\n")
	var end int64
	for i, r := range got {
		end += int64(len(want[i]) + 2)
		if string(r.Data) != want[i] || r.Pos.Offset != end || r.Format != engine.FormatText {
			t.Errorf("block %d: got %q at %d, want %q at %d", i, r.Data, r.Pos.Offset, want[i], end)
		}
	}
}

func TestTailer_FirstStartAtEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	appendFile(t, path, "{\"n\":0}\n{\"n\":1}\n{\"n\":2,\"cut")
	log, logs := newLogs(t)
	var c recs
	startTailer(t, NewTailer(path, engine.FormatJSON, engine.Position{}, log), c.add)
	logs.wait(t, "first start")
	appendFile(t, path, "\"}\n{\"n\":3}\n")
	if got := c.wait(t, 1); string(got[0].Data) != `{"n":3}` {
		t.Errorf("first record %q, want the first line written after the start", got[0].Data)
	}
}

func TestTailer_CreatedAfterStart(t *testing.T) {
	for _, name := range []string{"file", "directory"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if name == "directory" {
				dir = filepath.Join(dir, "logs", "alerts")
			}
			path := filepath.Join(dir, "alerts.json")
			log, logs := newLogs(t)
			var c recs
			startTailer(t, NewTailer(path, engine.FormatJSON, engine.Position{}, log), c.add)
			logs.wait(t, "does not exist yet")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			appendFile(t, path, "{\"n\":0}\n{\"n\":1}\n")
			if got := c.wait(t, 2); string(got[0].Data) != `{"n":0}` {
				t.Errorf("first record %q, want the file's first line", got[0].Data)
			}
		})
	}
}

func TestTailer_Cancel(t *testing.T) {
	path, start := newFile(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewTailer(path, engine.FormatJSON, start, nil).Run(ctx, (&recs{}).add) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	began := time.Now()
	select {
	case err := <-done:
		if err != nil || time.Since(began) > 100*time.Millisecond {
			t.Errorf("Run returned %v after %v; want nil within 100 ms", err, time.Since(began))
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestTailer_HandlerError(t *testing.T) {
	path, start := newFile(t)
	appendFile(t, path, "{\"n\":0}\n")
	errStop := errors.New("stop")
	err := NewTailer(path, engine.FormatJSON, start, nil).Run(context.Background(),
		func(engine.Record) error { return errStop })
	if !errors.Is(err, errStop) {
		t.Errorf("Run returned %v, want the handler's error", err)
	}
}

// TestTailer_FlushedAfterEachBatch: Flushed is called once the records of
// a read were all handed out, so that none is left unflushed when the
// tailer waits, and not for a read that completed no record.
func TestTailer_FlushedAfterEachBatch(t *testing.T) {
	path, start := newFile(t)
	tl := NewTailer(path, engine.FormatJSON, start, testLogger(t))
	var mu sync.Mutex
	handled, flushes := 0, []int{} // records handled, and how many at each Flushed
	tl.Flushed = func() {
		mu.Lock()
		flushes = append(flushes, handled)
		mu.Unlock()
	}
	var c recs
	startTailer(t, tl, func(r engine.Record) error {
		mu.Lock()
		handled++
		mu.Unlock()
		return c.add(r)
	})
	// flushedAll waits until the last Flushed came after n records.
	flushedAll := func(n int) []int {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			f := append([]int(nil), flushes...)
			mu.Unlock()
			if len(f) > 0 && f[len(f)-1] == n {
				return f
			}
			if time.Now().After(deadline) {
				t.Fatalf("flushes after %v records, want the last after %d", f, n)
			}
			time.Sleep(time.Millisecond) // a poll of the condition
		}
	}
	appendFile(t, path, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n")
	before := flushedAll(3)
	appendFile(t, path, "{\"n\":3,")
	time.Sleep(2 * DefaultPoll) // a read of no complete record, and reads of nothing new
	mu.Lock()
	after := len(flushes)
	mu.Unlock()
	if after != len(before) {
		t.Errorf("Flushed called %d more times with no new record", after-len(before))
	}
	appendFile(t, path, "\"x\":1}\n")
	f := flushedAll(4)
	for i := 1; i < len(f); i++ {
		if f[i] <= f[i-1] {
			t.Errorf("Flushed called twice after %d records: %v", f[i], f)
		}
	}
}
