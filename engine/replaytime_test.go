package engine

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	want := time.Date(2024, 5, 11, 12, 29, 19, 154_000_000, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-05-11T12:29:19.154+0000", want, true},
		{"2024-05-11T14:29:19.154+0200", want, true},
		{"2024-05-11T10:29:19.154-02:00", want, true},
		{"2024-05-11T12:29:19.154Z", want, true},
		{"2024-05-11 12:29:19.154", want, true},
		{"2024-05-11T12:29:19", want.Truncate(time.Second), true},
		{"2024-05-11T12:29:19.123456789123+0000", want.Truncate(time.Second).Add(123456789), true},
		{"2024-13-11T12:29:19+0000", time.Time{}, false},
		{"2024-05-11T12:29:19+00", time.Time{}, false},
		{"2024-05-11T12:29:19 UTC", time.Time{}, false},
		{"May 11 12:29:19", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, ok := parseTimestamp([]byte(tt.in))
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseTimestamp(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if !tt.ok {
			continue
		}
		// The same as time.Parse where the layouts agree.
		if p, err := time.Parse("2006-01-02T15:04:05Z0700", tt.in); err == nil && !p.Equal(got) {
			t.Errorf("%q: time.Parse says %v", tt.in, p)
		}
	}
}

func TestRecordTime(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		rec  Record
		want time.Time
		ok   bool
	}{
		{"timestamp first", Record{Data: jsonAlert(at, "1.1", "203.0.113.7")}, at, true},
		{"timestamp later", Record{Data: []byte(`{"id":"1.1","timestamp":"2026-03-01T00:00:00.000+0000"}`)}, at, true},
		{"id only", Record{Data: []byte(`{"id":"1772323200.4711"}`)}, at, true},
		{"id not a time", Record{Data: []byte(`{"id":"1.1"}`)}, time.Time{}, false},
		{"malformed", Record{Data: []byte(`{"id":`)}, time.Time{}, false},
		{"text", Record{Data: []byte("** Alert 1772323200.55: - sshd,\n..."), Format: FormatText}, at, true},
		{"text without id", Record{Data: []byte("** Alert x: - sshd,"), Format: FormatText}, time.Time{}, false},
	} {
		got, ok := RecordTime(tt.rec)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("%s: RecordTime = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func BenchmarkParseTimestamp(b *testing.B) {
	ts := []byte("2024-05-11T12:29:19.154+0000")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseTimestamp(ts); !ok {
			b.Fatal("not parsed")
		}
	}
}
