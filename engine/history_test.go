package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/store"
)

// keyRunner acts like a Wazuh script: an add sends check_keys with its
// target (unless the command allows no timeout); nothing runs for real.
// With group set it is also a Grouper, deciding the adds of fw in the
// group commit.
type keyRunner struct {
	group bool
	fail  string // a command that cannot start
}

func (r *keyRunner) Run(ctx context.Context, inv engine.Invocation, check engine.CheckKeys) error {
	if inv.Command.Name == r.fail {
		return fmt.Errorf("%s: %w", inv.Command.Executable, engine.ErrNotStarted)
	}
	if inv.Op == engine.OpAdd && check != nil && inv.Command.TimeoutAllowed {
		_, err := check([]string{inv.Target.Key()})
		return err
	}
	return nil
}

func (r *keyRunner) Group(c engine.Command) engine.Group {
	if !r.group || c.Name != "fw" {
		return nil
	}
	return keyGroup{}
}

type keyGroup struct{}

func (keyGroup) Keys(f engine.Fields) ([]string, error) {
	if k := f.Target().Key(); k != "" {
		return []string{k}, nil
	}
	return nil, errors.New("no target")
}
func (keyGroup) KernelTimeout() bool                                      { return false }
func (keyGroup) Apply(context.Context, []engine.GroupAdd) (func(), error) { return nil, nil }

// historyConfig: fw for rule 5712 (line 12, 10 s), the same rule on
// another agent only (line 20), a stateless notify for rule 5999 (line
// 30), a command that cannot start for rule 5998 (line 40), and a white
// list.
func historyConfig() *engine.Config {
	fw := &engine.Command{Name: "fw", Executable: "fw", TimeoutAllowed: true}
	notify := &engine.Command{Name: "notify", Executable: "notify"}
	broken := &engine.Command{Name: "broken", Executable: "broken"}
	return &engine.Config{
		Commands: []*engine.Command{fw, notify, broken},
		Responses: []*engine.Response{
			{Command: fw, RulesID: []string{"5712"}, Timeout: 10 * time.Second, Line: 12},
			{Command: fw, RulesID: []string{"5712"}, Location: engine.LocationDefinedAgent, AgentID: "999", Timeout: time.Minute, Line: 20},
			{Command: notify, RulesID: []string{"5999"}, Line: 30},
			{Command: broken, RulesID: []string{"5998"}, Line: 40},
		},
		WhiteList: []engine.WhiteListEntry{{Prefix: netipPrefix("198.51.100.0/24")}},
	}
}

// TestHistory_Engine: the engine records, per target, every response an
// alert triggered and what came of it (applied, aborted while active,
// escaped with the reason, failed), every revert and every unblock, with
// the alert's rule, level, groups and the <active-response> line; the
// store keeps them. Both ways a decision is taken: by the job's
// check_keys in its lane, and in the group commit.
func TestHistory_Engine(t *testing.T) {
	for _, grouped := range []bool{false, true} {
		t.Run(fmt.Sprint("grouped=", grouped), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testHistoryEngine(t, grouped) })
		})
	}
}

func testHistoryEngine(t *testing.T, grouped bool) {
	st := store.NewMemory()
	e, err := engine.New(engine.Options{Store: st, Runner: &keyRunner{group: grouped, fail: "broken"}, Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.SetConfig(historyConfig())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	synctest.Wait()
	offset := int64(0)
	alert := func(rule, id, data string) {
		t.Helper()
		line := fmt.Sprintf(`{"rule":{"level":10,"id":%q,"groups":["syslog","sshd"]},"id":%q,"agent":{"id":"000"},"data":{%s}}`, rule, id, data)
		offset += int64(len(line)) + 1
		if err := e.Handle(context.Background(), engine.Record{Data: []byte(line), Pos: engine.Position{Source: "alerts.json", FileID: "1:2", Offset: offset}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
	}
	start := time.Now()
	alert("5712", "1.1", `"srcip":"203.0.113.7"`)
	time.Sleep(4 * time.Second)
	alert("5712", "1.2", `"srcip":"::ffff:203.0.113.7"`) // the same address, mapped: aborted
	alert("5712", "2.1", `"srcip":"198.51.100.9"`)       // white-listed
	alert("5712", "3.1", `"srcip":"203.0.113.5%eth0"`)   // not an address: escaped under its text
	alert("5999", "4.1", `"dstuser":"alice"`)            // stateless
	alert("5998", "5.1", `"srcip":"203.0.113.9"`)        // cannot start
	alert("5712", "6.1", `"srcip":"203.0.113.8"`)
	if _, err := e.Unblock(ctx, "fw-203.0.113.8"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(15 * time.Second) // 1.1's entry (restarted at 4 s) is reverted at 14 s
	synctest.Wait()

	type row struct {
		At                            time.Duration
		Outcome, Alert, Rule, Command string
		Line, Level                   int
		Key, Groups                   string
	}
	rows := func(target string) []row {
		evs, err := st.History(target)
		if err != nil {
			t.Fatal(err)
		}
		var out []row
		for _, ev := range evs {
			out = append(out, row{ev.Time.Sub(start).Round(time.Second), ev.Outcome, ev.AlertID, ev.RuleID, ev.Command, ev.Line, ev.Level, ev.Key, ev.Groups})
		}
		return out
	}
	sshd := "syslog,sshd,"
	want := map[string][]row{
		"203.0.113.7": {
			{0, "escaped:location", "1.1", "5712", "fw", 20, 10, "", sshd},
			{0, "applied", "1.1", "5712", "fw", 12, 10, "fw-203.0.113.7", sshd},
			{4 * time.Second, "escaped:location", "1.2", "5712", "fw", 20, 10, "", sshd},
			{4 * time.Second, "aborted-already-active", "1.2", "5712", "fw", 12, 10, "fw-203.0.113.7", sshd},
			{14 * time.Second, "reverted", "1.1", "5712", "fw", 0, 0, "fw-203.0.113.7", ""},
		},
		"198.51.100.9":     {{4 * time.Second, "escaped:white_list", "2.1", "5712", "fw", 12, 10, "", sshd}},
		"203.0.113.5%eth0": {{4 * time.Second, "escaped:invalid_srcip", "3.1", "5712", "fw", 12, 10, "", sshd}},
		"alice":            {{4 * time.Second, "applied", "4.1", "5999", "notify", 30, 10, "", sshd}},
		"203.0.113.9":      {{4 * time.Second, "failed", "5.1", "5998", "broken", 40, 10, "", sshd}},
		"203.0.113.8": {
			{4 * time.Second, "escaped:location", "6.1", "5712", "fw", 20, 10, "", sshd},
			{4 * time.Second, "applied", "6.1", "5712", "fw", 12, 10, "fw-203.0.113.8", sshd},
			{4 * time.Second, "unblocked", "6.1", "5712", "fw", 0, 0, "fw-203.0.113.8", ""},
		},
	}
	for target, w := range want {
		if got := rows(target); !slices.Equal(got, w) {
			t.Errorf("history of %s:\n got %+v\nwant %+v", target, got, w)
		}
	}
	if n := e.HistoryDropped(); n != 0 {
		t.Errorf("%d history events dropped", n)
	}
}

func netipPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
