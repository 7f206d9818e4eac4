package actions

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/threatlockdown/threatlockdown/engine"
)

const (
	alertIP   = `{"rule":{"level":10,"id":"5712"},"data":{"srcip":"203.0.113.7","dstuser":"bob"}}`
	checkKeys = `{"version":1,"origin":{"name":"firewall-drop","module":"active-response"},"command":"check_keys","parameters":{"keys":["203.0.113.7"]}}`
	progFD    = "active-response/bin/firewall-drop: "
)

// withCommand returns msg with its command replaced, as execd answers.
func withCommand(msg []byte, cmd string) string {
	return strings.Replace(string(msg), `"command":"add"`, `"command":"`+cmd+`"`, 1)
}

func TestRunner_Run(t *testing.T) {
	exp := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	add := execdMessage(engine.OpAdd, "firewall-drop", alertIP)
	del := execdMessage(engine.OpDelete, "firewall-drop", alertIP)
	tests := []struct {
		name      string
		op        engine.Op
		msg       []byte
		verdict   engine.Verdict
		wantKeys  []string
		wantCalls []string
		wantLog   []string
	}{
		{"add continue", engine.OpAdd, add, engine.Continue, []string{"203.0.113.7"},
			[]string{"add 203.0.113.7 exp=17:00:00"},
			[]string{"Starting", string(add), checkKeys, withCommand(add, "continue"), "Ended"}},
		{"add abort", engine.OpAdd, add, engine.Abort, []string{"203.0.113.7"},
			[]string{"refresh 203.0.113.7 exp=17:00:00"},
			[]string{"Starting", string(add), checkKeys, withCommand(add, "abort"), "Aborted"}},
		{"delete", engine.OpDelete, del, engine.Continue, nil,
			[]string{"delete 203.0.113.7"},
			[]string{"Starting", string(del), "Ended"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &lineLog{}
			r, acts := fakeRunner(log, "firewall-drop")
			var keys []string
			check := func(k []string) (engine.Decision, error) {
				keys = k
				return engine.Decision{Verdict: tt.verdict, Expires: exp}, nil
			}
			inv := invocation("firewall-drop", tt.op, tt.msg, engine.Fields{SrcIP: "203.0.113.7", User: "bob"})
			if err := r.Run(context.Background(), inv, check); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(keys, tt.wantKeys) {
				t.Errorf("keys = %q, want %q", keys, tt.wantKeys)
			}
			if diff := cmp.Diff(tt.wantCalls, acts["firewall-drop"].got()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(prefixed(progFD, tt.wantLog), log.got()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
		})
	}
}

func prefixed(p string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = p + l
	}
	return out
}

// invocation is the engine's Invocation of exe for op with message msg and
// the alert's fields f: its Target is f.Target(), as engine/table.go fills it.
func invocation(exe string, op engine.Op, msg []byte, f engine.Fields) engine.Invocation {
	return engine.Invocation{Command: engine.Command{Executable: exe}, Op: op, Message: msg, Fields: f, Target: f.Target()}
}

// TestRunner_RunUsesTheEngineTarget: the in-process path acts on the
// engine's target, never on the alert in the message: a message whose alert
// says otherwise changes nothing, and with no address in the target the run
// stops before check_keys with the line Wazuh's firewall-drop writes.
func TestRunner_RunUsesTheEngineTarget(t *testing.T) {
	log := &lineLog{}
	r, acts := fakeRunner(log, "firewall-drop")
	msg := execdMessage(engine.OpAdd, "firewall-drop", `{"data":{"srcip":"198.51.100.99"}}`)
	var keys []string
	check := func(k []string) (engine.Decision, error) { keys = k; return engine.Decision{}, nil }
	inv := invocation("firewall-drop", engine.OpAdd, msg, engine.Fields{SrcIP: "2001:DB8:0::8", User: "-"})
	if err := r.Run(context.Background(), inv, check); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"2001:db8::8"}) || !slices.Equal(acts["firewall-drop"].got(), []string{"add 2001:db8::8 exp=0"}) {
		t.Errorf("keys %q, calls %q", keys, acts["firewall-drop"].got())
	}

	log = &lineLog{}
	r, acts = fakeRunner(log, "firewall-drop")
	asked := false
	check = func([]string) (engine.Decision, error) { asked = true; return engine.Decision{}, nil }
	inv = invocation("firewall-drop", engine.OpAdd, msg, engine.Fields{SrcIP: "-", User: "bob"})
	err := r.Run(context.Background(), inv, check)
	if !errors.Is(err, ErrInvalidTarget) {
		t.Fatalf("err = %v, want ErrInvalidTarget", err)
	}
	if asked || len(acts["firewall-drop"].got()) != 0 {
		t.Error("a run without an address reached check_keys or the action")
	}
	want := prefixed(progFD, []string{"Starting", string(msg), "Cannot read 'srcip' from data or invalid IP format"})
	if diff := cmp.Diff(want, log.got()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestRunner_RunErrors(t *testing.T) {
	r, acts := fakeRunner(nil, "firewall-drop", "disable-account")
	ctx := context.Background()
	cont := func([]string) (engine.Decision, error) { return engine.Decision{}, nil }

	inv := engine.Invocation{Command: engine.Command{Executable: "my-script.sh"}, Op: engine.OpAdd}
	if err := r.Run(ctx, inv, cont); !errors.Is(err, engine.ErrNotStarted) || !errors.Is(err, ErrUnknownAction) {
		t.Errorf("unknown executable: %v", err)
	}

	inv = engine.Invocation{Command: engine.Command{Executable: "firewall-drop"}, Op: engine.OpAdd, Message: []byte(`{"version":1}`)}
	if err := r.Run(ctx, inv, cont); err == nil {
		t.Error("bad message accepted")
	}

	acts["firewall-drop"].err = errors.New("boom")
	inv = invocation("firewall-drop", engine.OpAdd, execdMessage(engine.OpAdd, "firewall-drop", alertIP), engine.Fields{SrcIP: "203.0.113.7", User: "bob"})
	if err := r.Run(ctx, inv, cont); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("action error: %v", err)
	}

	failing := func([]string) (engine.Decision, error) { return engine.Decision{}, errors.New("store down") }
	acts["firewall-drop"].err = nil
	if err := r.Run(ctx, inv, failing); err == nil {
		t.Error("check_keys error ignored")
	}
	if n := len(acts["firewall-drop"].got()); n != 1 {
		t.Errorf("action ran %d times, want once (before the check_keys failure)", n)
	}

	inv = invocation("disable-account", engine.OpAdd, execdMessage(engine.OpAdd, "disable-account", `{"data":{"dstuser":"root"}}`),
		engine.Fields{SrcIP: "-", User: "root"})
	if err := r.Run(ctx, inv, cont); !errors.Is(err, ErrRefused) {
		t.Errorf("root: %v", err)
	}
}

