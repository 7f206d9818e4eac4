package watch

import (
	"io"

	"github.com/threatlockdown/threatlockdown/engine"
)

// begin chooses where reading starts, from the Tailer's start position.
func (r *run) begin() {
	st := r.t.start
	if st.Source != "" && st.Source != r.t.path {
		r.log.Warn("stored position is for another file; starting afresh", "source", st.Source)
		st = engine.Position{}
	}
	r.disc.poll()
	head := r.disc.peek() // the file at the path now, if any
	var now []byte        // its first bytes
	if head == nil {
		r.log.Info("alerts file does not exist yet; waiting for it")
	} else {
		now = readHead(head.f, printLen)
	}
	files := listRotated(r.t.path, true)
	id, fp, hasPrint := parseID(st.FileID)
	switch {
	case st.FileID == "":
		if head != nil {
			r.atEnd(r.disc.take(true))
		}
	case head != nil && head.id == id && holds(head.f, head.size(), st.Offset, fp, hasPrint):
		r.resume(r.disc.take(true), st.Offset)
	default:
		r.drainRotated(files, id, fp, hasPrint, st.Offset, head, now)
	}
	r.settle(files, now)
}

// atEnd starts at the end of s (a first start: old alerts are not acted on).
// Should s end inside a line, the rest of that line is skipped.
func (r *run) atEnd(s *source) {
	size := max(s.size(), 0)
	r.setCur(s, size)
	var last [1]byte
	if size > 0 {
		if _, err := s.f.ReadAt(last[:], size-1); err == nil && last[0] != '\n' {
			r.sp.skipLine = true
		}
	}
	r.log.Info("first start: reading new alerts only", "file_id", s.id, "offset", size)
}

// resume continues the file read before at off.
func (r *run) resume(s *source, off int64) {
	if size := s.size(); off > size { // truncated since begin looked
		r.log.Warn("alerts file shorter than the stored position: truncated, reading it from the start",
			"file_id", s.id, "offset", off, "size", size)
		off = 0
	}
	r.setCur(s, off)
	r.log.Info("resuming alerts file", "file_id", s.id, "offset", off)
}

// holds reports whether the file r of the given size holds what was read up
// to off: it is that long and, when the fingerprint is known, starts with
// the same bytes.
func holds(r io.ReaderAt, size, off int64, fp uint64, hasPrint bool) bool {
	if size < off {
		return false
	}
	if !hasPrint {
		return true
	}
	b := readHead(r, off)
	return int64(len(b)) == min(off, printLen) && printOf(b) == fp
}

// drainRotated finds what was read before in a rotated file, the file itself
// renamed or else a copy of it (copytruncate), to read it on from off, then
// every file rotated away after it, in order, then the file at the path.
func (r *run) drainRotated(files []rotated, id string, fp uint64, hasPrint bool, off int64, head *source, now []byte) {
	i := holding(files, id, fp, hasPrint, off)
	var old *source
	if i >= 0 {
		old = files[i].open(r.t.path)
	}
	if old == nil {
		r.lost(id, off, head)
		return
	}
	r.log.Info("reading the rest of the rotated alerts file", "name", old.f.Name(), "file_id", old.id, "offset", off)
	r.setCur(old, off)
	r.past.add(r.sp.head.bytes())
	for _, f := range files[:i+1] {
		r.known[f.id] = r.moves // older than what was read
	}
	var newer []rotated
	for _, f := range files[i+1:] {
		if f.named && (head == nil || f.id != head.id) {
			newer = append(newer, f)
		}
	}
	r.backlog = r.sortOut(newer, now)
	if len(r.backlog) > 0 {
		r.log.Info("alerts file rotated while stopped; reading the files rotated since", "files", len(r.backlog))
	}
}

// holding returns the index in files of the one that holds what was read up
// to off: the file with identity id and the same leading bytes, or else the
// newest rotated file with the same leading bytes (a copy); -1 if none.
func holding(files []rotated, id string, fp uint64, hasPrint bool, off int64) int {
	found := -1
	for i, f := range files {
		if f.id != id && (!hasPrint || !f.named) || f.size < off {
			continue
		}
		s := openSource(f.name)
		if s == nil {
			continue
		}
		ok := holds(s.f, s.size(), off, fp, hasPrint)
		s.f.Close()
		switch {
		case ok && f.id == id:
			return i
		case ok:
			found = i
		}
	}
	return found
}

// lost reports a stored position whose file is nowhere to be found: rotated
// and then deleted or compressed, or replaced in place.
func (r *run) lost(id string, off int64, head *source) {
	if head != nil && head.id == id {
		r.log.Warn("alerts file is not the one read before (truncated, or its identity reused); reading it from the start",
			"file_id", id, "offset", off, "size", head.size())
		r.setCur(r.disc.take(true), 0)
		return
	}
	r.log.Warn("alerts file read before was rotated and is gone; its unread end is lost",
		"file_id", id, "offset", off)
}

// settle records the rotated files there are at the start as dealt with,
// save those that may be copies of the file at the path (its first bytes:
// now) still being written: a later truncation will find them.
func (r *run) settle(files []rotated, now []byte) {
	for _, f := range files {
		if _, ok := r.known[f.id]; !f.named || ok {
			continue
		}
		if s := f.open(r.t.path); s != nil {
			b := readHead(s.f, printLen)
			s.f.Close()
			if len(b) == 0 || sameStart(b, now) {
				continue
			}
		}
		r.known[f.id] = r.moves
	}
}

func openSource(name string) *source {
	f, err := openShared(name)
	if err != nil {
		return nil
	}
	id, err := fileID(f)
	if err != nil {
		f.Close()
		return nil
	}
	return &source{f: f, id: id}
}
