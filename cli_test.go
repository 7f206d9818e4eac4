package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// The control commands, end to end: the CLI's own code (run) against a
// daemon running in-process on a temp root, through the socket.

// tld runs the command line args against root and returns its output and
// exit code as main would make them.
func tld(t *testing.T, root string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	argv := append([]string{"threatlockdown", args[0], "--root", root}, args[1:]...)
	err := run(context.Background(), argv, stdio{strings.NewReader(""), &out, &errb})
	code = report(err, &errb)
	return out.String(), errb.String(), code
}

// tldJSON runs args with --json and decodes the output into v.
func tldJSON(t *testing.T, root string, v any, args ...string) {
	t.Helper()
	out, errs, code := tld(t, root, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// waitList waits until list shows n active responses and returns them.
func waitList(t *testing.T, d *daemon, n int) []entryView {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var list []entryView
		tldJSON(t, d.root, &list, "list")
		if len(list) == n {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("list: %+v, want %d entries\n%s", list, n, d.logs())
		}
		time.Sleep(20 * time.Millisecond) // polls the daemon's state
	}
}

// TestCLI_UnblockExplainAnySpelling: entries keep the alert's spelling of
// an address; unblock and explain find them by any other (upper case,
// zeros written out, IPv4 written as IPv4-mapped IPv6 or the reverse).
func TestCLI_UnblockExplainAnySpelling(t *testing.T) {
	root := newRoot(t, confWith(3600))
	d := startInProcess(t, root)
	d.alert("2001:DB8::7", "21.1")
	d.alert("::ffff:203.0.113.77", "21.2")
	d.alert("198.51.100.78", "21.3")
	waitCalls(t, d, 3, 5*time.Second)
	waitList(t, d, 3)
	for _, c := range []struct{ arg, target string }{
		{"2001:db8:0::7", "2001:DB8::7"},
		{"203.0.113.77", "::ffff:203.0.113.77"},
		{"::ffff:198.51.100.78", "198.51.100.78"},
	} {
		var x explainView
		tldJSON(t, root, &x, "explain", c.arg)
		if len(x.Active) != 1 || x.Active[0].Target != c.target {
			t.Errorf("explain %s: active %+v, want the entry of %s", c.arg, x.Active, c.target)
		}
	}
	var res []unblockResult
	tldJSON(t, root, &res, "unblock", "2001:db8:0:0::7")
	if len(res) != 1 || res[0].Key != "test-drop-2001:DB8::7" || res[0].Error != "" {
		t.Errorf("unblock 2001:db8:0:0::7: %+v", res)
	}
	tldJSON(t, root, &res, "unblock", "203.0.113.77")
	if len(res) != 1 || res[0].Key != "test-drop-::ffff:203.0.113.77" || res[0].Error != "" {
		t.Errorf("unblock 203.0.113.77: %+v", res)
	}
	if l := waitList(t, d, 1); l[0].Target != "198.51.100.78" {
		t.Errorf("left after unblock: %+v", l)
	}
	// Another address, a prefix of one, matches nothing.
	for _, k := range []string{"2001:db8::", "198.51.100.7", "::ffff:198.51.100.7"} {
		if _, errs, code := tld(t, root, "unblock", k); code != 1 || !strings.Contains(errs, "nothing active for") {
			t.Errorf("unblock %q: exit %d: %s", k, code, errs)
		}
	}
}

func TestCLI_StatusListUnblock(t *testing.T) {
	root := newRoot(t, confWith(3600))
	d := startInProcess(t, root)
	d.alert("203.0.113.50", "20.1")
	d.alert("198.51.100.51", "20.2")
	waitCalls(t, d, 2, 5*time.Second)
	list := waitList(t, d, 2)
	e := list[1]
	if e.Key != "test-drop-203.0.113.50" || e.Command != "test-drop" || e.Target != "203.0.113.50" ||
		e.AlertID != "20.1" || e.RuleID != "5712" || e.Offences != 1 || e.Until.Sub(e.Since) != time.Hour {
		t.Errorf("list entry %+v", e)
	}
	out, _, _ := tld(t, root, "list")
	if !strings.Contains(out, "KEY") || !strings.Contains(out, "test-drop-198.51.100.51") {
		t.Errorf("list table:\n%s", out)
	}

	var st statusView
	tldJSON(t, root, &st, "status")
	if st.Alerts != 2 || st.Matched != 2 || st.Active != 2 || st.Root != root || st.Config != filepath.Join(root, "etc/ossec.conf") {
		t.Errorf("status %+v", st)
	}
	if out, _, code := tld(t, root, "status"); code != 0 || !regexp.MustCompile(`active responses:\s+2\n`).MatchString(out) ||
		strings.Contains(out, "history dropped") {
		t.Errorf("status table (exit %d):\n%s", code, out)
	}

	// Hostile and unknown keys match nothing, and the daemon goes on.
	for _, k := range []string{"1.2.3.4;rm -rf /", "$(reboot)", "test-drop-203.0.113.50 --all"} {
		if _, errs, code := tld(t, root, "unblock", k); code != 1 || !strings.Contains(errs, "nothing active for") {
			t.Errorf("unblock %q: exit %d: %s", k, code, errs)
		}
	}
	if out, errs, code := tld(t, root, "unblock", "203.0.113.50"); code != 0 || !strings.Contains(out, "test-drop-203.0.113.50  unblocked") {
		t.Fatalf("unblock: exit %d: %s%s", code, out, errs)
	}
	c := waitCalls(t, d, 3, 5*time.Second)
	wantCall(t, c, 2, "delete 203.0.113.50 20.1")
	if l := waitList(t, d, 1); l[0].Target != "198.51.100.51" {
		t.Errorf("left after unblock: %+v", l)
	}
	waitLog(t, d, `msg="unblock requested" component=control key=test-drop-203.0.113.50 by="uid `)
	var res []unblockResult
	tldJSON(t, root, &res, "unblock", "--all")
	if len(res) != 1 || res[0].Key != "test-drop-198.51.100.51" || res[0].Error != "" {
		t.Errorf("unblock --all: %+v", res)
	}
	waitList(t, d, 0)
}

func TestCLI_ExplainTriggerReload(t *testing.T) {
	conf := strings.Replace(confWith(600), "</ossec_config>", `  <global><white_list>198.51.100.0/24</white_list></global>
</ossec_config>`, 1)
	root := newRoot(t, conf)
	d := startInProcess(t, root)
	d.alert("203.0.113.60", "21.1")
	d.alert("198.51.100.61", "21.2") // white-listed
	waitCalls(t, d, 1, 5*time.Second)
	waitList(t, d, 1)

	x := waitHistory(t, d, "203.0.113.60", 1)
	if len(x.Active) != 1 || x.History[0].AlertID != "21.1" || x.History[0].Outcome != engine.HistoryApplied ||
		x.History[0].Line != 7 {
		t.Errorf("explain 203.0.113.60: %+v", x)
	}
	x = waitHistory(t, d, "198.51.100.61", 1)
	if len(x.Active) != 0 || x.History[0].Outcome != "escaped:white_list" {
		t.Errorf("explain 198.51.100.61: %+v", x)
	}
	out, _, code := tld(t, root, "explain", "--alert", `{"rule":{"level":3,"id":"1"},"data":{"srcip":"203.0.113.62"}}`)
	if code != 0 || !strings.Contains(out, "skipped: rule 1 is not in rules_id 5712") {
		t.Errorf("explain --alert (exit %d):\n%s", code, out)
	}
	if _, errs, code := tld(t, root, "explain", "--alert", "{not json"); code != 1 || errs == "" {
		t.Errorf("explain of a malformed alert: exit %d %s", code, errs)
	}

	if out, errs, code := tld(t, root, "trigger", "--command", "test-drop", "--srcip", "203.0.113.63", "--timeout", "60"); code != 0 {
		t.Fatalf("trigger: exit %d: %s%s", code, out, errs)
	}
	c := waitCalls(t, d, 2, 5*time.Second)
	if !strings.HasPrefix(c[1].what, "add 203.0.113.63 continue ") {
		t.Errorf("triggered run %q", c[1].what)
	}
	if l := waitList(t, d, 2); l[1].Target != "203.0.113.63" || l[1].Until.Sub(l[1].Since) != time.Minute {
		t.Errorf("triggered entry %+v", l[1])
	}
	for _, args := range [][]string{
		{"trigger", "--command", "test-drop", "--srcip", "1.2.3.4;rm -rf /"},
		{"trigger", "--command", "test-drop", "--srcip", "127.0.0.1"},
		{"trigger", "--command", "nope", "--srcip", "203.0.113.64"},
	} {
		if _, errs, code := tld(t, root, args...); code != 1 {
			t.Errorf("%v: exit %d: %s", args, code, errs)
		}
	}
	// The white list holds for a trigger too, unless forced.
	if _, errs, code := tld(t, root, "trigger", "--command", "test-drop", "--srcip", "198.51.100.65"); code != 1 || !strings.Contains(errs, "on the white list") {
		t.Errorf("trigger of a white-listed address: exit %d: %s", code, errs)
	}
	if out, errs, code := tld(t, root, "trigger", "--command", "test-drop", "--srcip", "198.51.100.65", "--force"); code != 0 {
		t.Fatalf("trigger --force: exit %d: %s%s", code, out, errs)
	}
	if c := waitCalls(t, d, 3, 5*time.Second); len(c) != 3 || !strings.HasPrefix(c[2].what, "add 198.51.100.65 continue ") {
		t.Errorf("runs after trigger --force: %+v", c)
	}

	write(t, filepath.Join(root, "etc/ossec.conf"), strings.Replace(conf, "5712", "5713", 1), 0o644)
	if out, errs, code := tld(t, root, "reload"); code != 0 || !strings.Contains(out, "5713") {
		t.Errorf("reload: exit %d: %s%s", code, out, errs)
	}
	write(t, filepath.Join(root, "etc/ossec.conf"), "<ossec_config><command><name>x</name>", 0o644)
	if _, errs, code := tld(t, root, "reload"); code != 1 || !strings.Contains(errs, filepath.Join(root, "etc/ossec.conf")+":") {
		t.Errorf("reload of a broken file: exit %d: %s", code, errs)
	}
}

// TestCLI_NotRunning: with no daemon, list and explain read the store and
// ossec.conf; the others exit 3.
func TestCLI_NotRunning(t *testing.T) {
	root := newRoot(t, confWith(3600))
	d := startInProcess(t, root)
	d.alert("203.0.113.70", "22.1")
	waitCalls(t, d, 1, 5*time.Second)
	waitList(t, d, 1)
	waitLog(t, d, `msg="job done"`)
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"status"}, {"unblock", "--all"}, {"trigger", "--command", "test-drop", "--srcip", "203.0.113.71"}, {"reload"}} {
		if _, errs, code := tld(t, root, args...); code != 3 || !strings.Contains(errs, "the daemon is not running") {
			t.Errorf("%v without a daemon: exit %d: %s", args, code, errs)
		}
	}
	var list []entryView
	tldJSON(t, root, &list, "list")
	if len(list) != 1 || list[0].Target != "203.0.113.70" {
		t.Errorf("list from the store: %+v", list)
	}
	var x explainView
	tldJSON(t, root, &x, "explain", "203.0.113.70")
	if len(x.Active) != 1 || len(x.History) != 1 || x.History[0].Outcome != engine.HistoryApplied || len(x.Alerts) != 0 {
		t.Errorf("explain without a daemon: %+v", x)
	}
}

