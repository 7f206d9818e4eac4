package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// replayFixtures runs replay on the fixture files, given newest first so
// that only the merge by time puts them in order, with extra args.
func replayFixtures(t *testing.T, extra ...string) (stdout, stderr string) {
	t.Helper()
	args := []string{
		filepath.Join(fixtureRoot, fixtureJSONFile), "--root", fixtureRoot,
		filepath.Join(fixtureRoot, fixtureLogFile), filepath.Join(fixtureRoot, fixtureDay1File),
	}
	var out, errb bytes.Buffer
	if err := runReplay(context.Background(), append(args, extra...), &out, &errb); err != nil {
		t.Fatalf("replay: %v\n%s", err, errb.String())
	}
	return out.String(), errb.String()
}

// TestReplay_Fixtures checks the counts of the fixture run, worked out by
// hand from fixtureEvents (A is 203.0.113.7; firewall-drop times out after
// 10 m, then 30 and 60 for repeated offenders; custom-block at line 37 is
// for agent 001, so every sshd alert run here skips it):
//
//	day 1 00:00 A continue (10 m)        00:05 A abort (30 m)     00:30 A abort (60 m: 01:30)
//	      01:31 A reverted, continue     02:00 B continue (10 m)  02:30 white-listed
//	      03:00 A and B reverted, A continue; 03:10 A abort (04:10)
//	      04:00 web attack: custom-block at line 29, timeout 0: stateless
//	day 2 00:00 A reverted, continue (text) 00:20 A abort (01:20)  00:30 C continue (00:40)
//	      12:00 A and C reverted, A continue (13:00); 12:30 ::ffff:A is A for the built-in: abort (13:30)
//	      13:00 127.0.0.1: own address    23:50 A reverted, continue: offence 11, active at the end
//	      23:55 an alert without a time (decided at 23:50; triggers nothing)
func TestReplay_Fixtures(t *testing.T) {
	out, stderr := replayFixtures(t, "--json")
	if stderr != "" {
		t.Errorf("stderr is not a terminal, yet: %q", stderr)
	}
	var doc replayDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]int{
		"alerts": doc.Alerts, "malformed": doc.Malformed, "untimed": doc.Untimed, "matched": doc.Matched,
		"runs": doc.Runs, "continue": doc.Continues, "abort": doc.Aborts, "failed": doc.Failed,
		"reverts": doc.Reverts, "active": doc.ActiveAtEnd, "bad": doc.BadTotal,
	}
	want := map[string]int{
		"alerts": 30, "malformed": 3, "untimed": 1, "matched": 29, "runs": 14, "continue": 8, "abort": 5,
		"failed": 0, "reverts": 7, "active": 1, "bad": 3,
	}
	if !maps.Equal(got, want) {
		t.Errorf("totals\n got %v\nwant %v", got, want)
	}
	if want := map[string]int{"white_list": 1, "own_address": 1, "location": 13}; !maps.Equal(doc.Skipped, want) {
		t.Errorf("skipped %v, want %v", doc.Skipped, want)
	}
	if !doc.First.Equal(fixtureDay1) || !doc.Last.Equal(hm(fixtureDay2, 23, 50)) {
		t.Errorf("first %v last %v", doc.First, doc.Last)
	}
	checkFixtureResponses(t, doc.Responses)
	checkFixtureBad(t, doc.BadRecords)
	if want := map[string]string{"firewall-drop": replayKindBuiltin, "custom-block": replayKindScript}; !maps.Equal(doc.Commands, want) {
		t.Errorf("commands %v", doc.Commands)
	}
	records := map[string]int{}
	for _, f := range doc.Files {
		records[filepath.Base(f.Path)] = f.Records
		if f.Gzip != strings.HasSuffix(f.Path, ".gz") || (f.Format == "text") != strings.HasSuffix(f.Path, ".log") {
			t.Errorf("file %+v", f)
		}
	}
	if want := map[string]int{"ossec-alerts-01.json.gz": 20, "alerts.log": 4, "alerts.json": 6}; !maps.Equal(records, want) {
		t.Errorf("records per file %v, want %v", records, want)
	}
}

