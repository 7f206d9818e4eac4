package platform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ARLogPath is where Wazuh keeps active-responses.log under an install
// root on this OS: logs/ on Unix, active-response\ on Windows.
func ARLogPath(root string) string {
	return filepath.Join(root, arLogDir(runtime.GOOS), "active-responses.log")
}

// arLogDir is the directory of active-responses.log under the root.
func arLogDir(goos string) string {
	if goos == "windows" {
		return "active-response"
	}
	return "logs"
}

// arTimeLayout is Wazuh's w_get_timestamp: "%d/%02d/%02d %02d:%02d:%02d".
const arTimeLayout = "2006/01/02 15:04:05"

// ARLog appends lines to active-responses.log in Wazuh's format. It is safe for
// concurrent use; every line is within one write(2) on a file opened with
// O_APPEND, so lines of other writers (scripts) never interleave with ours. A nil
// *ARLog writes nothing.
type ARLog struct {
	// Now is the clock; time.Now when nil. Tests fix it.
	Now func() time.Time

	mu  sync.Mutex
	f   io.WriteCloser // the file; tests put in one that fails
	cut bool           // the last write stopped inside a line (a full disk)
	// afterWrite, when set, sees each write's bytes; tests check that
	// writes end at a line's end.
	afterWrite func([]byte)
}

// errARLogClosed is returned by writes after Close.
var errARLogClosed = errors.New("active-responses.log is closed")

// OpenARLog opens path for appending, creating the file and its directory.
func OpenARLog(path string) (*ARLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open active-responses.log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open active-responses.log: %w", err)
	}
	return &ARLog{f: f}, nil
}

// programLine appends one line for program ("active-response/bin/x").
// Line breaks inside msg become spaces so that a message stays one line.
func (l *ARLog) programLine(program, msg string) error {
	if l == nil {
		return nil
	}
	return l.write(appendLine(nil, l.now().Local().Format(arTimeLayout), program, msg))
}

// Close closes the file. Later lines fail.
func (l *ARLog) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func (l *ARLog) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// lineBreaks turns the line breaks inside a message into spaces, so that a
// message stays one line of the log.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// appendLine appends one line of the log, stamp being the formatted time.
func appendLine[M string | []byte](b []byte, stamp, program string, msg M) []byte {
	b = append(b, stamp...)
	b = append(b, ' ')
	b = append(b, program...)
	b = append(b, ": "...)
	for len(msg) > 0 && (msg[len(msg)-1] == '\r' || msg[len(msg)-1] == '\n') {
		msg = msg[:len(msg)-1]
	}
	for i := 0; i < len(msg); i++ {
		if msg[i] == '\r' || msg[i] == '\n' { // rare: alerts are one line
			b = append(b, lineBreaks.Replace(string(msg))...)
			return append(b, '\n')
		}
	}
	b = append(b, msg...)
	return append(b, '\n')
}

// arChunk is about the most that programLines formats before a write: a
// storm's group logs megabytes (five lines of up to 2.3 KB for each of
// thousands of adds), which written at once would cost as much memory,
// freshly mapped each time. A pooled buffer of this size stays in the
// processor's caches; a line longer than it is written alone. Tests lower it.
var arChunk = 256 << 10

var arBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, arChunk)
	return &b
}}

// programLines appends lines of program, each the concatenation of its
// pieces (so that a line made of parts of other lines, as execd's answer
// is of its message, needs no copy of its own). They go in writes of about
// arChunk bytes that hold whole lines only, so a batch costs few system
// calls and, with O_APPEND, another writer's lines fall between ours but
// never inside one.
func (l *ARLog) programLines(program string, lines [][][]byte) error {
	if l == nil || len(lines) == 0 {
		return nil
	}
	stamp := l.now().Local().Format(arTimeLayout)
	bp := arBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 2*arChunk { // not one that a huge line grew
			arBufs.Put(bp)
		}
	}()
	b := (*bp)[:0]
	for _, pieces := range lines {
		n := len(stamp) + len(program) + 4
		for _, p := range pieces {
			n += len(p)
		}
		if len(b) > 0 && len(b)+n > cap(b) {
			if err := l.write(b); err != nil {
				return err
			}
			b = b[:0]
		}
		b = appendPieces(b, stamp, program, pieces)
	}
	*bp = b[:0]
	return l.write(b)
}

// write writes b, whole lines, in one write(2) (os.File retries a short
// write with more: then other writers' lines may fall inside ours).
func (l *ARLog) write(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errARLogClosed
	}
	if l.cut { // end the line a full disk cut, before anything else
		if _, err := l.f.Write([]byte{'\n'}); err != nil {
			return fmt.Errorf("write active-responses.log: %w", err)
		}
		l.cut = false
	}
	if n, err := l.f.Write(b); err != nil {
		if n > 0 && b[n-1] != '\n' {
			// A full disk cut a line: end it now if it can, else before the
			// next write, so that no other line runs on from it.
			_, nlErr := l.f.Write([]byte{'\n'})
			l.cut = nlErr != nil
		}
		return fmt.Errorf("write active-responses.log: %w", err)
	}
	if l.afterWrite != nil {
		l.afterWrite(b)
	}
	return nil
}

// appendPieces is appendLine for the message that pieces make up.
func appendPieces(b []byte, stamp, program string, pieces [][]byte) []byte {
	for _, p := range pieces {
		if bytes.IndexByte(p, '\n') >= 0 || bytes.IndexByte(p, '\r') >= 0 { // rare: alerts are one line
			return appendLine(b, stamp, program, bytes.Join(pieces, nil))
		}
	}
	b = append(b, stamp...)
	b = append(b, ' ')
	b = append(b, program...)
	b = append(b, ": "...)
	for _, p := range pieces {
		b = append(b, p...)
	}
	return append(b, '\n')
}

// ProgramLog writes to an ARLog lines named by program, the way Wazuh's
// scripts name themselves ("active-response/bin/firewall-drop"). Its Line
// returns nothing, so write errors go to its logger. It satisfies the
// ARLogger of package actions.
type ProgramLog struct {
	ar  *ARLog
	log *slog.Logger
}

// Programs returns l as a ProgramLog reporting write errors to log
// (slog.Default() when nil).
func (l *ARLog) Programs(log *slog.Logger) ProgramLog {
	if log == nil {
		log = slog.Default()
	}
	return ProgramLog{ar: l, log: log}
}

// Line appends one line for program.
func (p ProgramLog) Line(program, msg string) {
	if err := p.ar.programLine(program, msg); err != nil {
		p.log.Warn("active-responses.log", "err", err)
	}
}

// Lines appends lines for program, each the concatenation of its pieces,
// in writes of whole lines (see programLines).
func (p ProgramLog) Lines(program string, lines [][][]byte) {
	if err := p.ar.programLines(program, lines); err != nil {
		p.log.Warn("active-responses.log", "err", err)
	}
}
