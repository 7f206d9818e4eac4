package watch

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// newFile creates an empty file and returns the position of its start, so
// that a Tailer reads it from 0 whenever it gets to open it.
func newFile(t testing.TB) (string, engine.Position) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "alerts.json")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	id, err := pathID(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, engine.Position{Source: path, FileID: id}
}

// fileIDAt is the FileID of a position at off in the file at path: its
// identity, "@", and the fingerprint of its first min(off, 1 KiB) bytes.
func fileIDAt(t testing.TB, path string, off int64) string {
	t.Helper()
	id, err := pathID(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s@%x", id, printOf(b[:min(off, printLen)]))
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// runLoad runs l against a fresh tailer and returns what it delivered. A
// slow handler pauses now and then, so that the tailer falls files behind.
func runLoad(t *testing.T, l load, slow bool) result {
	t.Helper()
	path, start := newFile(t)
	var c tally
	handle := c.add
	if slow {
		handle = func(r engine.Record) error {
			if c.count()%20 == 0 {
				time.Sleep(time.Millisecond)
			}
			return c.add(r)
		}
	}
	startTailer(t, NewTailer(path, engine.FormatJSON, start, testLogger(t)), handle)
	if err := l.spawn(path); err != nil {
		t.Fatal(err)
	}
	if !c.waitFor(l.lines, 5*time.Second) {
		t.Logf("gave up waiting: %d of %d lines", c.count(), l.lines)
	}
	time.Sleep(20 * time.Millisecond) // let duplicates, if any, arrive
	if r := c.result(l.lines); r.lost > 0 {
		t.Logf("lost: %v", c.lostRanges(l.lines))
	}
	return c.result(l.lines)
}

func TestTailer_RenameRotation(t *testing.T) {
	// Files live 40 ms or more at the path: see the package doc for what
	// happens to shorter-lived ones.
	tests := []struct {
		name string
		load load
		slow bool
	}{
		// Lines at full speed (some 200,000 a second here), 10 rotations.
		{"burst", load{lines: 100_000, every: 10_000}, false},
		// 40 rotations of 50 lines each; the writer rests 40 ms before each.
		{"many", load{lines: 2_000, every: 50, pause: 40 * time.Millisecond}, false},
		// A line every millisecond, 10 rotations.
		{"paced", load{lines: 500, every: 50, pace: time.Millisecond}, false},
		// The handler lags several files behind the writer.
		{"slow reader", load{lines: 20_000, every: 2_000, pause: 40 * time.Millisecond}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runLoad(t, tt.load, tt.slow); got != (result{}) {
				t.Errorf("lines lost/duplicated/out of order: %+v", got)
			}
		})
	}
}

func TestTailer_CopyTruncate(t *testing.T) {
	// The writer truncates only once the tailer has read everything: lines
	// written between the tailer's last read and a truncation are lost to
	// any tailer, so they are kept out of this test.
	path, start := newFile(t)
	var c tally
	startTailer(t, NewTailer(path, engine.FormatJSON, start, testLogger(t)), c.add)
	l := load{lines: 2_000, every: 100, kind: copyTruncate,
		before: func(n int) { c.waitFor(n, 5*time.Second) }}
	if err := l.write(path); err != nil {
		t.Fatal(err)
	}
	c.waitFor(l.lines, 5*time.Second)
	if got := c.result(l.lines); got != (result{}) {
		t.Errorf("lines lost/duplicated/out of order: %+v", got)
	}
}

// A file truncated and written past the old offset while the handler was
// busy: its size says nothing, the bytes before the offset do.
func TestTailer_TruncateAndRegrow(t *testing.T) {
	path, start := newFile(t)
	var c tally
	hold, release := make(chan struct{}), make(chan struct{})
	handle := func(r engine.Record) error {
		if n, _ := lineNumber(r.Data); n == 50 {
			close(hold)
			<-release
		}
		return c.add(r)
	}
	if err := (load{lines: 100}).write(path); err != nil { // read in one go
		t.Fatal(err)
	}
	startTailer(t, NewTailer(path, engine.FormatJSON, start, testLogger(t)), handle)
	select {
	case <-hold:
	case <-time.After(5 * time.Second):
		t.Fatal("line 50 not delivered")
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if err := (load{lines: 400, from: 1000}).write(path); err != nil {
		t.Fatal(err)
	}
	close(release)
	c.waitFor(500, 5*time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.nums) != 500 || c.nums[99] != 99 || c.nums[100] != 1000 || c.nums[499] != 1399 {
		t.Errorf("got %d lines %v...%v, want 0..99 then 1000..1399",
			len(c.nums), c.nums[:min(len(c.nums), 5)], c.nums[max(0, len(c.nums)-5):])
	}
}
