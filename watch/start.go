package watch

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"

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
	if head == nil {
		r.log.Info("alerts file does not exist yet; waiting for it")
	}
	switch {
	case st.FileID == "":
		if head != nil {
			r.atEnd(r.disc.take(true))
		}
	case head != nil && head.id == st.FileID:
		r.resume(r.disc.take(true), st.Offset)
	default:
		r.drainRotated(st.FileID, st.Offset)
	}
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
	if size := s.size(); off > size {
		r.log.Warn("alerts file shorter than the stored position: truncated, reading it from the start",
			"file_id", s.id, "offset", off, "size", size)
		off = 0
	}
	r.setCur(s, off)
	r.log.Info("resuming alerts file", "file_id", s.id, "offset", off)
}

// drainRotated finds the file read before, rotated away since, to read it
// from off to its end before the file now at the path.
func (r *run) drainRotated(id string, off int64) {
	old := findRotated(r.t.path, id)
	if old == nil {
		r.log.Warn("alerts file read before was rotated and is gone; its unread end is lost",
			"file_id", id, "offset", off)
		return
	}
	if size := old.size(); off > size {
		r.log.Warn("rotated alerts file shorter than the stored position; not read",
			"name", old.f.Name(), "file_id", id, "offset", off, "size", size)
		old.f.Close()
		return
	}
	r.log.Info("reading the rest of the rotated alerts file", "name", old.f.Name(), "file_id", id, "offset", off)
	r.setCur(old, off)
}

// findRotated looks for the file with identity id next to path and in
// Wazuh's archive directories <dir>/YYYY/Mon/, newest month first, and
// returns it open, or nil.
func findRotated(path, id string) *source {
	for _, dir := range append([]string{filepath.Dir(path)}, archiveDirs(filepath.Dir(path))...) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			name := filepath.Join(dir, e.Name())
			if !e.Type().IsRegular() || name == filepath.Clean(path) {
				continue
			}
			if got, err := pathID(name); err != nil || got != id {
				continue
			}
			if s := openSource(name); s != nil {
				if s.id == id {
					return s
				}
				s.f.Close()
			}
		}
	}
	return nil
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

var months = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// archiveDirs lists dir/YYYY/Mon directories, newest first.
func archiveDirs(dir string) []string {
	type month struct {
		key  int
		path string
	}
	var found []month
	years, _ := os.ReadDir(dir)
	for _, y := range years {
		year, err := strconv.Atoi(y.Name())
		if !y.IsDir() || len(y.Name()) != 4 || err != nil {
			continue
		}
		ms, _ := os.ReadDir(filepath.Join(dir, y.Name()))
		for _, m := range ms {
			if i := slices.Index(months, m.Name()); i >= 0 && m.IsDir() {
				found = append(found, month{year*12 + i, filepath.Join(dir, y.Name(), m.Name())})
			}
		}
	}
	slices.SortFunc(found, func(a, b month) int { return b.key - a.key })
	out := make([]string, len(found))
	for i, m := range found {
		out[i] = m.path
	}
	return out
}
