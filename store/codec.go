package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Record formats: the first byte of every entry, job and position value.
// A change to a layout below takes a new format number (and a schema
// version, see db.go), so that an old file is refused, never misread.
// Entry format 1 (schema 2, with Params inside) is read only by the
// migration (migrate.go).
const (
	entryFormat    = 2
	jobFormat      = 1
	positionFormat = 1
)

// An entry is
//
//	u8 format, u64 Seq, time Expires, time Created   (fixed: see decodeHead)
//	varint Offences, uvarint Job, then the body
//
// a job is
//
//	u8 format, varint Timeout, uvarint n, n x varint Repeated, then the
//	body, then bytes Params (the rest of the value)
//
// and the body, shared by both, is
//
//	varint Protocol, varint Line, u8 flags (1: TimeoutAllowed, 2: an
//	<expect> was given, 4, 8, 16: it names srcip, user, filename), uvarint n,
//	strings Lane, Name, Executable, User, SrcIP, AlertID, RuleID, Location,
//	Filename, then n x ExtraArgs.
//
// An entry's Params are not in its record but in the params bucket (see
// params.go), so that Load reads about a hundred bytes an entry.
//
// A position is u8 format, varint Offset, string FileID.
const (
	flagTimeoutAllowed = 1 << iota
	flagExpect         // an <expect> was given; the bits after it name its fields
)

// expectFields are the fields <expect> may name, flag bit 2 on, in the
// order the legacy argv carries them ("username" is read as user).
var expectFields = [...]string{"srcip", "user", "filename"}

// expectLists are the decoded Command.Expect of each flags value. Records
// written before <expect> was kept have the bits clear: "not given".
var expectLists = func() (l [1 << len(expectFields)][]string) {
	for bits := range l {
		l[bits] = []string{}
		for i, f := range expectFields {
			if bits&(1<<i) != 0 {
				l[bits] = append(l[bits], f)
			}
		}
	}
	return l
}()

// expectFlags encodes Command.Expect in the body's flags byte.
func expectFlags(expect []string) byte {
	if expect == nil {
		return 0
	}
	f := byte(flagExpect)
	for _, v := range expect {
		if v == "username" {
			v = "user"
		}
		for i, name := range expectFields {
			if v == name {
				f |= flagExpect << (1 + i)
			}
		}
	}
	return f
}

// expectOf decodes Command.Expect, in expectFields order, in fresh memory.
func expectOf(flags byte) []string {
	if flags&flagExpect == 0 {
		return nil
	}
	return slices.Clone(expectLists[flags>>2&(1<<len(expectFields)-1)])
}

// headSize is the fixed prefix of an entry: format, Seq and Expires.
const headSize = 1 + 8 + 12

// encodeEntry encodes e without its Params.
func encodeEntry(e engine.Entry) ([]byte, error) {
	b := make([]byte, 0, 96+len(e.Key)+len(e.Lane)+fieldsLen(e.Fields))
	b = append(b, entryFormat)
	b = appendU64(b, e.Seq)
	b = appendTime(b, e.Expires)
	b = appendTime(b, e.Created)
	b = binary.AppendVarint(b, int64(e.Offences))
	b = binary.AppendUvarint(b, e.Job)
	return appendBody(b, e.Lane, e.Command, e.Fields), nil
}

// decodeEntry decodes the entry stored under key; its Params are nil.
func decodeEntry(key string, v []byte) (engine.Entry, error) { return decodeEntryIn(key, v, nil) }

// decodeEntryIn is decodeEntry with the entry's Command taken from cmds
// when an entry decoded before had the same (see commandCache).
func decodeEntryIn(key string, v []byte, cmds *commandCache) (engine.Entry, error) {
	r := reader{b: v, cmds: cmds}
	r.version(entryFormat)
	e := engine.Entry{Key: key, Seq: r.u64(), Expires: r.time(), Created: r.time()}
	e.Offences = int(r.varint())
	e.Job = r.uvarint()
	e.Lane, e.Command, e.Fields = r.body()
	if err := r.end(); err != nil {
		return engine.Entry{}, fmt.Errorf("decode entry %q: %w", key, err)
	}
	return e, nil
}

