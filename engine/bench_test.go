package engine

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// benchConfig is a typical set of responses: a few stateful blocks keyed on
// rule ids, levels and groups.
func benchConfig() *Config {
	fw := &Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
	acct := &Command{Name: "disable-account", Executable: "disable-account", TimeoutAllowed: true}
	return &Config{
		Commands: []*Command{fw, acct},
		Responses: []*Response{
			{Command: fw, Location: LocationLocal, RulesID: []string{"5763", "5712"}, Timeout: 10 * time.Minute},
			{Command: fw, Location: LocationAll, Level: 12, RulesGroup: []string{"web,|attack,"}, Timeout: time.Hour},
			{Command: acct, Location: LocationLocal, Level: 14, RulesGroup: []string{"authentication_failures"}, Timeout: time.Hour},
		},
		WhiteList: []WhiteListEntry{{Pattern: "127.0.0.1"}},
	}
}

// benchMix is the realistic mix: the sample alerts, of which only the sshd
// brute force (one in six) triggers anything.
func benchMix(b *testing.B) ([][]byte, int64) {
	lines := loadAlerts(b)
	var n int64
	for _, l := range lines {
		n += int64(len(l))
	}
	return lines, n / int64(len(lines))
}

// BenchmarkDecodeMatch is the hot path: decode the fields matching needs and
// match them against the responses.
func BenchmarkDecodeMatch(b *testing.B) {
	lines, avg := benchMix(b)
	b.ReportAllocs()
	decodeMatch(b, lines, avg)
}

// BenchmarkDecodeMatch_Streamed is BenchmarkDecodeMatch over 262,144
// alerts laid out one after another in memory (240 MB, far beyond the
// CPU's caches), as the daemon meets them in its read buffer, instead of
// six alerts that stay in cache: what the memory costs decoding.
func BenchmarkDecodeMatch_Streamed(b *testing.B) {
	lines, avg := benchMix(b)
	all := make([][]byte, 1<<18)
	var buf []byte
	for i := range all {
		buf = append(buf, lines[i%len(lines)]...)
	}
	for i, off := 0, 0; i < len(all); i++ {
		l := len(lines[i%len(lines)])
		all[i] = buf[off : off+l : off+l]
		off += l
	}
	decodeMatch(b, all, avg)
}

// decodeMatch decodes and matches lines in turn, over and over, and
// reports alerts/s.
func decodeMatch(b *testing.B, lines [][]byte, avg int64) {
	m := compile(benchConfig())
	var a Alert
	matched := 0
	b.SetBytes(avg)
	for i := 0; b.Loop(); i++ {
		if err := a.Decode(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
		for _, r := range m.responses {
			if r.triggers(&a) && r.runsHere(&a, "000") {
				matched++
			}
		}
	}
	if matched == 0 {
		b.Fatal("nothing matched")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkDecodeMatch_EncodingJSON is the baseline: the same fields decoded
// with encoding/json, then the same matching.
func BenchmarkDecodeMatch_EncodingJSON(b *testing.B) {
	lines, avg := benchMix(b)
	m := compile(benchConfig())
	b.SetBytes(avg)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var r refAlert
		if err := json.Unmarshal(lines[i%len(lines)], &r); err != nil {
			b.Fatal(err)
		}
		level, _ := r.Rule.Level.Int64()
		a := Alert{Level: int(level), RuleID: []byte(rawString(r.Rule.ID)), Groups: []byte(r.groups()), SrcIP: []byte(r.Data.SrcIP)}
		for _, cr := range m.responses {
			if cr.triggers(&a) {
				_ = cr.runsHere(&a, "000")
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkHandle is the whole path of a record through the engine: decode,
// match, validation and, for the one alert in six that triggers, the group
// commit to a store and the dispatch of its command (a fake that answers
// check_keys at once).
func BenchmarkHandle(b *testing.B) {
	lines, avg := benchMix(b)
	e, err := New(Options{Store: newMemStore(), Runner: &fakeRunner{}})
	if err != nil {
		b.Fatal(err)
	}
	e.SetConfig(benchConfig())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	b.SetBytes(avg)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rec := Record{Data: lines[i%len(lines)], Pos: Position{Source: "alerts.json", FileID: "1:1", Offset: int64(i)}}
		if err := e.Handle(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
	cancel()
	<-done
}
