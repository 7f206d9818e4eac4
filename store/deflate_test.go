package store

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"
)

// inflateAll reads the whole raw DEFLATE stream v primed with paramsDict
// with compress/flate, as a reader independent of our length framing.
func inflateAll(t testing.TB, v []byte) []byte {
	t.Helper()
	r := flate.NewReaderDict(bytes.NewReader(v), paramsDict)
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("compress/flate rejects our stream: %v", err)
	}
	return got
}

// TestDeflate_Shapes: streams that compress/flate reads back exactly, for
// the shapes that exercise each part of the encoder: no match at all,
// matches into the dictionary only, the longest match (258) and runs of
// it, every length and distance code, and distances at DEFLATE's window
// edge (32768 is the farthest allowed, 32769 must not be used).
func TestDeflate_Shapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	block := random(300)
	far := func(gap int) []byte { // block, gap bytes alike, block again
		return append(append(append([]byte(nil), block...), bytes.Repeat([]byte{'z'}, gap)...), block...)
	}
	var every []byte // a run of each length 3-300 at distances 1 to 30,000
	for l := 3; l <= 300; l++ {
		d := 1 + rng.IntN(30000)
		if d > len(every) {
			every = append(every, random(d)...)
		}
		every = append(every, every[len(every)-d:len(every)-d+l]...)
	}
	cases := map[string][]byte{
		"empty":                 {},
		"one byte":              {'x'},
		"four bytes":            []byte("abcd"),
		"random":                random(5000),
		"dictionary only":       paramsDict,
		"dictionary reversed":   reverse(paramsDict),
		"one byte repeated":     bytes.Repeat([]byte{'a'}, 100_000),
		"every length":          every,
		"distance 32768":        far(32768 - len(block)),
		"distance 32769":        far(32769 - len(block)),
		"alerts 200 KB":         bytes.Repeat(realParams(3), 200_000/len(realParams(3))),
		"alert with line break": append(realParams(4), "\r\n"...),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			v := deflateDict(nil, p)
			if got := inflateAll(t, v); !bytes.Equal(got, p) {
				t.Fatalf("%d bytes came back as %d, not the same", len(p), len(got))
			}
			t.Logf("%d bytes in %d", len(p), len(v))
		})
	}
	// The second block is one match at the window's edge (a few bytes),
	// and literals beyond it (about its length).
	atEdge, beyond := len(deflateDict(nil, cases["distance 32768"])), len(deflateDict(nil, cases["distance 32769"]))
	if beyond-atEdge < len(block)*9/10 {
		t.Errorf("block again at 32768 takes %d bytes in all, at 32769 %d: want one match, then %d literals", atEdge, beyond, len(block))
	}
}

func reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i, c := range b {
		r[len(b)-1-i] = c
	}
	return r
}

// TestDeflate_ReadsEarlierValues: values that earlier builds wrote with
// flate.Writer at level 6 (dynamic Huffman codes) are format 2 as ours
// are, and decode the same.
func TestDeflate_ReadsEarlierValues(t *testing.T) {
	p := realParams(7)
	var buf bytes.Buffer
	w, err := flate.NewWriterDict(&buf, flate.DefaultCompression, paramsDict)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(p)
	_ = w.Close()
	v := append([]byte{paramsFlate, byte(len(p)&0x7f | 0x80), byte(len(p) >> 7)}, buf.Bytes()...)
	got, err := decodeParams([]byte("k"), v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, p) {
		t.Error("a level-6 value decoded differently")
	}
}

// FuzzDeflate: any input comes back exactly through compress/flate, and a
// value never takes more than the raw form (go test -fuzz Deflate ./store/).
func FuzzDeflate(f *testing.F) {
	f.Add(realParams(1))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"))
	f.Add(paramsDict[100:900])
	f.Fuzz(func(t *testing.T, p []byte) {
		if got := inflateAll(t, deflateDict(nil, p)); !bytes.Equal(got, p) {
			t.Fatalf("%q came back as %q", p, got)
		}
		if len(p) == 0 {
			return
		}
		v := encodeParams(p)
		if len(v) > 1+len(p) {
			t.Fatalf("%d bytes stored for %d", len(v), len(p))
		}
		got, err := decodeParams([]byte("k"), v)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
