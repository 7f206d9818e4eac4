//go:build unix

package platform

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/actions"
)

// newDryRunner is a dry-run Runner on a fresh root with the built-ins, its
// log in logs.
func newDryRunner(t *testing.T) (*Runner, *syncBuffer) {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "active-response", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	b := actions.NewRunner(actions.Config{Exec: noExec{t}}, nil)
	t.Cleanup(func() { b.Close() })
	return &Runner{Root: root, DryRun: true, Builtins: b,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, logs
}

// noExec fails the test: a dry run must run no OS command.
type noExec struct{ t *testing.T }

func (n noExec) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	n.t.Errorf("dry run ran %s %q", name, args)
	return nil, errors.New("no")
}

func dryInvocation(exe string, op engine.Op, target engine.Target) engine.Invocation {
	return engine.Invocation{
		Command: engine.Command{Executable: exe},
		Op:      op,
		Message: []byte(`{"version":1,"command":"` + string(op) + `","parameters":{"alert":{}}}`),
		Target:  target,
	}
}

// TestDryRun_Keys: an add is keyed from the typed target, as the command
// would key it: a script (and firewall-drop) on the address, else the
// user; disable-account on the user; restart-wazuh on nothing.
func TestDryRun_Keys(t *testing.T) {
	addr := netip.MustParseAddr("203.0.113.9")
	both := engine.Target{Addr: addr, User: "bob"}
	r, logs := newDryRunner(t)
	installHelper(t, r.binDir(), "my-script", "record", t.TempDir())
	for _, tc := range []struct {
		exe    string
		target engine.Target
		want   string // "" for stateless
	}{
		{"my-script", both, "203.0.113.9"},
		{"my-script", engine.Target{User: "bob"}, "bob"},
		{"my-script", engine.Target{}, ""},
		{"firewall-drop", both, "203.0.113.9"},
		{"firewall-drop", engine.Target{User: "bob"}, ""},
		{"disable-account", both, "bob"},
		{"restart-wazuh", both, ""},
	} {
		c := &dryRecorder{verdict: engine.Abort}
		if err := r.Run(context.Background(), dryInvocation(tc.exe, engine.OpAdd, tc.target), c.check); err != nil {
			t.Fatalf("%s: %v", tc.exe, err)
		}
		if got := strings.Join(c.keys, ","); got != tc.want || (tc.want == "") != (c.calls == 0) {
			t.Errorf("%s %+v: check got %q in %d calls, want %q", tc.exe, tc.target, got, c.calls, tc.want)
		}
	}
	for _, want := range []string{
		`msg="dry run: would run" executable=my-script op=add protocol=json path=` + filepath.Join(r.binDir(), "my-script"),
		`msg="dry run: would run" executable=firewall-drop op=add protocol=json builtin=true`,
		`msg="dry run: check_keys" executable=my-script op=add protocol=json path=` + filepath.Join(r.binDir(), "my-script") + ` keys=[203.0.113.9] verdict=abort`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if _, err := os.Stat(ARLogPath(r.Root)); !os.IsNotExist(err) {
		t.Errorf("a dry run wrote active-responses.log (%v)", err)
	}
}

// TestDryRun_RunsNothing: neither the script nor a built-in runs, and a
// delete calls no check.
func TestDryRun_RunsNothing(t *testing.T) {
	r, _ := newDryRunner(t)
	out := t.TempDir()
	installHelper(t, r.binDir(), "my-script", "record", out)
	c := &dryRecorder{}
	for _, exe := range []string{"my-script", "firewall-drop"} {
		for _, op := range []engine.Op{engine.OpAdd, engine.OpDelete} {
			if err := r.Run(context.Background(), dryInvocation(exe, op, engine.Target{Addr: netip.MustParseAddr("203.0.113.9")}), c.check); err != nil {
				t.Fatal(err)
			}
		}
	}
	if recorded(t, out, "wd") != "" {
		t.Error("the script ran")
	}
	if c.calls != 2 {
		t.Errorf("check called %d times, want 2 (the adds)", c.calls)
	}
	if r.Group(engine.Command{Executable: "firewall-drop"}) != nil {
		t.Error("Group in a dry run: batches would apply")
	}
	e := []engine.Entry{{Command: &engine.Command{Executable: "firewall-drop"}}}
	if rest, err := r.Reassert(context.Background(), e); len(rest) != 1 || err != nil {
		t.Errorf("Reassert = %v, %v; want the entry back for Run", rest, err)
	}
	if miss, err := r.Missing(context.Background(), []*engine.Entry{&e[0]}); miss != nil || err != nil {
		t.Errorf("Missing = %v, %v", miss, err)
	}
	if r.Changes() != nil {
		t.Error("Changes in a dry run")
	}
}

func TestDryRun_Legacy(t *testing.T) {
	r, logs := newDryRunner(t)
	installHelper(t, r.binDir(), "host-deny.sh", "record", t.TempDir())
	inv := dryInvocation("host-deny.sh", engine.OpAdd, engine.Target{Addr: netip.MustParseAddr("1.2.3.4")})
	inv.Command.Protocol, inv.Command.Expect = engine.ProtocolLegacy, []string{"srcip"}
	c := &dryRecorder{}
	if err := r.Run(context.Background(), inv, c.check); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `argv="[add - 1.2.3.4 - - - - -]"`) {
		t.Errorf("log lacks the argv:\n%s", logs)
	}
	if c.calls != 0 {
		t.Error("a legacy script has no handshake")
	}
}

// TestDryRun_Errors: what would not start is refused as in a real run; a
// check error is returned.
func TestDryRun_Errors(t *testing.T) {
	r, _ := newDryRunner(t)
	installHelper(t, r.binDir(), "my-script", "record", t.TempDir())
	boom := errors.New("store down")
	c := &dryRecorder{err: boom}
	target := engine.Target{Addr: netip.MustParseAddr("1.2.3.4")}
	if err := r.Run(context.Background(), dryInvocation("my-script", engine.OpAdd, target), c.check); !errors.Is(err, boom) {
		t.Errorf("Run = %v, want the check error", err)
	}
	for _, exe := range []string{"../x", "no-such-script"} {
		if err := r.Run(context.Background(), dryInvocation(exe, engine.OpAdd, target), c.check); !errors.Is(err, engine.ErrNotStarted) {
			t.Errorf("Run(%s) = %v, want ErrNotStarted", exe, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Run(ctx, dryInvocation("my-script", engine.OpAdd, target), c.check); !errors.Is(err, context.Canceled) {
		t.Errorf("Run(cancelled) = %v", err)
	}
}

type dryRecorder struct {
	calls   int
	keys    []string
	verdict engine.Verdict
	err     error
}

func (c *dryRecorder) check(keys []string) (engine.Decision, error) {
	c.calls++
	c.keys = keys
	return engine.Decision{Verdict: c.verdict, Expires: time.Unix(1, 0)}, c.err
}
