package store

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/threatlockdown/threatlockdown/engine"
)

// codecEntries cover the corners of the entry record: zero and extreme
// times, negative numbers, empty and long strings, many extra args, the
// largest Job. Their Params are not part of the record.
func codecEntries() []engine.Entry {
	full := entry("firewall-drop-203.0.113.7", 1<<63+5, time.Hour)
	full.Command = &engine.Command{Name: "n", Executable: "e", ExtraArgs: strings.Fields("a b c d e f"),
		TimeoutAllowed: true, Protocol: engine.ProtocolLegacy, Line: -1}
	full.Fields = engine.Fields{User: "ü", SrcIP: "2001:db8::1", AlertID: "1.2", RuleID: "5712", Location: "x", Filename: "-"}
	full.Offences = -3
	full.Job = 1<<64 - 1
	return []engine.Entry{
		{Key: "zero"},
		full,
		{Key: "old", Created: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Expires: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{Key: "late", Expires: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Job: 7},
	}
}

func TestCodec_EntryRoundTrip(t *testing.T) {
	for _, e := range codecEntries() {
		withParams := e
		withParams.Params = []byte(`{"not":"stored here"}`)
		v, _ := encodeEntry(withParams)
		got, err := decodeEntry(e.Key, v)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(memoryEntry(e), got); d != "" {
			t.Errorf("%s (-want +got):\n%s", e.Key, d)
		}
		h, err := decodeHead([]byte(e.Key), v)
		if err != nil || h.Seq != e.Seq || !h.Expires.Equal(e.Expires) {
			t.Errorf("%s: head %+v, %v", e.Key, h, err)
		}
	}
}

func TestCodec_JobRoundTrip(t *testing.T) {
	j := engine.Job{ID: 9, Lane: "l", Command: &engine.Command{Name: "c", ExtraArgs: strings.Fields("1 2 3 4 5")},
		Params: []byte(`{"a":1}`), Timeout: -time.Second, Repeated: []time.Duration{1, -2, 3}}
	for _, want := range []engine.Job{{ID: 1}, j} {
		v, _ := encodeJob(want)
		got, err := decodeJob(want.ID, v)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(cloneJob(want), got); d != "" {
			t.Errorf("job %d (-want +got):\n%s", want.ID, d)
		}
	}
}

// TestCodec_Corrupt checks that every truncation of a record, a byte too
// many and an unknown format number are errors, not panics or guesses.
func TestCodec_Corrupt(t *testing.T) {
	entryV, _ := encodeEntry(codecEntries()[1])
	jobV, _ := encodeJob(engine.Job{ID: 1, Lane: "l", Repeated: []time.Duration{time.Hour}, Params: []byte("{}")})
	posV, _ := encodePosition(engine.Position{Source: "s", FileID: "8:1", Offset: 7})
	decoders := map[string]struct {
		v      []byte
		decode func([]byte) error
	}{
		"entry":    {entryV, func(v []byte) error { _, err := decodeEntry("k", v); return err }},
		"job":      {jobV, func(v []byte) error { _, err := decodeJob(1, v); return err }},
		"position": {posV, func(v []byte) error { _, err := decodePosition("s", v); return err }},
		"params":   {encodeParams(realParams(0)), func(v []byte) error { _, err := decodeParams([]byte("k"), v); return err }},
	}
	for name, d := range decoders {
		if err := d.decode(d.v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for n := range len(d.v) {
			if d.decode(d.v[:n]) == nil {
				t.Errorf("%s cut to %d of %d bytes decoded", name, n, len(d.v))
			}
		}
		if d.decode(append(d.v[:len(d.v):len(d.v)], 0)) == nil {
			t.Errorf("%s with a trailing byte decoded", name)
		}
		other := append([]byte{99}, d.v[1:]...)
		if err := d.decode(other); err == nil || !strings.Contains(err.Error(), "format 99") {
			t.Errorf("%s of format 99: %v", name, err)
		}
	}
}

// FuzzDecode checks that no bytes make a decoder panic or allocate beyond
// what the record holds. Plain go test runs the seeds only.
func FuzzDecode(f *testing.F) {
	for _, e := range codecEntries() {
		v, _ := encodeEntry(e)
		f.Add(v)
	}
	v, _ := encodeJob(engine.Job{Lane: "l", Repeated: []time.Duration{1, 2}})
	f.Add(v)
	f.Add(encodeParams([]byte(`{"extra_args":[],"alert":{"rule":{"id":"5712"}}}`)))
	f.Add(encodeParams([]byte{0xff}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x03, 0x00})
	f.Fuzz(func(t *testing.T, v []byte) {
		_, _ = decodeEntry("k", v)
		_, _, _ = decodeEntry1("k", v)
		_, _ = decodeHead([]byte("k"), v)
		_, _ = decodeJob(1, v)
		_, _ = decodePosition("s", v)
		_, _ = decodeParams([]byte("k"), v)
	})
}