// entryHead is the part of a stored entry that Apply needs.
type entryHead struct {
	Seq     uint64
	Expires time.Time
}

func decodeHead(key []byte, v []byte) (entryHead, error) {
	r := reader{b: v[:min(len(v), headSize)]}
	r.version(entryFormat)
	h := entryHead{Seq: r.u64(), Expires: r.time()}
	if r.err != nil {
		return entryHead{}, fmt.Errorf("decode entry %q: %w", key, r.err)
	}
	return h, nil
}

func encodeJob(j engine.Job) ([]byte, error) {
	b := make([]byte, 0, 64+len(j.Lane)+len(j.Params)+fieldsLen(j.Fields))
	b = append(b, jobFormat)
	b = binary.AppendVarint(b, int64(j.Timeout))
	b = binary.AppendUvarint(b, uint64(len(j.Repeated)))
	for _, d := range j.Repeated {
		b = binary.AppendVarint(b, int64(d))
	}
	b = appendBody(b, j.Lane, j.Command, j.Fields)
	return appendBytes(b, j.Params), nil
}

func decodeJob(id uint64, v []byte) (engine.Job, error) {
	r := reader{b: v}
	r.version(jobFormat)
	j := engine.Job{ID: id, Timeout: time.Duration(r.varint())}
	if n := r.count(); n > 0 {
		j.Repeated = make([]time.Duration, n)
		for i := range j.Repeated {
			j.Repeated[i] = time.Duration(r.varint())
		}
	}
	j.Lane, j.Command, j.Fields = r.body()
	j.Params = r.copyBytes()
	if err := r.end(); err != nil {
		return engine.Job{}, fmt.Errorf("decode job %d: %w", id, err)
	}
	return j, nil
}

func encodePosition(p engine.Position) ([]byte, error) {
	b := append(make([]byte, 0, 16+len(p.FileID)), positionFormat)
	b = binary.AppendVarint(b, p.Offset)
	return appendString(b, p.FileID), nil
}

func decodePosition(source string, v []byte) (engine.Position, error) {
	r := reader{b: v}
	r.version(positionFormat)
	p := engine.Position{Source: source, Offset: r.varint(), FileID: string(r.bytes())}
	if err := r.end(); err != nil {
		return engine.Position{}, fmt.Errorf("decode position %q: %w", source, err)
	}
	return p, nil
}

// fixedStrings is how many strings every body holds before its ExtraArgs.
const fixedStrings = 9

func fieldsLen(f engine.Fields) int {
	return len(f.User) + len(f.SrcIP) + len(f.AlertID) + len(f.RuleID) + len(f.Location) + len(f.Filename)
}

// appendBody appends what entries and jobs share (the layout above). A nil
// c is written as the zero Command.
func appendBody(b []byte, lane string, cp *engine.Command, f engine.Fields) []byte {
	var c engine.Command
	if cp != nil {
		c = *cp
	}
	b = binary.AppendVarint(b, int64(c.Protocol))
	b = binary.AppendVarint(b, int64(c.Line))
	flags := expectFlags(c.Expect)
	if c.TimeoutAllowed {
		flags |= flagTimeoutAllowed
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(c.ExtraArgs)))
	for _, s := range [fixedStrings]string{lane, c.Name, c.Executable, f.User, f.SrcIP, f.AlertID, f.RuleID, f.Location, f.Filename} {
		b = appendString(b, s)
	}
	for _, s := range c.ExtraArgs {
		b = appendString(b, s)
	}
	return b
}

// body reads what appendBody wrote. Its lane and fields share one
// allocation; its Command is shared with an earlier record's through
// r.cmds, if set, and then costs nothing.
func (r *reader) body() (lane string, cmd *engine.Command, f engine.Fields) {
	var k commandKey // aliases the record
	k.protocol = engine.Protocol(r.varint())
	k.line = int(r.varint())
	k.flags = r.u8()
	n := r.count()
	var raw [fixedStrings][]byte
	for i := range raw {
		raw[i] = r.bytes()
	}
	var extra [4][]byte
	k.extra = extra[:0]
	for range n {
		k.extra = append(k.extra, r.bytes())
	}
	if r.err != nil {
		return "", nil, engine.Fields{}
	}
	k.name, k.executable = raw[1], raw[2]
	var s [fixedStrings - 2]string
	joinStrings(s[:], raw[0], raw[3], raw[4], raw[5], raw[6], raw[7], raw[8])
	f = engine.Fields{User: s[1], SrcIP: s[2], AlertID: s[3], RuleID: s[4], Location: s[5], Filename: s[6]}
	return s[0], r.cmds.intern(&k), f
}

