//go:build unix

package platform

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

const testAddMessage = `{"version":1,"origin":{"name":"node01","module":"wazuh-execd"},"command":"add",` +
	`"parameters":{"extra_args":[],"alert":{"rule":{"id":"5712"},"data":{"srcip":"1.2.3.4"}},"program":"active-response/bin/fw"}}`

func TestRunner_Handshake(t *testing.T) {
	for _, tc := range []struct {
		name    string
		verdict engine.Verdict
	}{
		{"continue", engine.Continue},
		{"abort", engine.Abort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "handshake")
			c := &recorder{verdict: tc.verdict}
			if err := f.r.Run(context.Background(), invocation(engine.OpAdd, testAddMessage), c.check); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(c.calls) != 1 || !equalStrings(c.calls[0], []string{"1.2.3.4"}) {
				t.Fatalf("check calls = %q, want one with [1.2.3.4]", c.calls)
			}
			want := strings.Replace(testAddMessage, `"command":"add"`, `"command":"`+tc.name+`"`, 1)
			if got := recorded(t, f.out, "message"); got != testAddMessage+"\n" {
				t.Errorf("script read %q, want the message", got)
			}
			if got := recorded(t, f.out, "answer"); got != want+"\n" {
				t.Errorf("answer = %q, want %q", got, want)
			}
			// Started as execd starts it, the program names its lines
			// active-response/bin/fw; the daemon adds none of its own.
			if got := recorded(t, f.out, "argv0"); got != "active-response/bin/fw" {
				t.Errorf("argv[0] = %q, want active-response/bin/fw", got)
			}
			wantLog := []string{testAddMessage, want}
			if got := f.arMessages(t); !equalStrings(got, wantLog) {
				t.Errorf("active-responses.log =\n%q\nwant only the program's lines\n%q", got, wantLog)
			}
			if !strings.Contains(f.logs.String(), `msg=check_keys executable=fw op=add protocol=json keys=[1.2.3.4] verdict=`+tc.name) {
				t.Errorf("daemon log lacks the verdict:\n%s", f.logs)
			}
		})
	}
}

func TestRunner_CheckError(t *testing.T) {
	f := newFixture(t, "handshake")
	boom := errors.New("store down")
	c := &recorder{err: boom}
	err := f.r.Run(context.Background(), invocation(engine.OpAdd, testAddMessage), c.check)
	if !errors.Is(err, boom) || errors.Is(err, engine.ErrNotStarted) {
		t.Fatalf("Run = %v, want the check error", err)
	}
	if got := recorded(t, f.out, "answer"); !strings.Contains(got, `"command":"abort"`) {
		t.Errorf("answer = %q, want abort", got)
	}
}

func TestRunner_Stateless(t *testing.T) {
	f := newFixture(t, "silent")
	start := time.Now()
	if err := f.r.Run(context.Background(), invocation(engine.OpAdd, testAddMessage), noCheck(t)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > f.r.HandshakeWait-time.Second {
		t.Errorf("took %s: exit should end the handshake, not its wait", d)
	}
	if got := f.arMessages(t); got != nil {
		t.Errorf("active-responses.log = %q, want nothing: the daemon writes no lines for scripts", got)
	}
}

func TestRunner_ReadsStdinToEOF(t *testing.T) {
	f := newFixture(t, "readall")
	f.r.HandshakeWait = 300 * time.Millisecond
	start := time.Now()
	if err := f.r.Run(context.Background(), invocation(engine.OpAdd, testAddMessage), noCheck(t)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
	if got := recorded(t, f.out, "stdin"); got != testAddMessage+"\n" {
		t.Errorf("script read %q", got)
	}
	if got := recorded(t, f.out, "answer"); got != "" {
		t.Errorf("script got answer %q after its check_keys came late", got)
	}
	for _, want := range []string{"no check_keys in time", "ignored check_keys"} {
		if !strings.Contains(f.logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, f.logs)
		}
	}
}

func TestRunner_Garbage(t *testing.T) {
	f := newFixture(t, "garbage")
	c := &recorder{}
	if err := f.r.Run(context.Background(), invocation(engine.OpAdd, testAddMessage), c.check); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(c.calls) != 1 {
		t.Errorf("check calls = %q, want 1", c.calls)
	}
	if strings.Count(f.logs.String(), "ignored output during handshake") != 2 {
		t.Errorf("want two ignored lines logged:\n%s", f.logs)
	}
}

func TestRunner_Crash(t *testing.T) {
	f := newFixture(t, "crash")
	err := f.r.Run(context.Background(), invocation(engine.OpAdd, testAddMessage), noCheck(t))
	var se *ScriptError
	if !errors.As(err, &se) || errors.Is(err, engine.ErrNotStarted) {
		t.Fatalf("Run = %v, want a *ScriptError", err)
	}
	if !strings.Contains(se.Stderr, "boom: the disk is on fire") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("error %q lacks the status or stderr", err)
	}
	if got := f.arMessages(t); got != nil {
		t.Errorf("active-responses.log = %q, want nothing", got)
	}
	if !strings.Contains(f.logs.String(), `msg=exit executable=fw op=add protocol=json status="exit status 3"`) {
		t.Errorf("daemon log lacks the exit:\n%s", f.logs)
	}
}

func TestRunner_TimeLimitKillsGroup(t *testing.T) {
	f := newFixture(t, "hang")
	f.r.TimeLimit = time.Second
	start := time.Now()
	err := f.r.Run(context.Background(), invocation(engine.OpDelete, testAddMessage), noCheck(t))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, new(*ScriptError)) {
		t.Fatalf("Run = %v, want a ScriptError for the time limit", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
	assertGone(t, grandchild(t, f.out))
}

func TestRunner_Cancel(t *testing.T) {
	f := newFixture(t, "hang")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := f.r.Run(ctx, invocation(engine.OpDelete, testAddMessage), noCheck(t))
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want the context's error", err)
	}
	assertGone(t, grandchild(t, f.out))
}

func TestRunner_StrayGrandchild(t *testing.T) {
	f := newFixture(t, "stray")
	start := time.Now()
	if err := f.r.Run(context.Background(), invocation(engine.OpDelete, testAddMessage), noCheck(t)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	pid := grandchild(t, f.out)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s: Wait blocked on the grandchild's pipe", d)
	}
	if !strings.Contains(f.logs.String(), "kept its pipes open") {
		t.Errorf("log lacks the stray warning:\n%s", f.logs)
	}
}
