package platform

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/internal/arproto"
)

const dryAlertMessage = `{"version":1,"origin":{"name":"n","module":"wazuh-execd"},"command":"add","parameters":{"extra_args":[],"alert":%s,"program":"active-response/bin/firewall-drop"}}`

func dryMessage(alert string) []byte {
	return []byte(strings.Replace(dryAlertMessage, "%s", alert, 1))
}

func TestPredictKeys(t *testing.T) {
	for _, tc := range []struct{ alert, want string }{
		{`{"data":{"srcip":"1.2.3.4","dstuser":"bob"}}`, "1.2.3.4"},
		{`{"data":{"win":{"eventdata":{"ipAddress":"10.0.0.9"}},"srcip":"1.2.3.4"}}`, "10.0.0.9"},
		{`{"data":{"win":"text","srcip":"1.2.3.4"}}`, "1.2.3.4"},
		{`{"data":{"dstuser":"bob"}}`, "bob"},
		{`{"data":{"srcip":7}}`, ""},
		{`{"data":{"srcip":""}}`, ""},
		{`{"rule":{}}`, ""},
	} {
		got := strings.Join(predictKeys(dryMessage(tc.alert)), ",")
		if got != tc.want {
			t.Errorf("predictKeys(%s) = %q, want %q", tc.alert, got, tc.want)
		}
	}
}

func newDryRunner(t *testing.T) (*DryRunner, string) {
	l, path := openTestARLog(t)
	return &DryRunner{Log: l, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, path
}

func dryInvocation(op engine.Op, alert string) engine.Invocation {
	return engine.Invocation{
		Command: engine.Command{Executable: "firewall-drop"},
		Op:      op,
		Message: dryMessage(alert),
	}
}

func TestDryRunner_Add(t *testing.T) {
	for _, tc := range []struct {
		name    string
		verdict engine.Verdict
		last    string
	}{{"continue", engine.Continue, "Ended"}, {"abort", engine.Abort, "Aborted"}} {
		t.Run(tc.name, func(t *testing.T) {
			d, path := newDryRunner(t)
			c := &dryRecorder{verdict: tc.verdict}
			inv := dryInvocation(engine.OpAdd, `{"data":{"srcip":"1.2.3.4"}}`)
			if err := d.Run(context.Background(), inv, c.check); err != nil {
				t.Fatal(err)
			}
			if strings.Join(c.keys, ",") != "1.2.3.4" || c.calls != 1 {
				t.Errorf("check got %q in %d calls", c.keys, c.calls)
			}
			answer, _ := arproto.SetCommand(inv.Message, tc.name)
			want := []string{"Starting", string(inv.Message), helperCheckKeysLine, string(answer), tc.last}
			assertDryLog(t, path, want)
		})
	}
}

func TestDryRunner_Stateless(t *testing.T) {
	d, path := newDryRunner(t)
	c := &dryRecorder{}
	for _, inv := range []engine.Invocation{
		dryInvocation(engine.OpAdd, `{"rule":{"id":"1"}}`),
		dryInvocation(engine.OpDelete, `{"data":{"srcip":"1.2.3.4"}}`),
	} {
		if err := d.Run(context.Background(), inv, c.check); err != nil {
			t.Fatal(err)
		}
	}
	if c.calls != 0 {
		t.Errorf("check called %d times", c.calls)
	}
	if n := strings.Count(readFile(t, path), DryRunMarker+"Ended"); n != 2 {
		t.Errorf("%d Ended lines, want 2", n)
	}
}

func TestDryRunner_Legacy(t *testing.T) {
	d, path := newDryRunner(t)
	inv := engine.Invocation{
		Command: engine.Command{Executable: "host-deny.sh", Protocol: engine.ProtocolLegacy},
		Op:      engine.OpAdd,
		Fields:  engine.Fields{SrcIP: "1.2.3.4"},
	}
	if err := d.Run(context.Background(), inv, (&dryRecorder{}).check); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readFile(t, path), "active-response/bin/host-deny.sh: (dry-run) add - 1.2.3.4 - - - -\n") {
		t.Errorf("log lacks the argv:\n%s", readFile(t, path))
	}
}

func TestDryRunner_Errors(t *testing.T) {
	d, _ := newDryRunner(t)
	boom := errors.New("store down")
	c := &dryRecorder{err: boom}
	if err := d.Run(context.Background(), dryInvocation(engine.OpAdd, `{"data":{"srcip":"1.2.3.4"}}`), c.check); !errors.Is(err, boom) {
		t.Errorf("Run = %v, want the check error", err)
	}
	bad := dryInvocation(engine.OpAdd, `{}`)
	bad.Command.Executable = "../x"
	if err := d.Run(context.Background(), bad, c.check); !errors.Is(err, engine.ErrNotStarted) {
		t.Errorf("Run(../x) = %v, want ErrNotStarted", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Run(ctx, dryInvocation(engine.OpAdd, `{}`), c.check); !errors.Is(err, context.Canceled) {
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

func assertDryLog(t *testing.T, path string, want []string) {
	t.Helper()
	prefix := "2025/01/02 03:04:05 active-response/bin/firewall-drop: " + DryRunMarker
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(readFile(t, path), "\n"), "\n") {
		msg, ok := strings.CutPrefix(line, prefix)
		if !ok {
			t.Fatalf("line %q lacks %q", line, prefix)
		}
		got = append(got, msg)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
