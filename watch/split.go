package watch

import (
	"bytes"
	"io"
	"log/slog"

	"github.com/threatlockdown/threatlockdown/engine"
)

// alertHeader starts every block of Wazuh's text alerts.log.
var alertHeader = []byte("** Alert ")

const initialBuffer = 1 << 20 // read buffer; it grows for longer records

// splitter cuts the bytes of one file into records. It owns the read buffer:
// a record it returns points into the buffer and is valid until the next fill.
//
// Invariant: base+n is the file offset of the next byte to read, and buf[:n]
// holds bytes not yet handed out as records (or not yet known to be dropped).
type splitter struct {
	format engine.Format
	max    int // longest record kept; longer ones are skipped
	log    *slog.Logger

	buf   []byte
	base  int64 // file offset of buf[0]
	n     int   // bytes in buf
	line  int   // start of the line being scanned
	scan  int   // where the search for '\n' resumes
	block int   // start of the pending text block, -1 if none

	skipLine  bool // dropping the rest of an overlong line
	skipBlock bool // text: dropping lines up to the next empty line
	tail      mark // the last bytes read, to notice a file rewritten in place
	head      head // the file's first bytes, for its fingerprint
}

func newSplitter(format engine.Format, max int, log *slog.Logger) *splitter {
	s := &splitter{format: format, max: max, log: log, buf: make([]byte, min(initialBuffer, 2*max+4))}
	s.reset(0)
	return s
}

// reset forgets all buffered bytes; reading continues at file offset off.
func (s *splitter) reset(off int64) {
	s.base, s.n, s.line, s.scan, s.block = off, 0, 0, 0, -1
	s.skipLine, s.skipBlock = false, false
	s.tail.n = 0
	s.head.reset(off)
}

// offset is the file offset of the next byte to read.
func (s *splitter) offset() int64 { return s.base + int64(s.n) }

// pending is the number of buffered bytes of an incomplete record.
func (s *splitter) pending() int { return s.n - s.keep() }

// keep is the index of the first byte that must stay buffered.
func (s *splitter) keep() int {
	if s.block >= 0 {
		return s.block
	}
	return s.line
}

// fill reads once from r into the buffer. It reports the bytes read and
// whether the read was short, which for a regular file means end of file.
func (s *splitter) fill(r io.Reader) (k int, short bool, err error) {
	s.room()
	want := len(s.buf) - s.n
	k, err = r.Read(s.buf[s.n:])
	s.tail.add(s.buf[s.n : s.n+k])
	s.head.add(s.base+int64(s.n), s.buf[s.n:s.n+k])
	s.n += k
	return k, k < want, err
}

// unread takes back the last fill, of k bytes, and the tail before it.
func (s *splitter) unread(k int, tail mark) {
	s.n -= k
	s.scan = min(s.scan, s.n)
	s.tail = tail
	if end := s.offset(); s.head.ok && int64(len(s.head.b)) > end {
		s.head.b = s.head.b[:end]
	}
}

// next returns the next complete record in the buffer and the file offset
// just past it; ok is false when the buffer holds no further complete record.
func (s *splitter) next() (rec []byte, end int64, ok bool) {
	for {
		i := bytes.IndexByte(s.buf[s.scan:s.n], '\n')
		if i < 0 {
			s.scan = s.n
			return nil, 0, false
		}
		nl := s.scan + i
		start := s.line
		s.line, s.scan = nl+1, nl+1
		var stop int
		if s.format == engine.FormatText {
			rec, stop, ok = s.takeText(start, nl)
		} else {
			rec, stop, ok = s.takeJSON(start, nl)
		}
		if ok {
			return rec, s.base + int64(stop), true
		}
	}
}

// takeJSON handles the line buf[start:nl]: one line, one record.
func (s *splitter) takeJSON(start, nl int) ([]byte, int, bool) {
	if s.skipLine {
		s.skipLine = false
		return nil, 0, false
	}
	if nl-start > s.max {
		s.skipped(start)
		return nil, 0, false
	}
	l := trimCR(s.buf[start:nl])
	return l, nl + 1, len(l) > 0
}

// takeText handles the line buf[start:nl] of alerts.log: a block starts at a
// "** Alert " line and ends at an empty line (or, defensively, at the next
// header). Lines outside a block are ignored.
func (s *splitter) takeText(start, nl int) ([]byte, int, bool) {
	long := s.skipLine
	s.skipLine = false
	l := trimCR(s.buf[start:nl])
	empty := !long && len(l) == 0
	header := !long && bytes.HasPrefix(l, alertHeader)
	switch {
	case s.skipBlock:
		s.skipBlock = !empty
		return nil, 0, false
	case s.block < 0:
		if header {
			s.block = start
		}
		return nil, 0, false
	case empty:
		b := s.block
		s.block = -1
		if start-1-b > s.max {
			s.skipped(b)
			return nil, 0, false
		}
		return cleanBlock(s.buf[b : start-1]), nl + 1, true
	case header:
		b := s.block
		s.block = start
		s.log.Warn("alert block without its closing empty line", "offset", s.base+int64(b))
		if start-1-b > s.max {
			s.skipped(b)
			return nil, 0, false
		}
		return cleanBlock(s.buf[b : start-1]), start, true
	}
	return nil, 0, false
}

// room makes space in the buffer for the next read: it starts over when
// nothing is pending, skips a record over the cap, compacts or grows.
func (s *splitter) room() {
	keep := s.keep()
	if keep == s.n {
		s.base += int64(s.n)
		s.n, s.line, s.scan = 0, 0, 0
		return
	}
	pending := s.n - keep
	switch {
	case pending > s.max+2: // +2: the line end and the '\r' of an empty line
		s.overflow()
	case len(s.buf)-s.n >= len(s.buf)/4:
	case keep > 0 && pending <= len(s.buf)/2:
		s.moveTo(s.buf, keep)
	default:
		s.moveTo(make([]byte, min(2*len(s.buf), 2*s.max+4)), keep)
	}
}

// overflow drops the pending record, which is longer than the cap, and
// arranges for the rest of it to be dropped as it is read.
func (s *splitter) overflow() {
	if !s.skipLine && !s.skipBlock { // else this record was logged already
		s.skipped(s.keep())
	}
	if s.block >= 0 {
		s.block = -1
		s.skipBlock = true
	}
	if s.n-s.line > s.max+2 { // the current line alone is too long
		s.skipLine = true
		s.line, s.scan = s.n, s.n
	}
	buf := s.buf
	if len(buf) > initialBuffer && s.n-s.line <= initialBuffer/2 {
		buf = make([]byte, initialBuffer)
	}
	s.moveTo(buf, s.line)
}

// skipped logs a complete record over the limit, dropped.
func (s *splitter) skipped(start int) {
	s.log.Warn("record longer than the limit skipped", "offset", s.base+int64(start), "limit", s.max)
}

// moveTo copies the bytes from index keep on to the start of buf (which may
// be s.buf) and makes buf the buffer.
func (s *splitter) moveTo(buf []byte, keep int) {
	copy(buf, s.buf[keep:s.n])
	s.buf = buf
	s.base += int64(keep)
	s.n -= keep
	s.line -= keep
	s.scan -= keep
	if s.block >= 0 {
		s.block -= keep
	}
}

// trimCR drops one trailing carriage return.
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// cleanBlock turns CRLF line ends of a text block into LF, in place.
func cleanBlock(b []byte) []byte {
	b = trimCR(b)
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	out := b[:0]
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return append(out, b...)
		}
		out = append(append(out, trimCR(b[:i])...), '\n')
		b = b[i+1:]
	}
	return out
}
