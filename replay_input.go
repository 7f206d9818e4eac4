package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Replay's inputs: alerts.json and alerts.log files, plain or gzip (Wazuh
// keeps rotated ones as logs/alerts/YYYY/Mon/ossec-alerts-DD.json.gz and
// .log.gz), read record by record and merged in time order.

// replayMaxRecord is the longest record replay reads, as the tailer's limit.
const replayMaxRecord = 32 << 20

// replayBuffer is the read buffer: records are decoded while what was just
// read is still in the CPU's cache (64 KiB measured faster than 1 MiB).
const replayBuffer = 64 << 10

// replayInput is one input being read: its current record and its time.
type replayInput struct {
	path   string
	format engine.Format
	gzip   bool
	size   int64
	f      *os.File
	read   atomic.Int64 // bytes read from f (compressed ones for gzip), for progress
	br     *bufio.Reader

	line    int    // lines read
	rec     []byte // the current record; valid until next
	recLine int    // its first line
	at      time.Time
	buf     []byte // text: the block being gathered
	long    []byte // a line longer than br's buffer
	held    []byte // text: a header line read past the end of the block before it
	heldAt  int
	records int
	err     error                     // a read error that ended the file
	done    bool                      // no record left
	onBad   func(line int, err error) // reports a record skipped while reading
}

// openReplayInput opens path; a name ending in .log (before any .gz) is
// alerts.log text, anything else alerts.json lines. gzip is told by its
// magic bytes.
func openReplayInput(path string) (*replayInput, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	a := &replayInput{path: path, f: f, size: fi.Size()}
	if strings.HasSuffix(strings.TrimSuffix(path, ".gz"), ".log") {
		a.format = engine.FormatText
	}
	raw := bufio.NewReaderSize(replayCounter{f, &a.read}, replayBuffer)
	if magic, _ := raw.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(raw)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		a.gzip, a.br = true, bufio.NewReaderSize(gz, replayBuffer)
	} else {
		a.br = raw
	}
	return a, nil
}

func (a *replayInput) Close() error { return a.f.Close() }

// replayCounter counts the bytes read through it.
type replayCounter struct {
	r io.Reader
	n *atomic.Int64
}

func (c replayCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// errReplayTooLong is a record over replayMaxRecord, skipped.
var errReplayTooLong = fmt.Errorf("record longer than %d MiB skipped", replayMaxRecord>>20)

// next moves to the next record. It returns false at the end of the file
// or at a read error (kept in err); a record too long to read is reported
// through bad and skipped.
func (a *replayInput) next(bad func(line int, err error)) bool {
	for {
		var ok bool
		var err error
		if a.format == engine.FormatText {
			ok, err = a.nextBlock()
		} else {
			ok, err = a.nextLine()
		}
		if errors.Is(err, errReplayTooLong) {
			bad(a.recLine, err)
			continue
		}
		if err != nil {
			a.err = err
		}
		if ok {
			a.records++
		}
		return ok
	}
}

// readLine returns the next line without its line end; io.EOF when none is
// left. A line longer than br's buffer is gathered in long.
func (a *replayInput) readLine() ([]byte, error) {
	l, err := a.br.ReadSlice('\n')
	long := false
	if errors.Is(err, bufio.ErrBufferFull) {
		a.long = append(a.long[:0], l...)
		for errors.Is(err, bufio.ErrBufferFull) {
			l, err = a.br.ReadSlice('\n')
			if long = long || len(a.long)+len(l) > replayMaxRecord+2; !long {
				a.long = append(a.long, l...)
			}
		}
		l = a.long
	}
	if len(l) == 0 && err != nil {
		return nil, err
	}
	a.line++
	if long {
		a.recLine = a.line
		return nil, errReplayTooLong
	}
	l = bytes.TrimSuffix(l, []byte("\n"))
	return bytes.TrimSuffix(l, []byte("\r")), nil // the last line may lack its newline
}

// nextLine: in alerts.json a record is a non-empty line.
func (a *replayInput) nextLine() (bool, error) {
	for {
		l, err := a.readLine()
		if err != nil {
			return false, replayEOFNil(err)
		}
		if len(bytes.TrimSpace(l)) > 0 {
			a.rec, a.recLine = l, a.line
			return true, nil
		}
	}
}

// nextBlock: in alerts.log a record is a block from a "** Alert " line to
// an empty line (or the next header, or the end); lines outside are
// ignored.
func (a *replayInput) nextBlock() (bool, error) {
	a.buf = a.buf[:0]
	if a.held != nil {
		a.buf, a.recLine, a.held = append(a.buf, a.held...), a.heldAt, nil
	}
	for {
		l, err := a.readLine()
		switch {
		case errors.Is(err, errReplayTooLong):
			return false, err
		case err != nil:
			a.rec = a.buf
			return len(a.buf) > 0, replayEOFNil(err)
		case bytes.HasPrefix(l, []byte("** Alert ")) && len(a.buf) > 0:
			a.held, a.heldAt, a.rec = append([]byte(nil), l...), a.line, a.buf
			return true, nil
		case bytes.HasPrefix(l, []byte("** Alert ")):
			a.buf, a.recLine = append(a.buf, l...), a.line
		case len(a.buf) == 0:
			// outside a block
		case len(l) == 0:
			a.rec = a.buf
			return true, nil
		case len(a.buf)+len(l) >= replayMaxRecord:
			a.buf = a.buf[:0]
			return false, errReplayTooLong
		default:
			a.buf = append(append(a.buf, '\n'), l...)
		}
	}
}

func replayEOFNil(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
