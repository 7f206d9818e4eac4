package store

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// This file is the encoder of Params format 2: a raw DEFLATE stream (RFC
// 1951) primed with the preset dictionary, which compress/flate reads back
// (inflate). It is ours rather than flate.Writer because a Params value is
// small and encoded alone: flate.Writer at the levels that use a dictionary
// clears its 640 KB of hash tables and hashes the 2.9 KB dictionary again
// for every value, which cost more than compressing the 1.8 KB alert itself
// (34-44 µs an alert, on the engine's writer goroutine in a storm). Here
// the dictionary is hashed once, the tables are small, and the stream is
// one block of the fixed Huffman codes, which for an alert mostly made of
// dictionary matches stores within 8% of flate's level 6 with its own code
// tables (see BenchmarkParams and TestParams_Size). The constants below
// were chosen on BenchmarkParams: the chain length barely matters; taking
// matches of 16 bytes at once and chaining only the last positions of a
// long match made encoding 7.2 µs -> 4.5 µs for 255 -> 257 bytes.

const (
	dfHashBits  = 12
	dfHashSize  = 1 << dfHashBits
	dfMinMatch  = 4     // hashed on 4 bytes; DEFLATE allows 3
	dfMaxMatch  = 258   // longest DEFLATE match
	dfMaxDist   = 32768 // DEFLATE's window
	dfMaxChain  = 16    // candidates tried per position
	dfNiceLen   = 16    // a match this long is taken without looking further
	dfMaxInsert = 8     // a match longer chains only its last positions
)

// dfTables are the dictionary's hash chains, built once: a position p of
// the dictionary is chained in head/prev as p+1 (0 ends a chain).
var dfTables = sync.OnceValue(func() *dfState {
	s := &dfState{win: append([]byte(nil), paramsDict...)}
	s.prev = make([]int32, len(paramsDict))
	for i := 0; i+dfMinMatch <= len(paramsDict); i++ {
		s.insert(i)
	}
	return s
})

// dfState is the matcher's state for one value: the window (dictionary,
// then the value), the newest position of each hash and each position's
// older neighbour on its chain.
type dfState struct {
	head [dfHashSize]int32
	prev []int32
	win  []byte
}

var dfPool = sync.Pool{New: func() any { return new(dfState) }}

func dfHash(b []byte) uint32 {
	return (binary.LittleEndian.Uint32(b) * 0x9E3779B1) >> (32 - dfHashBits)
}

// insert chains position i, which has dfMinMatch bytes after it.
func (s *dfState) insert(i int) {
	h := dfHash(s.win[i:])
	s.prev[i] = s.head[h]
	s.head[h] = int32(i + 1)
}

// insertMatch chains the positions from up to end, inside a match: all of
// them in a short one, only those near its end in a long one (the rest
// would most likely find again the data it copies).
func (s *dfState) insertMatch(from, end int) {
	if end-from > dfMaxInsert {
		from = end - dfMaxInsert/2
	}
	for j := from; j < end && j+dfMinMatch <= len(s.win); j++ {
		s.insert(j)
	}
}

// find returns the longest match for position i among earlier positions
// (length 0 when none reaches dfMinMatch), then chains i.
func (s *dfState) find(i int) (length, dist int) {
	n := len(s.win)
	if n-i < dfMinMatch {
		return 0, 0
	}
	limit := min(dfMaxMatch, n-i)
	h := dfHash(s.win[i:])
	cand := int(s.head[h]) - 1
	s.prev[i] = s.head[h]
	s.head[h] = int32(i + 1)
	best := dfMinMatch - 1
	for chain := 0; cand >= 0 && chain < dfMaxChain && i-cand <= dfMaxDist; chain++ {
		if s.win[cand+best] == s.win[i+best] {
			if l := matchLen(s.win[cand:cand+limit], s.win[i:i+limit]); l > best {
				best, dist = l, i-cand
				if l >= limit {
					break
				}
			}
		}
		cand = int(s.prev[cand]) - 1
	}
	if dist == 0 {
		return 0, 0
	}
	return best, dist
}

// matchLen is the length of the common prefix of a and b, of equal length.
func matchLen(a, b []byte) int {
	n := 0
	for len(a)-n >= 8 {
		if x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:]); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		n += 8
	}
	for n < len(a) && a[n] == b[n] {
		n++
	}
	return n
}

