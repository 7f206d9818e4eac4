package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/internal/golden"
	"github.com/threatlockdown/threatlockdown/platform/control"
)

// waitHistory waits until explain shows at least n history records for
// who (the daemon writes them with its next commit, within a second), and
// returns the explanation.
func waitHistory(t *testing.T, d *daemon, who string, n int) explainView {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var x explainView
		tldJSON(t, d.root, &x, "explain", who)
		if len(x.History) >= n {
			return x
		}
		if time.Now().After(deadline) {
			t.Fatalf("explain %s: %d history records, want %d: %+v\n%s", who, len(x.History), n, x, d.logs())
		}
		time.Sleep(20 * time.Millisecond) // polls the daemon's state
	}
}

// outcomes is the history as "outcome alert key groups line N" lines.
func outcomes(x explainView) []string {
	var out []string
	for _, h := range x.History {
		out = append(out, strings.Join([]string{h.Outcome, h.AlertID, h.Key, strings.TrimSuffix(h.Groups, ",")}, " ")+
			" line "+strconv.Itoa(h.Line))
	}
	return out
}

// TestExplain_History: through the socket, explain shows what the daemon
// did for a target from the store's history: applied, aborted while
// active, unblocked, escaped by the white list, each with its alert, rule,
// groups and <active-response> line; alerts of the file that triggered no
// response come from the file's tail, with why; and, the daemon stopped,
// the same history is read from the store offline.
func TestExplain_History(t *testing.T) {
	conf := strings.Replace(confWith(600), "</ossec_config>", `  <global><white_list>198.51.100.0/24</white_list></global>
</ossec_config>`, 1)
	root := newRoot(t, conf)
	d := startInProcess(t, root)
	d.alert("203.0.113.60", "31.1")
	waitList(t, d, 1)
	d.alert("203.0.113.60", "31.2") // active: aborted
	d.alertRule("203.0.113.60", "31.3", "5710")
	d.alert("198.51.100.61", "31.4") // white-listed
	waitCalls(t, d, 2, 5*time.Second)
	if out, errs, code := tld(t, root, "unblock", "203.0.113.60"); code != 0 {
		t.Fatalf("unblock: exit %d: %s%s", code, out, errs)
	}
	x := waitHistory(t, d, "203.0.113.60", 3)
	want := []string{
		"applied 31.1 test-drop-203.0.113.60 syslog,sshd,authentication_failures line 7",
		"aborted-already-active 31.2 test-drop-203.0.113.60 syslog,sshd,authentication_failures line 7",
		"unblocked 31.1 test-drop-203.0.113.60  line 0",
	}
	if got := outcomes(x); !slices.Equal(got, want) {
		t.Errorf("history of 203.0.113.60:\n got %q\nwant %q", got, want)
	}
	if h := x.History[0]; h.RuleID != "5712" || h.Level != 10 || h.Command != "test-drop" {
		t.Errorf("applied record %+v", h)
	}
	// The alert of rule 5710 triggered nothing: it comes from the file,
	// with the reason; those that did are in the history only.
	if len(x.Alerts) != 1 || x.Alerts[0].ID != "31.3" || x.Alerts[0].Responses[0].Reason != "rule 5710 is not in rules_id 5712" {
		t.Errorf("alerts from the file: %+v", x.Alerts)
	}
	out, _, code := tld(t, root, "explain", "203.0.113.60")
	for _, s := range []string{"history, oldest first:", "aborted-already-active", "line 7", "unblocked",
		"skipped: rule 5710 is not in rules_id 5712", "alerts that trigger no response"} {
		if code != 0 || !strings.Contains(out, s) {
			t.Errorf("explain text (exit %d) lacks %q:\n%s", code, s, out)
		}
	}
	w := waitHistory(t, d, "198.51.100.61", 1)
	if got := outcomes(w); !slices.Equal(got, []string{"escaped:white_list 31.4  syslog,sshd,authentication_failures line 7"}) {
		t.Errorf("history of 198.51.100.61: %q", got)
	}
	var mapped explainView
	tldJSON(t, root, &mapped, "explain", "::ffff:198.51.100.61")
	if mapped.Target != "198.51.100.61" || len(mapped.History) != 1 {
		t.Errorf("an IPv4-mapped address is its IPv4 address: %+v", mapped)
	}

	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	var off explainView
	tldJSON(t, root, &off, "explain", "203.0.113.60")
	if got := outcomes(off); !slices.Equal(got, want) || len(off.Active) != 0 {
		t.Errorf("offline history: %q, active %+v", got, off.Active)
	}
}

