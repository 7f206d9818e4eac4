package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The records are built from a few primitives: fixed-width big-endian
// integers where a reader wants them at a known offset, varints elsewhere,
// times as seconds (int64) and nanoseconds (uint32) since 1970, exact for
// every time.Time, and byte strings as a uvarint length then the bytes.

// errShort is a record that ends inside a field.
var errShort = errors.New("record truncated")

func appendU64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func appendTime(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes a record front to back. The first failure sticks: later
// reads return zero values, and err says what went wrong.
type reader struct {
	b    []byte
	off  int
	err  error
	cmds *commandCache // shares decoded Commands (see body); nil: none shared
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: %w", r.off, err)
	}
}

// take returns the next n bytes, aliasing the record.
func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail(errShort)
		return nil
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *reader) u8() byte {
	if s := r.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (r *reader) u64() uint64 {
	if s := r.take(8); s != nil {
		return binary.BigEndian.Uint64(s)
	}
	return 0
}

func (r *reader) time() time.Time {
	sec := int64(r.u64())
	s := r.take(4)
	if s == nil {
		return time.Time{}
	}
	nsec := binary.BigEndian.Uint32(s)
	if nsec >= 1e9 {
		r.fail(fmt.Errorf("nanoseconds %d out of range", nsec))
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail(errors.New("bad uvarint"))
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail(errors.New("bad varint"))
		return 0
	}
	r.off += n
	return v
}

// count reads a number of items that follow, each at least one byte long,
// so that a corrupt count cannot ask for more memory than the record holds.
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.off) {
		r.fail(fmt.Errorf("count %d exceeds the record", n))
		return 0
	}
	return int(n)
}

// bytes returns the next length-prefixed byte string, aliasing the record.
func (r *reader) bytes() []byte { return r.take(r.uvarint()) }

// copyBytes returns the next byte string in fresh memory; empty is nil.
func (r *reader) copyBytes() []byte {
	s := r.bytes()
	if len(s) == 0 {
		return nil
	}
	return append([]byte(nil), s...)
}

// version reads the format byte and checks it.
func (r *reader) version(want byte) {
	if v := r.u8(); r.err == nil && v != want {
		r.fail(fmt.Errorf("record format %d, want %d", v, want))
	}
}

// end checks that the record was read to its last byte.
func (r *reader) end() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail(fmt.Errorf("%d bytes left over", len(r.b)-r.off))
	}
	return r.err
}
