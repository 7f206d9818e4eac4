package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/threatlockdown/threatlockdown/engine"
)

// TestGroup_LogsAsRunAlone: a group writes, for each add, exactly the lines
// the built-in writes when run alone with the same decision (Wazuh's rules
// read them), and acts with one AddMany for the continues and a refresh for
// each abort.
func TestGroup_LogsAsRunAlone(t *testing.T) {
	exp := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	type add struct {
		ip      string
		verdict engine.Verdict
	}
	adds := []add{{"203.0.113.7", engine.Continue}, {"198.51.100.3", engine.Abort}, {"2001:db8::5", engine.Continue}}
	alert := func(ip string) string {
		return fmt.Sprintf(`{"rule":{"level":10,"id":"5712"},"data":{"srcip":%q}}`, ip)
	}
	message := func(ip string) []byte { return execdMessage(engine.OpAdd, "firewall-drop", alert(ip)) }
	params := func(ip string) []byte { return execdParams("firewall-drop", alert(ip)) }

	alone := &lineLog{}
	r, _ := fakeRunner(alone, "firewall-drop")
	for _, a := range adds {
		check := func([]string) (engine.Decision, error) { return engine.Decision{Verdict: a.verdict, Expires: exp}, nil }
		inv := invocation("firewall-drop", engine.OpAdd, message(a.ip), engine.Fields{SrcIP: a.ip, User: "-"})
		if err := r.Run(context.Background(), inv, check); err != nil {
			t.Fatal(err)
		}
	}

	grouped := &linesLog{}
	r, acts := fakeRunner(grouped, "firewall-drop")
	g := r.Group(engine.Command{Executable: "firewall-drop"})
	if g == nil {
		t.Fatal("firewall-drop has no batch form")
	}
	var gadds []engine.GroupAdd
	for _, a := range adds {
		f := engine.Fields{SrcIP: a.ip, User: "-"}
		keys, err := g.Keys(f)
		if err != nil {
			t.Fatal(err)
		}
		gadds = append(gadds, engine.GroupAdd{Head: engine.MessageHead("node01", engine.OpAdd), Params: params(a.ip), Keys: keys, Fields: f,
			Decision: engine.Decision{Verdict: a.verdict, Expires: exp}})
	}
	logs, err := g.Apply(context.Background(), gadds)
	if err != nil {
		t.Fatal(err)
	}
	logs()
	r.Close() // the lines are written in the background; Close waits for them
	if diff := cmp.Diff(alone.got(), grouped.got()); diff != "" {
		t.Errorf("group log differs from the runs alone (-alone +group):\n%s", diff)
	}
	if grouped.writes != 1 {
		t.Errorf("%d writes for the group, want 1", grouped.writes)
	}
	want := []string{"addmany 203.0.113.7@17:00:00,2001:db8::5@17:00:00", "refresh 198.51.100.3 exp=17:00:00"}
	if diff := cmp.Diff(want, acts["firewall-drop"].got()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestGroup_KeysAndRefusals(t *testing.T) {
	r, _ := fakeRunner(nil, "firewall-drop", "disable-account", "restart-wazuh")
	if g := r.Group(engine.Command{Executable: "restart-wazuh"}); g != nil {
		t.Error("restart-wazuh (no keys) has a batch form")
	}
	if g := r.Group(engine.Command{Executable: "no-such-action"}); g != nil {
		t.Error("an unknown executable has a batch form")
	}
	fw := r.Group(engine.Command{Executable: "firewall-drop"})
	for _, tc := range []struct {
		srcip string
		want  []string
	}{
		{"::ffff:203.0.113.9", []string{"203.0.113.9"}},
		{"2001:DB8:0:0::4", []string{"2001:db8::4"}},
		{"127.0.0.1", nil},
		{"-", nil},
	} {
		keys, err := fw.Keys(engine.Fields{SrcIP: tc.srcip, User: "-"})
		if !slices.Equal(keys, tc.want) || (tc.want == nil) != (err != nil) {
			t.Errorf("Keys(%q) = %q, %v; want %q", tc.srcip, keys, err, tc.want)
		}
	}
	acct := r.Group(engine.Command{Executable: "disable-account"})
	if keys, err := acct.Keys(engine.Fields{SrcIP: "-", User: "bob"}); err != nil || !slices.Equal(keys, []string{"bob"}) {
		t.Errorf("disable-account keys = %q, %v", keys, err)
	}
	if _, err := acct.Keys(engine.Fields{SrcIP: "-", User: "root"}); !errors.Is(err, ErrRefused) {
		t.Errorf("root: %v, want ErrRefused", err)
	}
}

// linesLog is a lineLog that also takes many lines in one write, counting writes.
type linesLog struct {
	lineLog
	writes int
}

func (l *linesLog) Lines(executable string, lines [][][]byte) {
	l.mu.Lock()
	l.writes++
	l.mu.Unlock()
	for _, pieces := range lines {
		l.Line(executable, string(bytes.Join(pieces, nil)))
	}
}