// TestCLI_Purge: with the daemon stopped, purge lifts every active
// response (the scripts' deletes run) and removes the store and the socket
// with its directory; ossec.conf and the scripts stay. A link planted in
// the temp dir where a purge of this process could have put its empty
// alerts file (as root) is not followed.
func TestCLI_Purge(t *testing.T) {
	root := newRoot(t, confWith(3600))
	d := startInProcess(t, root)
	d.alert("203.0.113.80", "23.1")
	d.alert("198.51.100.81", "23.2")
	waitCalls(t, d, 2, 5*time.Second)
	waitList(t, d, 2)
	waitLog(t, d, `msg="job done"`)
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep me"), 0o600)
	planted := filepath.Join(os.TempDir(), fmt.Sprintf("threatlockdown-purge-%d.json", os.Getpid()))
	if err := os.Symlink(victim, planted); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(planted)
	out, errs, code := tld(t, root, "purge")
	if code != 0 || !strings.Contains(out, "lifted 2 active responses") {
		t.Fatalf("purge: exit %d: %s%s", code, out, errs)
	}
	c := calls(t, root)
	var deletes []string
	for _, x := range c[2:] {
		deletes = append(deletes, x.what)
	}
	slices.Sort(deletes)
	if want := []string{"delete 198.51.100.81 23.2", "delete 203.0.113.80 23.1"}; !slices.Equal(deletes, want) {
		t.Errorf("runs after the adds: %q, want %q", deletes, want)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Errorf("purge wrote through a planted link: %q", b)
	}
	for _, p := range []string{"var/db/threatlockdown.db", "var/run/threatlockdown/control.sock", "var/run/threatlockdown"} {
		if _, err := os.Stat(filepath.Join(root, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left after purge: %v", p, err)
		}
	}
	for _, p := range []string{"etc/ossec.conf", "active-response/bin/test-drop"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("purge removed %s: %v", p, err)
		}
	}
	if out, _, code := tld(t, root, "purge"); code != 0 || !strings.Contains(out, "nothing to lift") {
		t.Errorf("second purge: exit %d: %s", code, out)
	}
}

