package watch

import "io"

// While running, the tailer follows renames through the files it holds open.
// Two things escape that: copytruncate, where the unread end of the file is
// in a copy, and files renamed away before the tailer could open them. Both
// leave rotated files next to the alerts file (or in the archive) that the
// tailer has not read. It looks for them when the file it reads starts over:
// when it is truncated (rewound), and when the first bytes of a file read
// from its start come in (missed).

// forget is how many moves a file read stays known once it is not seen.
const forget = 64

// unseen lists the rotated files that appeared since the last look: not
// known, not being read, not queued. Known files that are gone are forgotten
// after a while (a new file may get the identity of a deleted one); a file
// read recently is kept, as it may be renamed to a rotated name only later.
func (r *run) unseen() []rotated {
	files := listRotated(r.t.path, false)
	active := make(map[string]bool)
	if r.cur != nil {
		active[r.cur.id] = true
	}
	for _, s := range r.backlog {
		active[s.id] = true
	}
	for _, id := range r.disc.ids() {
		active[id] = true
	}
	known := make(map[string]int, len(files))
	for id, when := range r.known {
		if r.moves-when < forget {
			known[id] = when
		}
	}
	var out []rotated
	for _, f := range files {
		if _, ok := r.known[f.id]; ok || active[f.id] {
			known[f.id] = r.moves
			continue
		}
		out = append(out, f)
	}
	r.known = known
	return out
}

// sortOut opens the files that hold alerts not read, in order, and records
// them as known, with the copies of files read. It stops at the first copy
// of the file now at the path (its first bytes: now), which may still be
// being written: that copy and any later file are left for a later look,
// when the file is truncated. A newest file still empty is left too.
func (r *run) sortOut(files []rotated, now []byte) []*source {
	var out []*source
	for i, f := range files {
		if _, ok := r.known[f.id]; ok {
			continue
		}
		s := f.open(r.t.path)
		if s == nil {
			continue
		}
		b := readHead(s.f, printLen)
		switch {
		case sameStart(b, now), len(b) == 0 && i == len(files)-1:
			s.f.Close()
			return out
		case len(b) == 0 || r.past.has(b):
			s.f.Close()
		default:
			out = append(out, s)
		}
		r.known[f.id] = r.moves
	}
	return out
}

// missed is called when the first bytes of a file read from its start are
// in. If that is the newest file, rotated files that appeared since the last
// look and start neither like it nor like a file read before held alerts
// that came and went unread: a copytruncate before the tailer read anything
// of the file, or a file renamed away faster than it could be opened. They
// are read first, and this file after them; missed reports whether there
// were any.
func (r *run) missed() bool {
	if len(r.backlog) > 0 || len(r.disc.ids()) > 0 {
		return false
	}
	older := r.sortOut(r.unseen(), r.sp.head.bytes())
	if len(older) == 0 {
		return false
	}
	r.log.Warn("alerts files were rotated away before they were read; reading them first",
		"files", len(older), "first", older[0].f.Name())
	r.backlog = append(older[1:], r.cur)
	r.setCur(older[0], 0)
	return true
}

// rewound handles the file being read found truncated or rewritten after
// off bytes of it were read: copytruncate, most likely. What was not read
// is in the copy made before the truncation, if there is one: a rotated
// file at least off long, with the same first bytes and the same bytes
// before off. Reading goes on in the copy at off, then in any other file
// rotated away unread, then in this file from its start.
func (r *run) rewound(off int64) {
	live := r.cur
	files := r.unseen()
	cp := r.copyOf(files, off)
	r.past.add(r.sp.head.bytes())
	r.backlog = append(append(r.sortOut(files, readHead(live.f, printLen)), live), r.backlog...)
	if cp != nil && r.switchTo(cp, off) {
		return
	}
	if off > 0 {
		r.log.Warn("alerts file truncated and no copy of it found; reading it from the start", "offset", off)
	}
	next := r.backlog[0]
	r.backlog = r.backlog[1:]
	r.setCur(next, 0)
}

// copyOf returns the file among files that is a copy of the file being read
// up to off, open, or nil.
func (r *run) copyOf(files []rotated, off int64) *source {
	fp, ok := r.sp.head.print(off)
	if !ok {
		return nil
	}
	for _, f := range files {
		if f.size < off {
			continue
		}
		s := f.open(r.t.path)
		if s == nil {
			continue
		}
		if holds(s.f, s.size(), off, fp, true) && r.sp.tail.matches(s.f, off) {
			r.known[f.id] = r.moves
			return s
		}
		s.f.Close()
	}
	return nil
}

// switchTo goes on reading in s, a copy of the file being read, at off. The
// splitter keeps its state: the bytes before off are the same.
func (r *run) switchTo(s *source, off int64) bool {
	if _, err := s.f.Seek(off, io.SeekStart); err != nil {
		r.log.Warn("seeking in the copy of the alerts file", "name", s.f.Name(), "err", err)
		s.f.Close()
		return false
	}
	r.log.Info("alerts file copied and truncated; reading the rest from the copy", "name", s.f.Name(), "offset", off)
	r.cur = s
	r.idFor = nil
	r.moves++
	return true
}