func checkFixtureResponses(t *testing.T, rs []engine.ResponseReport) {
	t.Helper()
	if len(rs) != 3 {
		t.Fatalf("%d responses, want 3", len(rs))
	}
	fw, web, other := rs[0], rs[1], rs[2]
	if fw.Line != 20 || fw.Matched != 15 || fw.Runs != 13 || fw.Continues != 8 || fw.Aborts != 5 || fw.Reverts != 7 ||
		fw.Keys != 3 || fw.MaxOffences != 11 || fw.LongestTimeoutSeconds != 3600 || fw.EscalatedKey != "firewall-drop-203.0.113.7" {
		t.Errorf("firewall-drop: %+v", fw)
	}
	if want := []engine.KeyCount{{Target: "203.0.113.7", Runs: 11}, {Target: "198.51.100.23", Runs: 1}, {Target: "203.0.113.99", Runs: 1}}; !slices.Equal(fw.Top, want) {
		t.Errorf("top targets %v, want %v", fw.Top, want)
	}
	if web.Line != 29 || web.Matched != 1 || web.Stateless != 1 || web.Keys != 1 || web.Top[0].Target != "203.0.113.50" {
		t.Errorf("custom-block (web): %+v", web)
	}
	if other.Line != 37 || other.Matched != 13 || other.Runs != 0 || other.Skipped["location"] != 13 {
		t.Errorf("custom-block (agent 001): %+v", other)
	}
}

func checkFixtureBad(t *testing.T, bad []replayBad) {
	t.Helper()
	_, lines := fixtureContents()
	var want []string
	for _, f := range []string{fixtureDay1File, fixtureLogFile, fixtureJSONFile} {
		for _, l := range lines[f] {
			want = append(want, filepath.Join(fixtureRoot, f)+":"+strconv.Itoa(l))
		}
	}
	var got []string
	for _, b := range bad {
		got = append(got, b.File+":"+strconv.Itoa(b.Line))
		if b.Error == "" {
			t.Errorf("bad record without its error: %+v", b)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("bad records at %v, want %v", got, want)
	}
}

// TestReplay_TextReport checks the report a person reads.
func TestReplay_TextReport(t *testing.T) {
	out, _ := replayFixtures(t)
	for _, want := range []string{
		"replayed 30 alerts from 3 file(s) through " + filepath.Join(fixtureRoot, "etc", "ossec.conf") + " (agent 000)",
		"alerts from 2026-03-01 00:00:00 UTC to 2026-03-02 23:50:00 UTC (47h50m0s simulated)",
		"active response at line 20: firewall-drop (firewall-drop, built-in), timeout 10m0s",
		"  matched 15: ran 13, skipped 2 (own_address 1, white_list 1)",
		"  continue 8, abort 5 (already active), stateless 0, failed 0; reverts 7",
		"  distinct keys 3; longest escalation: offence 11 (firewall-drop-203.0.113.7), longest timeout 1h0m0s",
		"  top targets: 203.0.113.7 (11), 198.51.100.23 (1), 203.0.113.99 (1)",
		"active response at line 29: custom-block (custom-block, script), timeout 0s",
		"skipped (alert-response pairs): location 13, own_address 1, white_list 1",
		"bad records: 3",
		"ossec-alerts-01.json.gz:",
		"totals: 30 alerts (3 malformed, 1 without a time, 0 outside the window); 29 matched, 14 ran (8 continue, 5 abort, 0 failed); 7 reverts; 1 active at the end",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestReplay_Window replays day 2 only: A starts again at offence 1.
func TestReplay_Window(t *testing.T) {
	out, _ := replayFixtures(t, "--json", "--since", "2026-03-02T00:00:00Z", "--until", "2026-03-02T12:15:00Z")
	var doc replayDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	// In: day 2 00:00 (A continue, 10 m), 00:20 (A reverted, continue, 30
	// m), 00:30 (C), 12:00 (A reverted, continue at offence 3), and the
	// alert without a time, decided at the clock (12:00). Out: 19 records
	// of day 1 (its bad line is malformed, not outside) and 3 from 12:30.
	if doc.OutsideWindow != 22 || doc.Runs != 4 || doc.Continues != 4 || doc.Aborts != 0 || doc.Responses[0].MaxOffences != 3 {
		t.Errorf("outside %d runs %d continue %d abort %d max offences %d", doc.OutsideWindow, doc.Runs, doc.Continues,
			doc.Aborts, doc.Responses[0].MaxOffences)
	}
	if doc.Since == nil || !doc.Since.Equal(fixtureDay2) {
		t.Errorf("since %v", doc.Since)
	}
}

func TestReplay_Usage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--json"},
		{"a.json", "--since", "yesterday"},
		{"a.json", "--no-such-flag"},
	} {
		if err := runReplay(context.Background(), args, new(bytes.Buffer), new(bytes.Buffer)); !errors.Is(err, errUsage) {
			t.Errorf("replay %q: %v, want a usage error", args, err)
		}
	}
	err := runReplay(context.Background(), []string{"no-such-file.json", "--root", fixtureRoot}, new(bytes.Buffer), new(bytes.Buffer))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	err = runReplay(context.Background(), []string{"a.json", "--config", "no-such.conf"}, new(bytes.Buffer), new(bytes.Buffer))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing config: %v", err)
	}
}

