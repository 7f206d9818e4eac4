package platform

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

const (
	maxLineLen  = 8192 // Wazuh's execd reads a response with fgets into OS_SIZE_8192
	lineBuffer  = 256  // stdout lines queued for the conversation; more are dropped
	stderrTail  = 2048 // bytes of stderr kept for an error
	logLineTrim = 256  // bytes of a stray stdout line that go to the log
)

// procSpec is what to start.
type procSpec struct {
	argv      []string // argv[0] is what starts, looked up in PATH when it has no separator
	cmdLine   string   // Windows: the raw command line, when argv's quoting will not do
	dir       string
	env       []string // the whole environment (see commandEnv)
	stdin     bool     // a pipe for the JSON protocol; otherwise stdin reads EOF
	waitDelay time.Duration
}

// proc is a started command. Its stdout arrives line by line on lines, which
// is closed once the command has exited and its output is drained; err is
// the result of Wait, valid once done is closed.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	out    *lineWriter
	stderr *tailBuffer
	done   chan struct{}
	err    error
}

// startProc starts s in a process group of its own. When ctx is done the
// whole group is killed.
func startProc(ctx context.Context, s procSpec) (*proc, error) {
	cmd := exec.CommandContext(ctx, s.argv[0], s.argv[1:]...)
	cmd.Dir = s.dir
	setCmdLine(cmd, s.cmdLine)
	cmd.Env = s.env
	if cmd.Env == nil {
		cmd.Env = []string{} // never the daemon's own
	}
	cmd.WaitDelay = s.waitDelay
	setProcAttr(cmd)
	cmd.Cancel = func() error { return killTree(cmd.Process) }
	p := &proc{
		cmd:    cmd,
		lines:  make(chan string, lineBuffer),
		stderr: &tailBuffer{max: stderrTail},
		done:   make(chan struct{}),
	}
	p.out = &lineWriter{out: p.lines}
	cmd.Stdout = p.out
	cmd.Stderr = p.stderr
	if s.stdin {
		w, err := cmd.StdinPipe()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", engine.ErrNotStarted, s.argv[0], err)
		}
		p.stdin = w
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", engine.ErrNotStarted, s.argv[0], err)
	}
	go p.wait()
	return p, nil
}

func (p *proc) wait() {
	p.err = p.cmd.Wait()
	p.out.flush()
	close(p.lines)
	close(p.done)
}

// writeLine writes b and a newline to stdin in one write.
func (p *proc) writeLine(b []byte) error {
	if p.stdin == nil {
		return nil
	}
	_, err := p.stdin.Write(append(b[:len(b):len(b)], '\n'))
	return err
}

// closeStdin closes stdin; a script reading it to EOF goes on.
func (p *proc) closeStdin() {
	if p.stdin != nil {
		p.stdin.Close()
	}
}

// lineWriter splits stdout into lines. exec copies into it from one goroutine.
// It never blocks: lines the conversation has no room for are counted and
// dropped, so a chatty script cannot stall Wait.
type lineWriter struct {
	out     chan<- string
	buf     []byte
	long    bool // the current line passed maxLineLen; the rest is skipped
	dropped int
}

func (w *lineWriter) Write(p []byte) (int, error) {
	for _, c := range p {
		switch {
		case c == '\n':
			w.emit()
		case len(w.buf) < maxLineLen:
			w.buf = append(w.buf, c)
		default:
			w.long = true
		}
	}
	return len(p), nil
}

// flush emits a last line that has no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 || w.long {
		w.emit()
	}
}

func (w *lineWriter) emit() {
	line := string(w.buf)
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	w.buf, w.long = w.buf[:0], false
	select {
	case w.out <- line:
	default:
		w.dropped++
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
