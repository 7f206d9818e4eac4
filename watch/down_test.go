package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// waitLine waits until c holds line n or timeout passes.
func (c *tally) waitLine(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !c.has(n) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// disorders shows where lines came out of order: each with its neighbours.
func (c *tally) disorders() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for i := 1; i < len(c.nums); i++ {
		if c.nums[i] <= c.nums[i-1] {
			out = append(out, fmt.Sprint(c.nums[max(0, i-3):min(len(c.nums), i+3)]))
		}
	}
	return out
}

func (c *tally) has(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nums) > 0 && c.nums[len(c.nums)-1] >= n
}

// readThrough runs a tailer from start until it delivered line last, the
// last line written: whatever it delivers twice or out of order comes before.
func readThrough(t *testing.T, path string, start engine.Position, c *tally, last int) {
	t.Helper()
	log, _ := newLogs(t)
	stop := startTailer(t, NewTailer(path, engine.FormatJSON, start, log), c.add)
	defer stop()
	if !c.waitLine(last, 5*time.Second) {
		t.Errorf("line %d not delivered; lost: %v", last, c.lostRanges(last+1))
	}
}

// TestTailer_RotatedManyWhileDown stops the tailer with lines unread, rotates
// the file several times and starts the tailer again at its last position:
// it must read the rest of the file it was reading, then every file rotated
// since, in order, then the file now at the path.
func TestTailer_RotatedManyWhileDown(t *testing.T) {
	for _, names := range []naming{ascending, shifted, dated, archived} {
		for _, rotations := range []int{3, 7} {
			t.Run(fmt.Sprintf("%s/%d", names, rotations), func(t *testing.T) {
				path, start := newFile(t)
				var c tally
				write(t, path, load{lines: 100})
				readThrough(t, path, start, &c, 99)

				n := 100 // while down: 50 lines unread, rotations 100 lines apart, 50 more
				for k := 1; k <= rotations; k++ {
					lines := 100
					if k == 1 {
						lines = 50
					}
					write(t, path, load{lines: lines, from: n})
					n += lines
					if names == ascending {
						// Only modification times order path.1, path.2...: see laterTick.
						laterTick(t, path)
					}
					if err := names.rotate(path, k, renameCreate); err != nil {
						t.Fatal(err)
					}
				}
				write(t, path, load{lines: 50, from: n})
				n += 50

				readThrough(t, path, c.last, &c, n-1)
				if got := c.result(n); got != (result{}) {
					t.Errorf("lines lost/duplicated/out of order: %+v; lost %v", got, c.lostRanges(n))
				}
			})
		}
	}
}

// laterTick waits until a file written now gets a later modification time
// than the file at path. File systems keep times in ticks of a few
// milliseconds on many kernels; two files rotated within one tick can be
// ordered by their names only, and "path.1 oldest" names cannot be told
// from logrotate's "path.1 newest" by name.
func laterTick(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(t.TempDir(), "tick")
	for deadline := time.Now().Add(5 * time.Second); ; {
		appendFile(t, probe, ".")
		if p, err := os.Stat(probe); err == nil && p.ModTime().After(fi.ModTime()) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("file modification times do not advance")
		}
	}
}

// TestTailer_CopyTruncatedWhileDown: lines unread when the tailer stopped were
// copied away and the file truncated, once or twice, while it was down; the
// file may have grown past the stored offset again.
func TestTailer_CopyTruncatedWhileDown(t *testing.T) {
	tests := []struct {
		names  naming
		copies int
		regrow int // lines written to the file after the last truncation
	}{
		{shifted, 1, 50},
		{shifted, 1, 400}, // past the stored offset
		{shifted, 3, 50},
		{dated, 1, 50},
		{dated, 2, 400},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d/%d", tt.names, tt.copies, tt.regrow), func(t *testing.T) {
			path, start := newFile(t)
			var c tally
			write(t, path, load{lines: 100})
			readThrough(t, path, start, &c, 99)

			n := 100
			for k := 1; k <= tt.copies; k++ {
				lines := 100
				if k == 1 {
					lines = 50
				}
				write(t, path, load{lines: lines, from: n})
				n += lines
				if err := tt.names.rotate(path, k, copyTruncate); err != nil {
					t.Fatal(err)
				}
			}
			write(t, path, load{lines: tt.regrow, from: n})
			n += tt.regrow

			readThrough(t, path, c.last, &c, n-1)
			if got := c.result(n); got != (result{}) {
				t.Errorf("lines lost/duplicated/out of order: %+v; lost %v", got, c.lostRanges(n))
			}
		})
	}
}