// joinStrings sets dst[i] to parts[i], all in one allocation.
func joinStrings(dst []string, parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range parts {
		b.Write(p)
	}
	all, off := b.String(), 0
	for i, p := range parts {
		dst[i], off = all[off:off+len(p)], off+len(p)
	}
}

// commandKey is a stored command as read, aliasing its record.
type commandKey struct {
	protocol         engine.Protocol
	line             int
	flags            byte // TimeoutAllowed and Expect (see expectFlags)
	name, executable []byte
	extra            [][]byte
}

// command returns the Command k stands for, in fresh memory.
func (k *commandKey) command() *engine.Command {
	c := &engine.Command{
		Name: string(k.name), Executable: string(k.executable),
		TimeoutAllowed: k.flags&flagTimeoutAllowed != 0, Expect: expectOf(k.flags),
		Protocol: k.protocol, Line: k.line,
	}
	if len(k.extra) > 0 {
		c.ExtraArgs = make([]string, len(k.extra))
		for i, e := range k.extra {
			c.ExtraArgs[i] = string(e)
		}
	}
	return c
}

// is reports whether c, stored with flags, is the command k stands for.
func (k *commandKey) is(c *engine.Command, flags byte) bool {
	if flags != k.flags || c.Protocol != k.protocol || c.Line != k.line ||
		c.Name != string(k.name) || c.Executable != string(k.executable) || len(c.ExtraArgs) != len(k.extra) {
		return false
	}
	for i, e := range k.extra {
		if c.ExtraArgs[i] != string(e) {
			return false
		}
	}
	return true
}

// commandCache shares one Command among the entries that Load decodes: a
// command's entries are stored one after the other (their keys start with
// its executable), so a few recent commands find nearly all of them, and
// 100,000 entries of one command hold one Command, not 100,000 copies of
// it (104 bytes each, its strings and its ExtraArgs).
type commandCache struct {
	recent []cachedCommand // newest last
}

type cachedCommand struct {
	flags byte
	cmd   *engine.Command
}

// commandCacheSize bounds the commands a commandCache keeps.
const commandCacheSize = 8

// intern returns the Command k stands for: one from the cache, or a new
// one, then cached. A nil cache always returns a new one. Nothing of k is
// kept: it aliases the record.
func (cc *commandCache) intern(k *commandKey) *engine.Command {
	if cc == nil {
		return k.command()
	}
	for i := len(cc.recent) - 1; i >= 0; i-- {
		if k.is(cc.recent[i].cmd, cc.recent[i].flags) {
			return cc.recent[i].cmd
		}
	}
	c := k.command()
	if len(cc.recent) == commandCacheSize {
		cc.recent = slices.Delete(cc.recent, 0, 1)
	}
	cc.recent = append(cc.recent, cachedCommand{flags: k.flags, cmd: c})
	return c
}

// expiryNanos is the sort position of an expiry time: unix nanoseconds,
// clamped to [0, MaxInt64] so that the zero time and anything before 1970
// sort first and the big-endian bytes order like the times.
func expiryNanos(t time.Time) uint64 {
	if t.IsZero() || t.Unix() < 0 {
		return 0
	}
	if t.Unix() >= math.MaxInt64/int64(time.Second) {
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// expiryKey is the expiry index key of an entry: 8 bytes of expiryNanos,
// big-endian, then the entry key.
func expiryKey(expires time.Time, key string) []byte {
	b := make([]byte, 8, 8+len(key))
	binary.BigEndian.PutUint64(b, expiryNanos(expires))
	return append(b, key...)
}

func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func btoi(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("want 8 bytes, have %d", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}