// TestExplain_NoHistory: with no history for the target (right after an
// upgrade, or --history 0), explain shows every recent alert of the file
// with each block's verdict, and says so.
func TestExplain_NoHistory(t *testing.T) {
	root := newRoot(t, confWith(600))
	m := &Main{Root: root}
	lines := `{"rule":{"level":10,"id":"5712","groups":["sshd"]},"id":"41.1","data":{"srcip":"203.0.113.80"}}
{"rule":{"level":10,"id":"5710","groups":["sshd"]},"id":"41.2","data":{"srcip":"203.0.113.80"}}
{"rule":{"level":10,"id":"5712","groups":["sshd"]},"id":"41.3","data":{"srcip":"203.0.113.81"}}
`
	if err := os.WriteFile(filepath.Join(root, "logs/alerts/alerts.json"), []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := m.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	explain := func(a []byte) (engine.Explanation, error) { return engine.ExplainConfig(cfg, "000", nil, a) }
	req := control.Request{Command: "explain", Args: []string{"203.0.113.80"}}
	for _, tc := range []struct {
		name string
		hist engine.HistoryReader
		note string
	}{
		{"empty", noHistory{}, "history: none for 203.0.113.80 in the store"},
		{"kept none", nil, "history: none, this store keeps none"},
	} {
		x, err := m.explainRequest(req, explain, nil, tc.hist, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(x.History) != 0 || len(x.Alerts) != 2 || !x.Alerts[0].Responses[0].Runs || x.Alerts[1].Responses[0].Runs {
			t.Errorf("%s: %+v", tc.name, x)
		}
		if !strings.Contains(x.Note, tc.note) || !strings.Contains(x.Note, "alerts: the last 20 for 203.0.113.80") {
			t.Errorf("%s: note %q", tc.name, x.Note)
		}
	}
	// With a history, only the alert that triggered nothing comes from the file.
	hist := readHistory{events: []engine.HistoryEvent{{Target: "203.0.113.80", Time: time.Now(), Outcome: engine.HistoryApplied, AlertID: "41.1"}}}
	x, err := m.explainRequest(req, explain, nil, hist, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.History) != 1 || len(x.Alerts) != 1 || x.Alerts[0].ID != "41.2" || strings.Contains(x.Note, "dropped") {
		t.Errorf("with a history: %+v", x)
	}
	// With history events dropped in a storm, the history may lack some:
	// every alert comes from the file, and the note says why.
	x, err = m.explainRequest(req, explain, nil, hist, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.History) != 1 || len(x.Alerts) != 2 || x.Alerts[0].ID != "41.1" || x.Alerts[1].ID != "41.2" ||
		!strings.Contains(x.Note, "history: 1 records from the store") ||
		!strings.Contains(x.Note, "history: 7 events dropped") || !strings.Contains(x.Note, "alerts: the last 20") ||
		strings.Contains(x.Note, "trigger no response") {
		t.Errorf("with history dropped: %+v", x)
	}
	// Events dropped before a restart, or while no daemon runs: the store
	// says when, and the note says so without a count.
	hist.gap = time.Date(2026, 12, 3, 9, 30, 0, 0, time.Local)
	x, err = m.explainRequest(req, explain, nil, hist, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.History) != 1 || len(x.Alerts) != 2 || x.Alerts[0].ID != "41.1" ||
		!strings.Contains(x.Note, "history: events were dropped at 2026-12-03 09:30:00") {
		t.Errorf("with a gap in the store: %+v", x)
	}
	x, err = m.explainRequest(req, explain, nil, hist, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Alerts) != 2 || !strings.Contains(x.Note, "history: 7 events dropped since the daemon started, the latest stored one at 2026-12-03 09:30:00") {
		t.Errorf("with both: %+v", x)
	}
}

// TestExplain_Golden: the text explain prints for a target with an active
// block and a history of every kind (golden file; -update rewrites it).
func TestExplain_Golden(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 12, 1, 9, 30, s, 0, time.Local) }
	x := explainView{
		Target: "203.0.113.7",
		Active: []entryView{{Key: "firewall-drop-203.0.113.7", Command: "firewall-drop", Executable: "firewall-drop",
			Target: "203.0.113.7", Since: at(20), Until: at(20).Add(10 * time.Minute), Offences: 2, AlertID: "1764581420.77",
			RuleID: "5763", State: "active"}},
		History: []historyView{
			{Time: at(0), Outcome: "escaped:location", AlertID: "1764581400.11", RuleID: "5712", Level: 10, Groups: "syslog,sshd,authentication_failures,", Line: 31, Command: "host-deny"},
			{Time: at(0), Outcome: "applied", AlertID: "1764581400.11", RuleID: "5712", Level: 10, Groups: "syslog,sshd,authentication_failures,", Line: 24, Command: "firewall-drop", Key: "firewall-drop-203.0.113.7"},
			{Time: at(5), Outcome: "aborted-already-active", AlertID: "1764581405.12", RuleID: "5712", Level: 10, Groups: "syslog,sshd,authentication_failures,", Line: 24, Command: "firewall-drop", Key: "firewall-drop-203.0.113.7",
				Repeats: 15, LastAlertID: "1764581409.40", Last: at(9)},
			{Time: at(12), Outcome: "unblocked", AlertID: "1764581400.11", RuleID: "5712", Command: "firewall-drop", Key: "firewall-drop-203.0.113.7"},
			{Time: at(20), Outcome: "applied", AlertID: "1764581420.77", RuleID: "5763", Level: 10, Groups: "syslog,sshd,authentication_failures,", Line: 24, Command: "firewall-drop", Key: "firewall-drop-203.0.113.7"},
			{Time: at(21), Outcome: "escaped:white_list", AlertID: "1764581421.78", RuleID: "100002", Level: 12, Groups: "web,attack,", Line: 40, Command: "firewall-drop"},
		},
		Alerts: []alertVerdicts{{ID: "1764581430.90", RuleID: "5710", Level: 5, Groups: "syslog,sshd,invalid_login,", AgentID: "000", SrcIP: "203.0.113.7",
			Responses: []verdictView{{Line: 24, Command: "firewall-drop", Reason: "level 5 below 6"}, {Line: 31, Command: "host-deny", Reason: "rule 5710 is not in rules_id 5712"}}}},
		Note: "history: 6 records from the store (kept 7 days by default, --history)\n" +
			"alerts that trigger no response: the last 20 for 203.0.113.7 in the last 16 MiB of /var/ossec/logs/alerts/alerts.json, judged by ossec.conf as it is now",
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 2, 8, 2, ' ', 0) // as client.print
	printExplain(tw, x)
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "explain.golden"), b.Bytes())
}

// TestParseHistory: --history takes a duration or whole days; 0 keeps none.
func TestParseHistory(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "36h": 36 * time.Hour, "0": -1, "0d": -1} {
		if got, err := parseHistory(in); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-1h", "week", "1.5d"} {
		if _, err := parseHistory(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	m, err := ParseFlags([]string{"--history", "2d"}, &bytes.Buffer{})
	if err != nil || m.History != 48*time.Hour {
		t.Errorf("--history 2d: %v %v", m, err)
	}
}
