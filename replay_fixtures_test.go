package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/internal/golden"
)

// The replay fixtures: an install root with an ossec.conf, a script in
// active-response/bin, and two days of alerts in three files: day 1 in a
// gzip-rotated alerts.json, the night of day 2 in a text alerts.log, the
// rest of day 2 in alerts.json. fixtureEvents describes them; `go test
// -run TestReplay_Fixtures -update` writes them again. The counts the
// tests expect are worked out in TestReplay_Fixtures.
const fixtureRoot = "testdata/replay/root"

var (
	fixtureDay1 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	fixtureDay2 = fixtureDay1.AddDate(0, 0, 1)
)

// Fixture files, relative to fixtureRoot.
const (
	fixtureDay1File = "logs/alerts/2026/Mar/ossec-alerts-01.json.gz"
	fixtureLogFile  = "logs/alerts/alerts.log"
	fixtureJSONFile = "logs/alerts/alerts.json"
)

// fixtureEvent is one line or block of a fixture file.
type fixtureEvent struct {
	file string
	at   time.Time
	raw  string // written as is when rule is empty (bad records, a blank line)
	bad  bool   // a record replay reports by file:line
	rule string
	lvl  int
	grp  []string
	ip   string
}

func hm(day time.Time, h, m int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func fixtureEvents() []fixtureEvent {
	const a, b, c, w = "203.0.113.7", "198.51.100.23", "203.0.113.99", "203.0.113.200" // w is white-listed (ossec.conf)
	ssh := func(file string, at time.Time, ip string) fixtureEvent {
		return fixtureEvent{file: file, at: at, rule: "5712", lvl: 10, grp: []string{"syslog", "sshd", "authentication_failures"}, ip: ip}
	}
	evs := []fixtureEvent{
		ssh(fixtureDay1File, hm(fixtureDay1, 0, 0), a),
		ssh(fixtureDay1File, hm(fixtureDay1, 0, 5), a),
		{file: fixtureDay1File, at: hm(fixtureDay1, 0, 11), raw: `{"timestamp":"2026-03-01T00:11:00.000+0000","rule":{"level":10,`, bad: true},
		{file: fixtureDay1File, at: hm(fixtureDay1, 0, 12), raw: ""},
		ssh(fixtureDay1File, hm(fixtureDay1, 0, 30), a),
		ssh(fixtureDay1File, hm(fixtureDay1, 1, 31), a),
		ssh(fixtureDay1File, hm(fixtureDay1, 2, 0), b),
		ssh(fixtureDay1File, hm(fixtureDay1, 2, 30), w),
		ssh(fixtureDay1File, hm(fixtureDay1, 3, 0), a),
		ssh(fixtureDay1File, hm(fixtureDay1, 3, 10), a),
		{file: fixtureDay1File, at: hm(fixtureDay1, 4, 0), rule: "31103", lvl: 7, grp: []string{"web", "accesslog", "attack"}, ip: "203.0.113.50"},

		ssh(fixtureLogFile, hm(fixtureDay2, 0, 0), a),
		ssh(fixtureLogFile, hm(fixtureDay2, 0, 20), a),
		{file: fixtureLogFile, at: hm(fixtureDay2, 0, 25), raw: "** Alert x: - sshd,\n2026 Mar 02 00:25:00 wazuh->/var/log/secure\nRule: 5712 (level 10) -> 'x'\n\n", bad: true},
		ssh(fixtureLogFile, hm(fixtureDay2, 0, 30), c),

		ssh(fixtureJSONFile, hm(fixtureDay2, 12, 0), a),
		{file: fixtureJSONFile, at: hm(fixtureDay2, 12, 1), raw: "not json at all", bad: true},
		ssh(fixtureJSONFile, hm(fixtureDay2, 12, 30), "::ffff:"+a),
		ssh(fixtureJSONFile, hm(fixtureDay2, 13, 0), "127.0.0.1"),
		ssh(fixtureJSONFile, hm(fixtureDay2, 23, 50), a),
		{file: fixtureJSONFile, at: hm(fixtureDay2, 23, 55), raw: `{"rule":{"level":3,"id":"5402","groups":["sudo"]},"id":"1.1"}`},
	}
	for m := 1; m <= 10; m++ { // noise: successful sudo, level 3
		evs = append(evs, fixtureEvent{file: fixtureDay1File, at: hm(fixtureDay1, 0, m), rule: "5402", lvl: 3, grp: []string{"syslog", "sudo"}})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	return evs
}

func (e fixtureEvent) json(n int) string {
	data := ""
	if e.ip != "" {
		data = fmt.Sprintf(`,"data":{"srcip":%q,"srcport":"4242"}`, e.ip)
	}
	return fmt.Sprintf(`{"timestamp":%q,"rule":{"level":%d,"description":"fixture","id":%q,"firedtimes":%d,"mail":false,"groups":%s},`+
		`"agent":{"id":"000","name":"wazuh"},"manager":{"name":"wazuh"},"id":"%d.%d","full_log":"fixture log line %d from %s",`+
		`"decoder":{"name":"sshd"}%s,"location":"/var/log/secure"}`,
		e.at.Format("2006-01-02T15:04:05.000-0700"), e.lvl, e.rule, n, quoteList(e.grp), e.at.Unix(), 1000+n, n, e.ip, data)
}

func (e fixtureEvent) text(n int) string {
	return fmt.Sprintf("** Alert %d.%d: - %s,\n%s wazuh->/var/log/secure\nRule: %s (level %d) -> 'fixture'\nSrc IP: %s\n"+
		"%s wazuh sshd[%d]: Invalid user admin from %s port 4242\n\n",
		e.at.Unix(), 1000+n, joinComma(e.grp), e.at.Format("2006 Jan 02 15:04:05"), e.rule, e.lvl, e.ip,
		e.at.Format("Jan _2 15:04:05"), n, e.ip)
}

func quoteList(s []string) string {
	b := []byte("[")
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%q", v)
	}
	return string(append(b, ']'))
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

// fixtureContents renders the fixture files, and the line of each bad
// record in them.
func fixtureContents() (files map[string][]byte, badLines map[string][]int) {
	files, badLines = map[string][]byte{}, map[string][]int{}
	lines := map[string]int{}
	for n, e := range fixtureEvents() {
		var s string
		switch {
		case e.rule == "":
			s = e.raw
			if e.file != fixtureLogFile {
				s += "\n"
			}
			if e.bad {
				badLines[e.file] = append(badLines[e.file], lines[e.file]+1)
			}
		case e.file == fixtureLogFile:
			s = e.text(n)
		default:
			s = e.json(n) + "\n"
		}
		lines[e.file] += bytes.Count([]byte(s), []byte("\n"))
		files[e.file] = append(files[e.file], s...)
	}
	return files, badLines
}

// TestReplay_WriteFixtures rewrites the fixture files with -update.
func TestReplay_WriteFixtures(t *testing.T) {
	if !golden.Update() {
		t.Skip("run with -update to rewrite the fixtures")
	}
	files, _ := fixtureContents()
	for name, data := range files {
		path := filepath.Join(fixtureRoot, name)
		if filepath.Ext(name) == ".gz" {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.ModTime = fixtureDay1 // reproducible bytes
			zw.Write(data)
			zw.Close()
			data = b.Bytes()
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
