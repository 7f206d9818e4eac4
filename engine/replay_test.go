package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"testing/synctest"
	"time"
)

var day0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// jsonAlert is an alerts.json line of rule 5712 (level 10, sshd) at at.
func jsonAlert(at time.Time, id, srcip string) []byte {
	return fmt.Appendf(nil, `{"timestamp":%q,"rule":{"level":10,"id":"5712","groups":["sshd","authentication_failures"]},`+
		`"agent":{"id":"000","name":"h"},"id":%q,"data":{"srcip":%q},"location":"/var/log/secure"}`,
		at.Format("2006-01-02T15:04:05.000-0700"), id, srcip)
}

func replayAll(t *testing.T, r *Replay, lines ...[]byte) ReplayReport {
	t.Helper()
	for i, l := range lines {
		if err := r.Add(Record{Data: l}); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	return r.Report()
}

func TestReplay_AbortAndExpiry(t *testing.T) {
	r := NewReplay(testConfig(10*time.Minute), ReplayOptions{})
	rep := replayAll(t, r,
		jsonAlert(day0, "1.1", "203.0.113.7"),
		jsonAlert(day0.Add(4*time.Minute), "1.2", "203.0.113.7"),   // active: abort, expires at 14m now
		jsonAlert(day0.Add(12*time.Minute), "1.3", "203.0.113.7"),  // still active (14m): abort, 22m
		jsonAlert(day0.Add(22*time.Minute), "1.4", "203.0.113.7"),  // expired at 22m: continue
		jsonAlert(day0.Add(23*time.Minute), "1.5", "198.51.100.9"), // another key
	)
	got := [...]int{rep.Runs, rep.Continues, rep.Aborts, rep.Reverts, rep.ActiveAtEnd}
	if want := [...]int{5, 3, 2, 1, 2}; got != want {
		t.Errorf("runs, continues, aborts, reverts, active = %v, want %v", got, want)
	}
	if !rep.First.Equal(day0) || !rep.Last.Equal(day0.Add(23*time.Minute)) {
		t.Errorf("first %v last %v", rep.First, rep.Last)
	}
	resp := rep.Responses[0]
	if resp.Keys != 2 || resp.MaxOffences != 4 || resp.EscalatedKey != "firewall-drop-203.0.113.7" {
		t.Errorf("response %+v", resp)
	}
	if want := []KeyCount{{"203.0.113.7", 4}, {"198.51.100.9", 1}}; !slices.Equal(resp.Top, want) {
		t.Errorf("top %v, want %v", resp.Top, want)
	}
}

// TestReplay_EscalationOverADay: one address every 15 minutes for a day
// and another every 3 hours, timeout 10 m, repeated_offenders 30,60,120.
func TestReplay_EscalationOverADay(t *testing.T) {
	cfg := testConfig(10*time.Minute, 30*time.Minute, time.Hour, 2*time.Hour)
	var lines [][]byte
	type ev struct {
		at time.Duration
		ip string
	}
	var evs []ev
	for m := 0; m < 24*60; m += 15 {
		evs = append(evs, ev{time.Duration(m) * time.Minute, "203.0.113.7"})
	}
	for m := 0; m < 24*60; m += 180 {
		evs = append(evs, ev{time.Duration(m)*time.Minute + time.Second, "198.51.100.9"})
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	for i, e := range evs {
		lines = append(lines, jsonAlert(day0.Add(e.at), fmt.Sprint("1772323200.", i), e.ip))
	}
	rep := replayAll(t, NewReplay(cfg, ReplayOptions{}), lines...)
	// 203.0.113.7: continue at 0 (10 m, reverted at 10), continue at 15
	// (offence 2: 30 m), then every alert finds it active: 94 aborts, each
	// restarting 2 h; it is still active at the end.
	// 198.51.100.9: 8 continues, each timeout (10, 30, 60, 120, 120...)
	// over before the next; the last, at 21:00, is reverted at 23:00.
	got := [...]int{rep.Runs, rep.Continues, rep.Aborts, rep.Reverts, rep.ActiveAtEnd}
	if want := [...]int{104, 10, 94, 9, 1}; got != want {
		t.Errorf("runs, continues, aborts, reverts, active = %v, want %v", got, want)
	}
	resp := rep.Responses[0]
	if resp.MaxOffences != 96 || resp.LongestTimeoutSeconds != 7200 || resp.EscalatedKey != "firewall-drop-203.0.113.7" {
		t.Errorf("escalation: offences %d, longest %vs, key %s", resp.MaxOffences, resp.LongestTimeoutSeconds, resp.EscalatedKey)
	}
	if d := rep.Last.Sub(rep.First); d != 23*time.Hour+45*time.Minute {
		t.Errorf("simulated %v", d)
	}
}

func netipPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReplay_SkipReasons(t *testing.T) {
	fw := &Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
	acct := &Command{Name: "disable-account", Executable: "disable-account", TimeoutAllowed: true}
	cfg := &Config{
		Commands: []*Command{fw, acct},
		Responses: []*Response{
			{Command: fw, RulesID: []string{"5712"}, Timeout: time.Minute, Line: 10},
			{Command: acct, Location: LocationDefinedAgent, AgentID: "007", RulesID: []string{"5712"}, Line: 20},
		},
		WhiteList: []WhiteListEntry{{Prefix: netipPrefix(t, "198.51.100.0/24")}},
	}
	line := func(srcip, user string) []byte {
		return fmt.Appendf(nil, `{"timestamp":"2026-03-01T00:00:00.000+0000","rule":{"level":10,"id":"5712"},"id":"1.1",`+
			`"data":{"srcip":%q,"dstuser":%q}}`, srcip, user)
	}
	rep := replayAll(t, NewReplay(cfg, ReplayOptions{}),
		line("198.51.100.5", "bob"),  // white list: the alert runs nothing
		line("not-an-ip", "bob"),     // invalid srcip
		line("127.0.0.1", "bob"),     // the host itself
		line("203.0.113.7", "b o b"), // invalid user
		line("203.0.113.7", "bob"),   // fw runs; acct is for agent 007
	)
	want := map[string]int{SkipWhiteList: 1, SkipSrcIP: 1, SkipOwnAddress: 1, SkipUser: 1, SkipLocation: 1}
	if !maps.Equal(rep.Skipped, want) {
		t.Errorf("skipped %v, want %v", rep.Skipped, want)
	}
	if rep.Matched != 6 || rep.Runs != 1 {
		t.Errorf("matched %d runs %d, want 6 and 1", rep.Matched, rep.Runs)
	}
	if r := rep.Responses[1]; r.Line != 20 || r.Matched != 1 || r.Skipped[SkipLocation] != 1 {
		t.Errorf("response at line 20: %+v", r)
	}
}

func TestReplay_KeysAndProtocols(t *testing.T) {
	script := &Command{Name: "s", Executable: "my-script", TimeoutAllowed: true}
	legacy := &Command{Name: "l", Executable: "old-script", TimeoutAllowed: true, Protocol: ProtocolLegacy}
	restart := &Command{Name: "r", Executable: "restart-wazuh"}
	cfg := &Config{
		Commands: []*Command{script, legacy, restart},
		Responses: []*Response{
			{Command: script, RulesID: []string{"5712"}, Timeout: time.Hour, Line: 1},
			{Command: legacy, RulesID: []string{"5712"}, Timeout: time.Hour, Line: 2},
			{Command: restart, RulesID: []string{"5712"}, Line: 3},
		},
	}
	keys := func(c *Command, f Fields) ([]string, bool, error) {
		if c.Executable == "my-script" {
			if f.SrcIP == "203.0.113.66" {
				return nil, false, errors.New("refused")
			}
			return []string{"x" + f.SrcIP}, true, nil
		}
		if c.Protocol == ProtocolLegacy {
			t.Errorf("KeysFunc called for %s: the engine keys legacy runs", c.Executable)
		}
		return nil, false, nil // restart-wazuh sends no check_keys
	}
	rep := replayAll(t, NewReplay(cfg, ReplayOptions{Keys: keys}),
		jsonAlert(day0, "1.1", "203.0.113.7"),
		jsonAlert(day0.Add(time.Minute), "1.2", "203.0.113.7"),
		jsonAlert(day0.Add(2*time.Minute), "1.3", "203.0.113.66"),
	)
	s, l, r := rep.Responses[0], rep.Responses[1], rep.Responses[2]
	if s.Continues != 1 || s.Aborts != 1 || s.Failed != 1 || s.Failure != "refused" || s.Top[0].Target != "x203.0.113.7" {
		t.Errorf("script: %+v", s)
	}
	if l.Continues != 2 || l.Aborts != 1 || l.Top[0] != (KeyCount{"203.0.113.7", 2}) {
		t.Errorf("legacy: %+v", l)
	}
	if r.Stateless != 3 || r.Continues != 0 {
		t.Errorf("restart: %+v", r)
	}
}

func TestReplay_BadRecordsAndText(t *testing.T) {
	text := "** Alert 1772323200.100: - syslog,sshd,authentication_failed,\n" +
		"2026 Mar 01 00:00:00 host->/var/log/secure\n" +
		"Rule: 5712 (level 10) -> 'sshd: brute force'\n" +
		"Src IP: 203.0.113.7\n" +
		"Mar  1 00:00:00 host sshd[1]: Invalid user x from 203.0.113.7"
	r := NewReplay(testConfig(time.Hour), ReplayOptions{})
	recs := []Record{
		{Data: []byte(text), Format: FormatText},
		{Data: []byte(`{"rule":{"level":10,"id":"5712"`)},         // cut short
		{Data: []byte(`{"rule":{"level":10,"id":"5712"},"x":[}`)}, // bad JSON a command would get
		{Data: []byte("** Alert nonsense"), Format: FormatText},   // not a block
		{Data: []byte(`{"rule":{"level":10,"id":"5712"},"id":"1772323260.1"` + `,"data":{"srcip":"203.0.113.7"}}`)},
	}
	var errs int
	for _, rec := range recs {
		if r.Add(rec) != nil {
			errs++
		}
	}
	rep := r.Report()
	if errs != 3 || rep.Malformed != 3 || rep.Alerts != 5 {
		t.Errorf("errors %d, malformed %d, alerts %d", errs, rep.Malformed, rep.Alerts)
	}
	// The text block's time is its id; the last alert's too (no timestamp).
	if rep.Continues != 1 || rep.Aborts != 1 || !rep.First.Equal(time.Unix(1772323200, 0)) ||
		!rep.Last.Equal(time.Unix(1772323260, 0)) {
		t.Errorf("report %+v", rep)
	}
}

func TestReplay_Window(t *testing.T) {
	r := NewReplay(testConfig(time.Hour), ReplayOptions{Since: day0.Add(time.Hour), Until: day0.Add(2 * time.Hour)})
	var lines [][]byte
	for m := 0; m < 180; m += 30 {
		lines = append(lines, jsonAlert(day0.Add(time.Duration(m)*time.Minute), "1.1", fmt.Sprint("203.0.113.", m)))
	}
	rep := replayAll(t, r, lines...)
	if rep.OutsideWindow != 4 || rep.Runs != 2 || !rep.First.Equal(day0.Add(time.Hour)) {
		t.Errorf("outside %d runs %d first %v", rep.OutsideWindow, rep.Runs, rep.First)
	}
}

// TestReplay_AgreesWithDaemon feeds the same alerts to the running engine
// (fake clock) and to a Replay, and compares their tables and offences.
func TestReplay_AgreesWithDaemon(t *testing.T) {
	cfg := testConfig(10*time.Minute, 20*time.Minute, 40*time.Minute)
	var lines [][]byte
	var daemon *Engine
	var daemonRuns []string
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, cfg, "b")
		rnd := rand.New(rand.NewPCG(1, 2))
		for i := range 300 {
			// Milliseconds: an alert never comes at the very instant an
			// entry expires, where the daemon's order would be a race.
			time.Sleep(time.Duration(1+rnd.IntN(600_000)) * time.Millisecond)
			line := jsonAlert(time.Now(), fmt.Sprint("1.", i), fmt.Sprint("203.0.113.", rnd.IntN(8)))
			lines = append(lines, line)
			if err := h.e.Handle(context.Background(), Record{Data: line, Pos: Position{Source: "a", FileID: "1", Offset: int64(i)}}); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		h.stop()
		daemon, daemonRuns = h.e, h.runner.seen()
	})
	r := NewReplay(cfg, ReplayOptions{})
	rep := replayAll(t, r, lines...)
	var adds, deletes int
	for _, s := range daemonRuns {
		if s[:3] == "add" {
			adds++
		} else {
			deletes++
		}
	}
	if rep.Runs != adds || rep.Reverts != deletes {
		t.Errorf("replay: %d runs, %d reverts; daemon: %d adds, %d deletes", rep.Runs, rep.Reverts, adds, deletes)
	}
	counts := func(e *Engine) map[string]int32 { // when each last grew is the daemon's bookkeeping
		m := map[string]int32{}
		for k, o := range e.offences {
			m[k] = o.n
		}
		return m
	}
	if !maps.Equal(counts(r.e), counts(daemon)) {
		t.Errorf("offence counts differ:\nreplay %v\ndaemon %v", counts(r.e), counts(daemon))
	}
	expires := func(e *Engine) map[string]time.Time {
		m := map[string]time.Time{}
		for k, t := range e.table {
			m[k] = t.Expires
		}
		return m
	}
	if got, want := expires(r.e), expires(daemon); !maps.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("tables differ:\nreplay %v\ndaemon %v", got, want)
	}
	t.Logf("runs %d continue %d abort %d reverts %d active %d maxoff %d", rep.Runs, rep.Continues, rep.Aborts, rep.Reverts, rep.ActiveAtEnd, rep.Responses[0].MaxOffences)
	if rep.Aborts == 0 || rep.Reverts == 0 || rep.Responses[0].MaxOffences < 3 {
		t.Errorf("the schedule should abort, revert and escalate: %+v", rep)
	}
}
