package platform

import (
	"errors"
	"fmt"
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
// concurrent use; every line is one write(2) on a file opened with O_APPEND,
// so lines of other writers (scripts) never interleave with ours. A nil
// *ARLog writes nothing.
type ARLog struct {
	// Now is the clock; time.Now when nil. Tests fix it.
	Now func() time.Time

	mu sync.Mutex
	f  *os.File
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
	b := appendLine(nil, l.now().Local().Format(arTimeLayout), program, msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errARLogClosed
	}
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("write active-responses.log: %w", err)
	}
	return nil
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

// programLines appends msgs as lines of program in one write(2), so that a
// batch of runs costs one system call and stays together in the file.
func (l *ARLog) programLines(program string, msgs [][]byte) error {
	if l == nil || len(msgs) == 0 {
		return nil
	}
	stamp := l.now().Local().Format(arTimeLayout)
	size := 0
	for _, m := range msgs {
		size += len(stamp) + len(program) + len(m) + 4
	}
	b := make([]byte, 0, size)
	for _, m := range msgs {
		b = appendLine(b, stamp, program, m)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errARLogClosed
	}
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("write active-responses.log: %w", err)
	}
	return nil
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

// Lines appends lines for program in one write.
func (p ProgramLog) Lines(program string, msgs [][]byte) {
	if err := p.ar.programLines(program, msgs); err != nil {
		p.log.Warn("active-responses.log", "err", err)
	}
}
