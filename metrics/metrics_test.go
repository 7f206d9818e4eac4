package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/store"
)

// scriptRunner behaves like a Wazuh script that takes 2 s a run: an add
// sends check_keys with its address; 203.0.113.8 fails and 203.0.113.9 is
// killed at its time limit.
type scriptRunner struct{}

func (scriptRunner) Run(ctx context.Context, inv engine.Invocation, check engine.CheckKeys) error {
	time.Sleep(2 * time.Second)
	switch {
	case inv.Op == engine.OpDelete:
		return nil
	case inv.Fields.SrcIP == "203.0.113.8":
		return errors.New("exit status 1")
	case inv.Fields.SrcIP == "203.0.113.9":
		return fmt.Errorf("killed: %w", context.DeadlineExceeded)
	}
	_, err := check([]string{inv.Fields.SrcIP})
	return err
}

// countingStore counts the writes that reach the store.
type countingStore struct {
	engine.Store
	applies atomic.Int64
}

func (s *countingStore) Apply(c engine.Change) error {
	s.applies.Add(1)
	return s.Store.Apply(c)
}

func scriptConfig() *engine.Config {
	fw := &engine.Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
	acct := &engine.Command{Name: "disable-account", Executable: "disable-account", TimeoutAllowed: true}
	return &engine.Config{
		Commands: []*engine.Command{fw, acct},
		Responses: []*engine.Response{
			{Command: fw, RulesID: []string{"5712"}, Timeout: 10 * time.Minute, Line: 12},
			{Command: acct, Location: engine.LocationDefinedAgent, AgentID: "007", RulesID: []string{"5712"}, Line: 20},
		},
		WhiteList: []engine.WhiteListEntry{{Prefix: netip.MustParsePrefix("203.0.113.128/25")}},
	}
}

// scrape parses what m serves.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return parse(t, rec.Body.String())
}

func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return fams
}

// value returns the value of the sample of family name with labels (name,
// value pairs): a counter's or gauge's value, a histogram's count and sum;
// -1 when there is no such sample.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) (v, sum float64) {
	t.Helper()
next:
	for _, m := range fams[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if got[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), 0
		case m.Gauge != nil:
			return m.Gauge.GetValue(), 0
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), m.Histogram.GetSampleSum()
		}
	}
	return -1, -1 // no such sample
}

func check(t *testing.T, fams map[string]*dto.MetricFamily, want float64, name string, labels ...string) {
	t.Helper()
	if got, _ := value(t, fams, name, labels...); got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// TestMetrics_ScriptedRun runs the engine on a fake clock through alerts,
// a timeout and a failure of each kind, scrapes the endpoint's handler
// and checks the values.
func TestMetrics_ScriptedRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	ips := []string{"203.0.113.200", "203.0.113.7", "203.0.113.7", "203.0.113.6", "203.0.113.8", "203.0.113.9", "198.51.100.1"}
	var lines [][]byte
	var file []byte
	for i, ip := range ips {
		l := fmt.Appendf(nil, `{"rule":{"level":10,"id":"5712"},"id":"1.%d","data":{"srcip":%q}}`, i, ip)
		lines = append(lines, l)
		file = append(append(file, l...), '\n')
	}
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		m := New()
		st := &countingStore{Store: store.NewMemory()}
		e, err := engine.New(engine.Options{Store: m.Store(st), Runner: scriptRunner{}, Observer: m.Observer()})
		if err != nil {
			t.Fatal(err)
		}
		e.SetConfig(scriptConfig())
		var ahead atomic.Int64 // the clock of reverts_overdue, ahead of the engine's
		m.Watch(e, []string{path}, func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		handle := m.Read(path, func(r engine.Record) error { return e.Handle(ctx, r) })
		var off int64
		for _, l := range lines[:len(lines)-1] { // the last line is left unread
			off += int64(len(l)) + 1
			if err := handle(engine.Record{Data: l, Pos: engine.Position{Source: path, FileID: "1:1", Offset: off}}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Second) // the runs (two in 203.0.113.7's lane) take 2 s each
		synctest.Wait()
		m.Reloaded(ReloadApplied)

		fams := scrape(t, m)
		check(t, fams, 6, "threatlockdown_alerts_read_total", "file", path)
		check(t, fams, float64(len(lines[len(lines)-1])+1), "threatlockdown_tail_lag_bytes", "file", path)
		check(t, fams, 1+2*5, "threatlockdown_alerts_matched_total")
		check(t, fams, 1, "threatlockdown_alerts_skipped_total", "reason", "white_list")
		check(t, fams, 5, "threatlockdown_alerts_skipped_total", "reason", "location")
		check(t, fams, 0, "threatlockdown_alerts_skipped_total", "reason", "invalid_srcip")
		for outcome, n := range map[string]float64{"continue": 2, "abort": 1, "failed": 1, "timed_out": 1} {
			check(t, fams, n, "threatlockdown_commands_total", "command", "firewall-drop", "op", "add", "outcome", outcome)
		}
		if n, sum := value(t, fams, "threatlockdown_command_duration_seconds", "command", "firewall-drop", "op", "add"); n != 5 || sum != 10 {
			t.Errorf("add durations: %v runs, %v s; want 5 runs of 2 s", n, sum)
		}
		if n, sum := value(t, fams, "threatlockdown_alert_to_action_seconds", "command", "firewall-drop"); n != 2 || sum != 4 {
			t.Errorf("latency: %v adds, %v s; want 2 adds of 2 s", n, sum)
		}
		check(t, fams, 2, "threatlockdown_active_responses", "command", "firewall-drop")
		check(t, fams, 0, "threatlockdown_reverts_overdue")
		check(t, fams, 1, "threatlockdown_config_reloads_total", "outcome", "applied")
		check(t, fams, 0, "threatlockdown_config_reloads_total", "outcome", "invalid")
		check(t, fams, float64(st.applies.Load()), "threatlockdown_store_commit_duration_seconds")
		check(t, fams, 0, "threatlockdown_store_commit_errors_total")
		check(t, fams, 0, "threatlockdown_history_dropped_total")
		if _, ok := fams["go_goroutines"]; !ok {
			t.Error("no Go runtime metrics")
		}

		ahead.Store(int64(time.Hour))
		check(t, scrape(t, m), 2, "threatlockdown_reverts_overdue")
		ahead.Store(0)

		time.Sleep(10*time.Minute + 3*time.Second) // both reverts run (2 s each)
		synctest.Wait()
		fams = scrape(t, m)
		check(t, fams, 2, "threatlockdown_commands_total", "command", "firewall-drop", "op", "delete", "outcome", "done")
		if n, sum := value(t, fams, "threatlockdown_command_duration_seconds", "command", "firewall-drop", "op", "delete"); n != 2 || sum != 4 {
			t.Errorf("delete durations: %v runs, %v s", n, sum)
		}
		check(t, fams, -1, "threatlockdown_active_responses", "command", "firewall-drop") // none left
		check(t, fams, 0, "threatlockdown_reverts_overdue")
	})
}