// deflateDict appends to dst the raw DEFLATE stream of p primed with
// paramsDict: one final block of fixed Huffman codes, greedy matching with
// one step of lazy evaluation (a match is dropped for a longer one at the
// next byte).
func deflateDict(dst, p []byte) []byte {
	d := dfTables()
	s := dfPool.Get().(*dfState)
	defer dfPool.Put(s)
	s.head = d.head
	s.win = append(append(s.win[:0], paramsDict...), p...)
	if cap(s.prev) < len(s.win) {
		s.prev = make([]int32, len(s.win))
	}
	s.prev = s.prev[:len(s.win)]
	copy(s.prev, d.prev)

	w := bitWriter{out: dst}
	w.write(1|1<<1, 3) // BFINAL, BTYPE 01: fixed Huffman codes
	win, n := s.win, len(s.win)
	i := len(paramsDict)
	pending := false // win[i-1] is not written yet, and may start a match
	prevLen, prevDist := 0, 0
	for i < n {
		l, dist := s.find(i)
		if prevLen >= dfMinMatch && l <= prevLen { // the match at i-1 wins
			w.match(prevLen, prevDist)
			end := i - 1 + prevLen
			s.insertMatch(i+1, end)
			i, pending, prevLen = end, false, 0
			continue
		}
		if pending {
			w.literal(win[i-1])
		}
		if l >= dfNiceLen {
			w.match(l, dist)
			end := i + l
			s.insertMatch(i+1, end)
			i, pending, prevLen = end, false, 0
			continue
		}
		pending, prevLen, prevDist = true, l, dist
		i++
	}
	if pending { // the last byte: too short to start a match
		w.literal(win[n-1])
	}
	w.write(uint64(dfLit[256].code), uint(dfLit[256].len))
	return w.flush()
}

// huffCode is a fixed Huffman code, its bits already reversed for the
// LSB-first bit order of a DEFLATE stream.
type huffCode struct {
	code uint16
	len  uint8
}

// dfLit are the fixed literal/length codes (RFC 1951, 3.2.6).
var dfLit = func() (t [288]huffCode) {
	for v := range t {
		var c, l int
		switch {
		case v < 144:
			c, l = 0x30+v, 8
		case v < 256:
			c, l = 0x190+v-144, 9
		case v < 280:
			c, l = v-256, 7
		default:
			c, l = 0xc0+v-280, 8
		}
		t[v] = huffCode{uint16(bits.Reverse16(uint16(c)) >> (16 - l)), uint8(l)}
	}
	return t
}()

// dfLength maps a match length (3-258) to its length symbol's fixed code
// and extra bits: code | extra<<len, in nbits bits.
var dfLength = func() (t [dfMaxMatch + 1]struct {
	bits  uint32
	nbits uint8
}) {
	base := [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	extra := [...]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	for l := 3; l <= dfMaxMatch; l++ {
		sym := len(base) - 1
		for base[sym] > l {
			sym--
		}
		c := dfLit[257+sym]
		t[l].bits = uint32(c.code) | uint32(l-base[sym])<<c.len
		t[l].nbits = c.len + uint8(extra[sym])
	}
	return t
}()

// bitWriter writes a DEFLATE stream, least significant bit first.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

// write appends the n low bits of v (n at most 32).
func (w *bitWriter) write(v uint64, n uint) {
	w.acc |= v << w.n
	w.n += n
	if w.n >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

func (w *bitWriter) literal(b byte) {
	c := dfLit[b]
	w.write(uint64(c.code), uint(c.len))
}

// match writes a length (3-258) and a distance (1-32768).
func (w *bitWriter) match(length, dist int) {
	l := dfLength[length]
	w.write(uint64(l.bits), uint(l.nbits))
	// Distance codes 0-3 are distances 1-4; above, two codes per power of
	// two, the bit under the top one choosing, and the rest extra bits.
	d := uint32(dist - 1)
	var code, extra, nextra uint32
	if d < 4 {
		code = d
	} else {
		top := uint32(bits.Len32(d)) - 1
		nextra = top - 1
		code = 2*top + (d>>nextra)&1
		extra = d & (1<<nextra - 1)
	}
	rev := uint64(bits.Reverse8(uint8(code)) >> 3) // fixed 5-bit distance codes
	w.write(rev|uint64(extra)<<5, uint(5+nextra))
}

// flush writes the last partial byte and returns the stream.
func (w *bitWriter) flush() []byte {
	for w.n > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= min(w.n, 8)
	}
	return w.out
}
