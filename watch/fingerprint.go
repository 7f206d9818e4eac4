package watch

import (
	"bytes"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
)

// printLen is how many leading bytes of a file its fingerprint covers. The
// first line of alerts.json or alerts.log carries the alert's time to the
// millisecond and its ID, so two files of alerts do not start alike.
const printLen = 1024

// A position's FileID is the file's identity alone ("device:inode"), or the
// identity, "@" and the fingerprint in hex: FNV-1a of the file's first
// min(Offset, printLen) bytes. An identity can be reused once its file is
// deleted; identity and leading bytes together name one file's content. The
// FileID of a file's first records changes with their offset until printLen.

// withPrint returns the FileID of identity id with fingerprint fp.
func withPrint(id string, fp uint64) string {
	return id + "@" + strconv.FormatUint(fp, 16)
}

// parseID splits a FileID into the identity and the fingerprint, if any.
func parseID(fileID string) (id string, fp uint64, ok bool) {
	id, hex, found := strings.Cut(fileID, "@")
	if !found {
		return fileID, 0, false
	}
	fp, err := strconv.ParseUint(hex, 16, 64)
	return id, fp, err == nil
}

// posID returns the FileID of the file being read up to offset end: its
// identity and the fingerprint of its first bytes. It is cached, as it
// changes only for a file's first records.
func (r *run) posID(end int64) string {
	n := min(end, printLen)
	if r.idFor == r.cur && r.idLen == n {
		return r.idStr
	}
	id := r.cur.id
	if fp, ok := r.sp.head.print(n); ok {
		id = withPrint(id, fp)
	}
	r.idFor, r.idLen, r.idStr = r.cur, n, id
	return id
}

// printOf is the fingerprint of b, the leading bytes of a file.
func printOf(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// readHead reads the first n bytes of r, up to printLen: fewer if r is shorter.
func readHead(r io.ReaderAt, n int64) []byte {
	b := make([]byte, min(n, printLen))
	k, _ := r.ReadAt(b, 0)
	return b[:k]
}

// sameStart reports whether a and b agree on their common length, and that
// length is not zero: one may be a copy of the other, or of a part of it.
func sameStart(a, b []byte) bool {
	n := min(len(a), len(b))
	return n > 0 && bytes.Equal(a[:n], b[:n])
}

// head keeps the first bytes of the file being read, up to printLen, as they
// are read (or, when reading starts past them, as read back with load).
type head struct {
	b  []byte
	ok bool // b holds the file's bytes from offset 0 on
}

// reset forgets the bytes kept; reading continues at off.
func (h *head) reset(off int64) { h.b, h.ok = h.b[:0], off == 0 }

// add records p, read at file offset off.
func (h *head) add(off int64, p []byte) {
	if h.ok && off == int64(len(h.b)) && len(h.b) < printLen {
		h.b = append(h.b, p[:min(len(p), printLen-len(h.b))]...)
	}
}

// load reads back the first bytes of r, when reading starts at off > 0.
func (h *head) load(r io.ReaderAt, off int64) {
	want := min(off, printLen)
	h.b = append(h.b[:0], readHead(r, want)...)
	h.ok = int64(len(h.b)) == want
}

// print returns the fingerprint of the first min(off, printLen) bytes.
func (h *head) print(off int64) (uint64, bool) {
	n := min(off, printLen)
	if !h.ok || n <= 0 || int64(len(h.b)) < n {
		return 0, false
	}
	return printOf(h.b[:n]), true
}

// bytes returns the bytes kept, or nil when they are not the file's start.
func (h *head) bytes() []byte {
	if !h.ok {
		return nil
	}
	return h.b
}

// seen remembers the leading bytes of the last files read, to tell a copy of
// one of them (logrotate's copy, a manual backup) from a file never read.
type seen struct {
	heads [8][]byte
	next  int
}

func (s *seen) add(b []byte) {
	if len(b) == 0 {
		return
	}
	for i, h := range s.heads {
		if sameStart(h, b) { // the same file: keep the longer start
			if len(b) > len(h) {
				s.heads[i] = bytes.Clone(b)
			}
			return
		}
	}
	s.heads[s.next] = bytes.Clone(b)
	s.next = (s.next + 1) % len(s.heads)
}

// has reports whether b starts like one of the files read.
func (s *seen) has(b []byte) bool {
	for _, h := range s.heads {
		if sameStart(h, b) {
			return true
		}
	}
	return false
}
