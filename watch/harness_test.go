package watch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// The rotation stress harness: a writer appends numbered JSON lines to a file
// and rotates it now and then; a checker counts what a tailer delivered.

// TestMain doubles as the harness's writer process: a writer in its own
// process is scheduled like Wazuh's analysisd, not as one more goroutine
// competing with the tailer for the test's Ps.
func TestMain(m *testing.M) {
	if spec := os.Getenv("WATCH_TEST_WRITER"); spec != "" {
		os.Exit(writerMain(spec, os.Getenv("WATCH_TEST_PATH")))
	}
	os.Exit(m.Run())
}

func writerMain(spec, path string) int {
	var l load
	if _, err := fmt.Sscan(spec, &l.lines, &l.from, &l.every, &l.kind, &l.names, &l.pace, &l.pause, &l.rest); err != nil {
		fmt.Fprintln(os.Stderr, "writer spec:", err)
		return 2
	}
	if err := l.write(path); err != nil {
		fmt.Fprintln(os.Stderr, "writer:", err)
		return 1
	}
	return 0
}

// spawn runs the load in a writer process and waits for it.
func (l load) spawn(path string) error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WATCH_TEST_PATH="+path,
		fmt.Sprintf("WATCH_TEST_WRITER=%d %d %d %d %d %d %d %d", l.lines, l.from, l.every, l.kind, l.names, l.pace, l.pause, l.rest))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("writer process: %w: %s", err, out)
	}
	return nil
}

// rotation is how the writer rotates the file.
type rotation int

const (
	renameCreate rotation = iota // rename to path.N, create path (Wazuh, logrotate create)
	copyTruncate                 // copy to path.N, truncate path in place
)

// load describes one writer run.
type load struct {
	lines int           // lines to write
	from  int           // number of the first line
	every int           // rotate after every this many lines; 0: never
	kind  rotation      // how to rotate
	names naming        // what the rotated files are called
	pace  time.Duration // pause between lines; 0: full speed
	pause time.Duration // pause before each rotation
	rest  time.Duration // pause after each rotation
	// before, when set, runs before each rotation (to wait for the reader).
	before func(written int)
}

// write runs the load against path.
func (l load) write(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer func() { f.Close() }()
	buf := make([]byte, 0, 128)
	for i := range l.lines {
		if l.every > 0 && i > 0 && i%l.every == 0 {
			if l.before != nil {
				l.before(i)
			}
			time.Sleep(l.pause)
			if f, err = l.rotate(f, path, i/l.every); err != nil {
				return err
			}
			time.Sleep(l.rest)
		}
		buf = strconv.AppendInt(append(buf[:0], `{"n":`...), int64(l.from+i), 10)
		buf = append(buf, `,"pad":"0123456789abcdef0123456789abcdef0123456789"}`+"\n"...)
		if _, err := f.Write(buf); err != nil {
			return err
		}
		if l.pace > 0 {
			time.Sleep(l.pace)
		}
	}
	return nil
}

func (l load) rotate(f *os.File, path string, k int) (*os.File, error) {
	if l.kind == copyTruncate {
		return f, l.names.rotate(path, k, copyTruncate)
	}
	f.Close()
	if err := l.names.rotate(path, k, renameCreate); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
}

// copyTrunc does what logrotate's copytruncate does.
func copyTrunc(path, to string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return os.Truncate(path, 0)
}

// tally collects the line numbers a tailer delivered.
type tally struct {
	mu   sync.Mutex
	nums []int
	last engine.Position
}

// add is a Tailer handler.
func (c *tally) add(r engine.Record) error {
	n, err := lineNumber(r.Data)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nums = append(c.nums, n)
	c.last = r.Pos
	c.mu.Unlock()
	return nil
}

func lineNumber(b []byte) (int, error) {
	rest, ok := bytes.CutPrefix(b, []byte(`{"n":`))
	if i := bytes.IndexByte(rest, ','); ok && i > 0 {
		return strconv.Atoi(string(rest[:i]))
	}
	return 0, fmt.Errorf("not a harness line: %.40q", b)
}

func (c *tally) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nums)
}

// result counts lines lost, delivered more than once and out of order.
type result struct{ lost, dup, disorder int }

func (c *tally) result(want int) result {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := make([]int, want)
	var r result
	for i, n := range c.nums {
		if n < 0 || n >= want {
			r.disorder++
			continue
		}
		if seen[n]++; seen[n] > 1 {
			r.dup++
		}
		if i > 0 && n <= c.nums[i-1] {
			r.disorder++
		}
	}
	for _, s := range seen {
		if s == 0 {
			r.lost++
		}
	}
	return r
}

// lostRanges lists the missing numbers below want, as ranges.
func (c *tally) lostRanges(want int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := make([]bool, want)
	for _, n := range c.nums {
		if n >= 0 && n < want {
			seen[n] = true
		}
	}
	var out []string
	for i := 0; i < want; i++ {
		if seen[i] {
			continue
		}
		j := i
		for j+1 < want && !seen[j+1] {
			j++
		}
		out = append(out, fmt.Sprintf("%d-%d", i, j))
		i = j
	}
	return out
}

// waitFor waits until c holds n numbers or timeout passes.
func (c *tally) waitFor(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for c.count() < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// startTailer runs a Tailer of path until the test ends or stop is called.
func startTailer(t *testing.T, tl *Tailer, handle func(engine.Record) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tl.Run(ctx, handle) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(2 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
