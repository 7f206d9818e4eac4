package watch

import (
	"bytes"
	"io"
)

// mark remembers the last bytes read from a file. A log only grows, so these
// bytes never change; if they read differently later, the file was truncated
// and written again past the old offset, which its size alone cannot tell.
// The check is cheap (one 64-byte pread) but not certain: a rewrite that
// happens to repeat the same bytes there goes unnoticed.
type mark struct {
	b [64]byte
	n int
}

// add records p as the latest bytes read.
func (m *mark) add(p []byte) {
	if len(p) >= len(m.b) {
		m.n = copy(m.b[:], p[len(p)-len(m.b):])
		return
	}
	keep := min(m.n, len(m.b)-len(p))
	copy(m.b[:keep], m.b[m.n-keep:m.n])
	m.n = keep + copy(m.b[keep:], p)
}

// matches reports whether r still holds the remembered bytes just before off.
// It reports true when it cannot tell.
func (m *mark) matches(r io.ReaderAt, off int64) bool {
	if m.n == 0 || off < int64(m.n) {
		return true
	}
	var got [len(mark{}.b)]byte
	k, err := r.ReadAt(got[:m.n], off-int64(m.n))
	if k < m.n {
		return err != nil && err != io.EOF // a short read means the file shrank
	}
	return bytes.Equal(got[:m.n], m.b[:m.n])
}