// TestMetrics_Serve scrapes a real loopback endpoint.
func TestMetrics_Serve(t *testing.T) {
	m, err := Open("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.Reloaded(ReloadInvalid)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- m.Serve(ctx) }()
	resp, err := http.Get("http://" + m.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s", resp.Status)
	}
	check(t, parse(t, string(body)), 1, "threatlockdown_config_reloads_total", "outcome", "invalid")
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close after Serve: %v", err)
	}
	if _, err := http.Get("http://" + m.Addr() + "/metrics"); err == nil {
		t.Error("still served after Close")
	}
}

func TestOpen_LoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "203.0.113.5:9101", "example.com:9101", "[::]:0"} {
		if m, err := Open(addr); !errors.Is(err, ErrNotLoopback) {
			m.Close()
			t.Errorf("Open(%q) = %v, want ErrNotLoopback", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "127.0.0.2:0"} {
		m, err := Open(addr)
		if err != nil {
			t.Errorf("Open(%q): %v", addr, err)
			continue
		}
		m.Close()
	}
}

// TestMetrics_Nil: a daemon without metrics wires a nil *Metrics.
func TestMetrics_Nil(t *testing.T) {
	var m *Metrics
	st := store.NewMemory()
	if m.Store(st) != engine.Store(st) || m.Observer() != nil {
		t.Error("a nil Metrics must leave the store and observer alone")
	}
	h := m.Read("x", func(engine.Record) error { return errors.New("passed on") })
	if err := h(engine.Record{}); err == nil || err.Error() != "passed on" {
		t.Errorf("Read: %v", err)
	}
	m.Reloaded(ReloadApplied)
	m.Watch(nil, nil, nil)
	if m.Serve(context.Background()) != nil || m.Close() != nil || m.Addr() != "" {
		t.Error("a nil Metrics serves nothing")
	}
}

// TestMetrics_HistoryDropped: escapes that come faster than a commit takes
// their history (here, with no time passing, all wait for one) are
// dropped past the engine's bound, and counted.
func TestMetrics_HistoryDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New()
		e, err := engine.New(engine.Options{Store: store.NewMemory(), Runner: scriptRunner{}})
		if err != nil {
			t.Fatal(err)
		}
		fw := &engine.Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
		e.SetConfig(&engine.Config{Commands: []*engine.Command{fw}, Responses: []*engine.Response{
			{Command: fw, RulesID: []string{"5712"}, Location: engine.LocationDefinedAgent, AgentID: "999", Timeout: time.Minute},
		}})
		m.Watch(e, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		defer func() { cancel(); <-done }()
		const n = 1<<16 + 40
		for i := 1; i <= n; i++ {
			l := fmt.Appendf(nil, `{"rule":{"level":10,"id":"5712"},"id":"1.%d","data":{"srcip":"2001:db8::%x"}}`, i, i)
			if err := e.Handle(ctx, engine.Record{Data: l, Pos: engine.Position{Source: "a", FileID: "1:1", Offset: int64(i)}}); err != nil {
				t.Fatal(err)
			}
		}
		if e.HistoryDropped() == 0 {
			t.Fatal("no history dropped: the storm did not reach the bound")
		}
		check(t, scrape(t, m), float64(e.HistoryDropped()), "threatlockdown_history_dropped_total")
	})
}