// TestReplay_Interrupted: a cancelled replay prints what it has.
func TestReplay_Interrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	args := []string{filepath.Join(fixtureRoot, fixtureJSONFile), "--root", fixtureRoot, "--json"}
	if err := runReplay(ctx, args, &out, new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	var doc replayDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || !doc.Interrupted || doc.Alerts != 0 {
		t.Errorf("interrupted replay: %v %+v", err, doc)
	}
}

func TestReplayInput_Records(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 3<<20) // longer than the read buffer
	write := func(name, s string, gz bool) string {
		p := filepath.Join(dir, name)
		data := []byte(s)
		if gz {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(data)
			zw.Close()
			data = b.Bytes()
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	block := "** Alert 1.1: - sshd,\n2026 Mar 01 00:00:00 h->/l\nRule: 1 (level 1) -> 'x'\n"
	for _, tt := range []struct {
		name, path string
		want       []string // records, with their first line: "LINE:TEXT"
	}{
		{"json", write("a.json", "one\r\n\n  \n"+long+"\nlast", false), []string{"1:one", "4:" + long, "5:last"}},
		{"json gz", write("a.json.gz", "one\ntwo\n", true), []string{"1:one", "2:two"}},
		{"text", write("alerts.log", "noise\n"+block+"full log\n\n"+block+block, false),
			[]string{"2:" + block + "full log", "7:" + strings.TrimSuffix(block, "\n"), "10:" + strings.TrimSuffix(block, "\n")}},
		{"text gz crlf", write("b.log.gz", strings.ReplaceAll(block, "\n", "\r\n")+"\r\n", true),
			[]string{"1:" + strings.TrimSuffix(block, "\n")}},
	} {
		f, err := openReplayInput(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for f.next(func(line int, err error) { t.Errorf("%s: bad record at %d: %v", tt.name, line, err) }) {
			got = append(got, strconv.Itoa(f.recLine)+":"+string(f.rec))
		}
		f.Close()
		if f.err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: records (err %v):\n got %.200q\nwant %.200q", tt.name, f.err, got, tt.want)
		}
	}
}

// TestReplayInput_Damaged: a record over the limit and a truncated gzip
// are reported by file:line; the replay goes on.
func TestReplayInput_Damaged(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for range 2000 {
		zw.Write([]byte(`{"rule":{"level":3,"id":"1"},"id":"1.1"}` + "\n"))
	}
	zw.Close()
	cut := filepath.Join(dir, "cut.json.gz")
	if err := os.WriteFile(cut, b.Bytes()[:b.Len()/2], 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.json")
	data := append(bytes.Repeat([]byte("y"), replayMaxRecord+10), "\n{\"id\":\"1.1\"}\n"...)
	if err := os.WriteFile(huge, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runReplay(context.Background(), []string{cut, huge, "--root", fixtureRoot, "--json"}, &out, new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	var doc replayDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// The gzip stream ends inside a line: that part of a line is a
	// malformed record, then the stream's end is reported on the next line.
	bad := doc.BadRecords
	if doc.BadTotal != 3 || len(bad) != 3 || doc.Alerts < 100 {
		t.Fatalf("bad %d alerts %d: %+v", doc.BadTotal, doc.Alerts, bad)
	}
	cutLine := bad[1].Line
	if bad[0] != (replayBad{File: huge, Line: 1, Error: errReplayTooLong.Error()}) ||
		bad[1].File != cut || !strings.Contains(bad[1].Error, "malformed JSON") ||
		bad[2] != (replayBad{File: cut, Line: cutLine + 1, Error: "unexpected EOF"}) || doc.Alerts != cutLine+1 {
		t.Errorf("bad records %+v, alerts %d", bad, doc.Alerts)
	}
}

func TestReplayProgressLine(t *testing.T) {
	got := replayProgressLine(25<<20, 100<<20, 5*time.Second, 20)
	want := "[====>               ]  25% 25.0 MiB/100.0 MiB 5.0 MiB/s, 15s left"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := replayProgressLine(0, 100, 0, 10); !strings.HasSuffix(got, "? left") {
		t.Errorf("at the start: %q", got)
	}
}