// TestCLI_StatusShowsHistoryDropped: history events lost in a storm of
// escapes (see engine's maxPendingHistory) are in status's JSON and, when
// there are any, in its text, since explain cannot show them.
func TestCLI_StatusShowsHistoryDropped(t *testing.T) {
	st := statusView{Active: 3, HistoryLost: 4321, SkippedBy: map[string]uint64{}}
	var out bytes.Buffer
	printStatus(&out, st)
	if !regexp.MustCompile(`history dropped:\s+4321 events`).MatchString(out.String()) {
		t.Errorf("status text:\n%s", out.String())
	}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"history_events_dropped":4321`)) {
		t.Errorf("status JSON: %s", raw)
	}
}

// blockingStore holds every Apply once armed, until released: a store that
// cannot keep up.
type blockingStore struct {
	engine.Store
	armed   atomic.Bool
	release chan struct{}
}

func (s *blockingStore) Apply(c engine.Change) error {
	if s.armed.Load() {
		<-s.release
	}
	return s.Store.Apply(c)
}

// TestCLI_HistoryDroppedShown: once more history events wait for one commit
// than the daemon keeps (a store that cannot keep up, a storm of alerts
// from white-listed addresses), status counts them, and explain lists a
// target's triggering alerts from the file with a note; once the daemon
// has stopped, explain still says when events were dropped.
func TestCLI_HistoryDroppedShown(t *testing.T) {
	if raceEnabled {
		// Over 65,536 events through the race detector, beside the other
		// packages' tests, missed a minute in CI; the wiring is the same.
		t.Skip("too slow under the race detector; run without -race")
	}
	conf := strings.Replace(confWith(600), "<ossec_config>", "<ossec_config>\n  <global><white_list>198.51.100.0/24</white_list></global>", 1)
	root := newRoot(t, conf)
	st := &blockingStore{release: make(chan struct{})}
	d := startInProcessWith(t, root, func(h *testHooks) {
		h.wrapStore = func(s engine.Store) engine.Store { st.Store = s; return st }
	}, "--log-level", "warn") // not a line per skipped alert: 65,536 and more
	release := sync.OnceFunc(func() { close(st.release) })
	t.Cleanup(release) // before the daemon stops: cleanups run last first
	st.armed.Store(true)
	var chunk strings.Builder
	for i := range 20_000 {
		fmt.Fprintf(&chunk, `{"rule":{"level":10,"id":"5712","groups":["sshd"]},"id":"50.%d","data":{"srcip":"198.51.100.9"}}`+"\n", i)
	}
	var view statusView
	for deadline := time.Now().Add(60 * time.Second); view.HistoryLost == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no history event dropped:\n%s", d.logs())
		}
		f, err := os.OpenFile(filepath.Join(root, "logs/alerts/alerts.json"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(chunk.String())
		f.Close()
		tldJSON(t, root, &view, "status")
	}
	if out, _, code := tld(t, root, "status"); code != 0 || !regexp.MustCompile(`history dropped:\s+[1-9][0-9]* events`).MatchString(out) {
		t.Errorf("status (exit %d):\n%s", code, out)
	}
	var x explainView
	tldJSON(t, root, &x, "explain", "198.51.100.9")
	if !strings.Contains(x.Note, "events dropped") || len(x.Alerts) == 0 {
		t.Errorf("explain after drops: note %q, %d alerts", x.Note, len(x.Alerts))
	}

	release()
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	x = explainView{}
	tldJSON(t, root, &x, "explain", "198.51.100.9")
	if !strings.Contains(x.Note, "history: events were dropped at") || len(x.Alerts) == 0 {
		t.Errorf("explain with the daemon stopped: note %q, %d alerts", x.Note, len(x.Alerts))
	}
}

// TestCLI_QuestionsGiveUpOnAStuckDaemon: a daemon that takes connections
// but never answers (stopped with SIGSTOP, wedged) makes status, list and
// explain fail with a clear error within their short limit, not the five
// minutes an unblock may take.
func TestCLI_QuestionsGiveUpOnAStuckDaemon(t *testing.T) {
	root := newRoot(t, confWith(60))
	m := Main{Root: root}
	os.MkdirAll(filepath.Dir(m.sockPath()), 0o700)
	ln, err := net.Listen("unix", m.sockPath())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(held)
				return
			}
			held <- c // read nothing, answer nothing
		}
	}()
	defer func() {
		ln.Close()
		for c := range held {
			c.Close()
		}
	}()
	saved := askTimeouts
	askTimeouts = map[string]time.Duration{"status": 50 * time.Millisecond, "list": 50 * time.Millisecond, "explain": 50 * time.Millisecond}
	defer func() { askTimeouts = saved }()
	for _, args := range [][]string{{"status"}, {"list"}, {"explain", "203.0.113.9"}} {
		_, errs, code := tld(t, root, args...)
		if code == 0 || !strings.Contains(errs, "the daemon did not answer "+args[0]+" within 50ms") {
			t.Errorf("%v against a stuck daemon: exit %d: %s", args, code, errs)
		}
	}
}