func TestRunner_RunUserAndStateless(t *testing.T) {
	log := &lineLog{}
	r, acts := fakeRunner(log, "disable-account", "restart-wazuh")
	ctx := context.Background()
	var keys []string
	check := func(k []string) (engine.Decision, error) { keys = k; return engine.Decision{}, nil }

	msg := execdMessage(engine.OpAdd, "disable-account", alertIP)
	inv := invocation("disable-account", engine.OpAdd, msg, engine.Fields{SrcIP: "203.0.113.7", User: "bob"})
	if err := r.Run(ctx, inv, check); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"bob"}) || !slices.Equal(acts["disable-account"].got(), []string{"add user:bob exp=0"}) {
		t.Errorf("disable-account: keys %q, calls %q", keys, acts["disable-account"].got())
	}

	keys = nil
	msg = execdMessage(engine.OpAdd, "restart-wazuh", `{"rule":{}}`)
	inv = invocation("restart-wazuh", engine.OpAdd, msg, engine.Fields{SrcIP: "-", User: "-"})
	if err := r.Run(ctx, inv, check); err != nil {
		t.Fatal(err)
	}
	if keys != nil || !slices.Equal(acts["restart-wazuh"].got(), []string{"add - exp=0"}) {
		t.Errorf("restart-wazuh asked check_keys %q or did not run: %q", keys, acts["restart-wazuh"].got())
	}
}

func TestRunner_Reassert(t *testing.T) {
	log := &lineLog{}
	r, acts := fakeRunner(log, "firewall-drop", "restart-wazuh")
	exp := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	entry := func(exe, ip string) engine.Entry {
		params := `{"extra_args":[],"alert":{"data":{"srcip":"` + ip + `"}},"program":"active-response/bin/` + exe + `"}`
		return engine.Entry{Key: exe + "-" + ip, Command: &engine.Command{Executable: exe}, Params: []byte(params),
			Fields: engine.Fields{SrcIP: ip, User: "-"}, Expires: exp}
	}
	entries := []engine.Entry{
		entry("firewall-drop", "203.0.113.1"),
		entry("custom.sh", "203.0.113.2"),
		entry("firewall-drop", "2001:db8::3"),
		entry("firewall-drop", "bad;ip"),
	}
	rest, err := r.Reassert(context.Background(), entries)
	if !errors.Is(err, ErrInvalidTarget) {
		t.Errorf("err = %v, want the bad entry reported", err)
	}
	if len(rest) != 1 || rest[0].Key != "custom.sh-203.0.113.2" {
		t.Errorf("rest = %+v", rest)
	}
	want := []string{"addmany 203.0.113.1@18:00:00,2001:db8::3@18:00:00"}
	if diff := cmp.Diff(want, acts["firewall-drop"].got()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if got := log.got(); len(got) != 0 { // no Wazuh program writes such lines
		t.Errorf("active-responses.log got %q, want nothing", got)
	}
}

func TestAnswerLine_KeepsAlert(t *testing.T) {
	msg := execdMessage(engine.OpAdd, "firewall-drop", `{"full_log":"a <b> & c","data":{"srcip":"203.0.113.7"}}`)
	if got, want := string(answerLine(msg, engine.Abort)), withCommand(msg, "abort"); got != want {
		t.Errorf("answer\n got %s\nwant %s", got, want)
	}
}