// TestTailer_CopyTruncateUnread: the writer copies and truncates the file
// right after writing lines at full speed, without waiting for the tailer,
// so there are lines unread at each truncation; they are read from the copy.
// It rests 5 ms after each rotation: logrotate's renaming of every numbered
// file at each rotation, done every millisecond, keeps the directory from
// ever being read whole (see the caveats).
func TestTailer_CopyTruncateUnread(t *testing.T) {
	for _, names := range []naming{shifted, dated} {
		for _, slow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/slow=%v", names, slow), func(t *testing.T) {
				l := load{lines: 4_000, every: 200, kind: copyTruncate, names: names, rest: 5 * time.Millisecond}
				if got := runThrough(t, l, slow); got != (result{}) {
					t.Errorf("lines lost/duplicated/out of order: %+v", got)
				}
			})
		}
	}
}

// runThrough runs l in a writer process against a fresh tailer and waits for
// the last line; a slow handler pauses now and then.
func runThrough(t *testing.T, l load, slow bool) result {
	t.Helper()
	path, start := newFile(t)
	var c tally
	handle := c.add
	if slow {
		handle = func(r engine.Record) error {
			if c.count()%50 == 0 {
				time.Sleep(time.Millisecond) // a busy handler, not synchronisation
			}
			return c.add(r)
		}
	}
	tl := NewTailer(path, engine.FormatJSON, start, testLogger(t))
	started := make(chan engine.Position, 1)
	tl.Started = func(p engine.Position) { started <- p }
	startTailer(t, tl, handle)
	<-started // files copied away before the tailer looked would be taken as older than its position
	if err := l.spawn(path); err != nil {
		t.Fatal(err)
	}
	if !c.waitLine(l.from+l.lines-1, 10*time.Second) {
		t.Logf("gave up waiting for the last line: %d of %d lines", c.count(), l.lines)
	}
	r := c.result(l.lines)
	if r.lost > 0 {
		t.Logf("lost: %v", c.lostRanges(l.lines))
	}
	if r.disorder > 0 {
		t.Logf("out of order: %v", c.disorders())
	}
	return r
}

// TestTailer_InodeReused: the file read before was deleted and a new file got
// its inode. The stored offset must not be applied to the new file.
func TestTailer_InodeReused(t *testing.T) {
	for _, real := range []bool{true, false} {
		t.Run(map[bool]string{true: "file system", false: "simulated"}[real], func(t *testing.T) {
			path, start := newFile(t)
			var c tally
			write(t, path, load{lines: 100})
			readThrough(t, path, start, &c, 99)
			oldID := start.FileID
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			// The new file: longer than the stored offset, its lines longer too.
			write(t, path, load{lines: 300, from: 1000})
			newID, err := pathID(path)
			if err != nil {
				t.Fatal(err)
			}
			stored := c.last
			switch {
			case !real:
				stored.FileID = strings.Replace(stored.FileID, oldID, newID, 1)
			case newID != oldID:
				t.Skipf("the file system gave the new file another inode (%s, was %s)", newID, oldID)
			}
			c.nums = c.nums[:0]
			readThrough(t, path, stored, &c, 1299)
			c.mu.Lock()
			defer c.mu.Unlock()
			if len(c.nums) != 300 || c.nums[0] != 1000 {
				t.Errorf("got %d lines from %v, want the new file's 300 from 1000",
					len(c.nums), c.nums[:min(3, len(c.nums))])
			}
		})
	}
}
