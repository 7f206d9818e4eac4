//go:build unix

package platform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

func TestRunner_NotStarted(t *testing.T) {
	f := newFixture(t, "record")
	bin := filepath.Join(f.root, "active-response", "bin")
	if err := os.WriteFile(filepath.Join(bin, "noexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(bin, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		executable string
		want       string // in the error
	}{
		{"missing", filepath.Join(bin, "missing")},
		{"noexec", filepath.Join(bin, "noexec") + ": not executable"},
		{"dir", "not a regular file"},
		{"../x", "refused"},
		{"a/b", "refused"},
		{`a\b`, "refused"},
		{"..", "refused"},
		{"", "refused"},
	} {
		t.Run(tc.executable, func(t *testing.T) {
			inv := invocation(engine.OpAdd, testAddMessage)
			inv.Command.Executable = tc.executable
			err := f.r.Run(context.Background(), inv, noCheck(t))
			if !errors.Is(err, engine.ErrNotStarted) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run = %v, want ErrNotStarted naming %q", err, tc.want)
			}
		})
	}
}

func TestRunner_InvalidMessage(t *testing.T) {
	f := newFixture(t, "record")
	err := f.r.Run(context.Background(), invocation(engine.OpAdd, `{"version":1`), noCheck(t))
	if !errors.Is(err, engine.ErrNotStarted) {
		t.Fatalf("Run = %v, want ErrNotStarted", err)
	}
	if recorded(t, f.out, "wd") != "" {
		t.Error("the script ran")
	}
}

func TestRunner_Legacy(t *testing.T) {
	f := newFixture(t, "record")
	fields := engine.Fields{User: "bob", SrcIP: "::ffff:1.2.3.4", AlertID: "1700000000.123", RuleID: "5712",
		Location: "(host) 10.0.0.1->/var/log/auth.log", Filename: "/etc/passwd"}
	inv := engine.Invocation{
		Command: engine.Command{Executable: "fw", Protocol: engine.ProtocolLegacy, Expect: []string{"srcip"}, ExtraArgs: []string{"-x", "y z"}},
		Op:      engine.OpAdd,
		Fields:  fields,
		Target:  fields.Target(),
	}
	if err := f.r.Run(context.Background(), inv, noCheck(t)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{"add", "-", "1.2.3.4", "1700000000.123", "5712", "(host) 10.0.0.1->/var/log/auth.log", "-", "-x", "y z"}
	if got := strings.Split(recorded(t, f.out, "args"), "\n"); !equalStrings(got, want) {
		t.Errorf("argv = %q, want %q", got, want)
	}
	// Wazuh < 4.2 started scripts by absolute path; their own log lines
	// (Wazuh's ar_log decoder) carry it.
	if got, want := recorded(t, f.out, "argv0"), filepath.Join(f.root, "active-response", "bin", "fw"); got != want {
		t.Errorf("argv[0] = %q, want the absolute path %q", got, want)
	}
	if got := recorded(t, f.out, "stdin"); got != "" {
		t.Errorf("stdin = %q, want nothing", got)
	}
	if got := f.arMessages(t); got != nil {
		t.Errorf("active-responses.log = %q, want nothing: execd < 4.2 wrote nothing", got)
	}
}

func TestRunner_Delete(t *testing.T) {
	f := newFixture(t, "record")
	msg := strings.Replace(testAddMessage, `"command":"add"`, `"command":"delete"`, 1)
	if err := f.r.Run(context.Background(), invocation(engine.OpDelete, msg), noCheck(t)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The helper reads stdin to EOF: it returned, so stdin was closed.
	if got := recorded(t, f.out, "stdin"); got != msg+"\n" {
		t.Errorf("stdin = %q, want the message alone", got)
	}
	if got := recorded(t, f.out, "args"); got != "" {
		t.Errorf("args = %q, want none", got)
	}
	wd, _ := filepath.EvalSymlinks(recorded(t, f.out, "wd"))
	root, _ := filepath.EvalSymlinks(f.root)
	if wd != root {
		t.Errorf("working directory = %q, want the root %q", wd, root)
	}
}
