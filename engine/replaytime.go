package engine

import (
	"bytes"
	"time"
)

// The time of an alert, for replay's simulated clock: its "timestamp"
// (alerts.json: "2024-05-11T12:29:19.154+0000"), else the seconds of its id
// ("1715430559.1549653": analysisd names an alert by the epoch second it was
// written and the file offset), which is all alerts.log gives.

// minEpoch is the smallest alert id taken for a time (2001): ids like "1.1"
// are not times.
const minEpoch = 1_000_000_000

// alertTime returns the time of the decoded alert a.
func alertTime(a *Alert) (time.Time, bool) {
	if t, ok := parseTimestamp(a.Timestamp); ok {
		return t, true
	}
	return idTime(a.ID)
}

// idTime reads the epoch seconds before the dot of an alert id.
func idTime(id []byte) (time.Time, bool) {
	var sec int64
	n := 0
	for ; n < len(id) && id[n] != '.'; n++ {
		c := id[n]
		if c < '0' || c > '9' || n > 12 {
			return time.Time{}, false
		}
		sec = sec*10 + int64(c-'0')
	}
	if n == 0 || sec < minEpoch {
		return time.Time{}, false
	}
	return time.Unix(sec, 0).UTC(), true
}

// parseTimestamp reads YYYY-MM-DDTHH:MM:SS[.fraction][Z|±hhmm|±hh:mm]
// (the T may be a space; no zone is UTC) without time.Parse's generality:
// it runs once per replayed alert.
func parseTimestamp(b []byte) (time.Time, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[10] != 'T' && b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	var f [6]int
	for i, at := range [6]int{0, 5, 8, 11, 14, 17} {
		w := 2
		if i == 0 {
			w = 4
		}
		v, ok := digits(b[at : at+w])
		if !ok {
			return time.Time{}, false
		}
		f[i] = v
	}
	rest := b[19:]
	ns := 0
	if len(rest) > 0 && rest[0] == '.' {
		scale := int(time.Second)
		i := 1
		for ; i < len(rest) && '0' <= rest[i] && rest[i] <= '9'; i++ {
			if scale /= 10; scale > 0 {
				ns += int(rest[i]-'0') * scale
			}
		}
		rest = rest[i:]
	}
	off, ok := zoneOffset(rest)
	if !ok || f[1] < 1 || f[1] > 12 {
		return time.Time{}, false
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], ns, time.UTC)
	return t.Add(-off), true
}

// zoneOffset reads "", "Z", "±hhmm" or "±hh:mm".
func zoneOffset(z []byte) (time.Duration, bool) {
	if len(z) == 0 || len(z) == 1 && z[0] == 'Z' {
		return 0, true
	}
	if z[0] != '+' && z[0] != '-' {
		return 0, false
	}
	hm := z[1:]
	var buf [4]byte
	if len(hm) == 5 && hm[2] == ':' {
		copy(buf[:2], hm[:2])
		copy(buf[2:], hm[3:])
		hm = buf[:]
	}
	v, ok := digits(hm)
	if !ok || len(hm) != 4 {
		return 0, false
	}
	off := time.Duration(v/100)*time.Hour + time.Duration(v%100)*time.Minute
	if z[0] == '-' {
		off = -off
	}
	return off, true
}

func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, len(b) > 0
}

// timestampPrefix starts every alerts.json line Wazuh writes.
var timestampPrefix = []byte(`{"timestamp":"`)

// RecordTime returns the time of the alert in rec, reading as little of it
// as it can: Wazuh writes "timestamp" first in alerts.json, and an
// alerts.log block starts with the alert id. Other records are decoded.
// It is how replay orders the records of several files; ok is false when
// the record carries no time (or is malformed).
func RecordTime(rec Record) (time.Time, bool) {
	d := rec.Data
	if rec.Format == FormatText {
		if id, ok := bytes.CutPrefix(d, alertHeader); ok {
			return idTime(id)
		}
		return time.Time{}, false
	}
	if v, ok := bytes.CutPrefix(d, timestampPrefix); ok {
		if end := bytes.IndexByte(v, '"'); end > 0 {
			if t, ok := parseTimestamp(v[:end]); ok {
				return t, true
			}
		}
	}
	var a Alert
	if err := a.Decode(d); err != nil {
		return time.Time{}, false
	}
	return alertTime(&a)
}

// alertHeader starts each alerts.log block: "** Alert 1715430559.1549653:".
var alertHeader = []byte("** Alert ")
