package platform

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// winRoot is an install root whose path has a space and parentheses, as
// C:\Program Files (x86)\ossec-agent does. Under Wine os.RemoveAll of a
// full directory fails, so it is not a t.TempDir.
func winRoot(t *testing.T) (root, bin string) {
	t.Helper()
	root, err := os.MkdirTemp("", "tld root (x86) ")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	bin = filepath.Join(root, "active-response", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return root, bin
}

func writeCmd(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("@echo off\r\n"+strings.ReplaceAll(body, "\n", "\r\n")), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestRunner_WindowsCmd runs .cmd scripts found without their extension:
// a legacy one through cmd.exe by its absolute path, under a root with
// a space and parentheses, every argument arriving whole; a JSON one by
// its path relative to the root, reading the message on stdin.
func TestRunner_WindowsCmd(t *testing.T) {
	root, bin := winRoot(t)
	writeCmd(t, filepath.Join(bin, "legacy.cmd"), "echo %0 %*> \"%~dp0legacy.txt\"\n")
	writeCmd(t, filepath.Join(bin, "json.cmd"), "set /p msg=\nif defined msg echo %0 read a line> \"%~dp0json.txt\"\n")
	r := &Runner{Root: root, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	f := engine.Fields{User: "bob", SrcIP: "203.0.113.5", AlertID: "1.2", RuleID: "5712", Location: "(host) any->/var/log/x", Filename: "-"}
	inv := engine.Invocation{
		Command: engine.Command{Executable: "legacy", Protocol: engine.ProtocolLegacy, Expect: []string{"srcip"}},
		Op:      engine.OpAdd, Fields: f, Target: f.Target(),
	}
	if err := r.Run(context.Background(), inv, nil); err != nil {
		t.Fatalf("legacy: %v", err)
	}
	want := `"` + filepath.Join(bin, "legacy.cmd") + `" "add" "-" "203.0.113.5" "1.2" "5712" "(host) any->/var/log/x" "-" "-"`
	if got := readTrim(t, filepath.Join(bin, "legacy.txt")); got != want {
		t.Errorf("legacy script saw\n%s\nwant\n%s", got, want)
	}

	inv = engine.Invocation{Command: engine.Command{Executable: "json"}, Op: engine.OpDelete, Message: []byte(`{"version":1,"command":"delete"}`)}
	if err := r.Run(context.Background(), inv, nil); err != nil {
		t.Fatalf("json: %v", err)
	}
	if got, want := readTrim(t, filepath.Join(bin, "json.txt")), `"active-response/bin/json.cmd" read a line`; got != want {
		t.Errorf("JSON script saw %q, want %q", got, want)
	}
}

// TestRunner_WindowsAmbiguous: a name that two files answer to is refused.
func TestRunner_WindowsAmbiguous(t *testing.T) {
	root, bin := winRoot(t)
	writeCmd(t, filepath.Join(bin, "fw.cmd"), "exit 0\n")
	writeCmd(t, filepath.Join(bin, "fw.bat"), "exit 0\n")
	r := &Runner{Root: root, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	err := r.Run(context.Background(), engine.Invocation{Command: engine.Command{Executable: "fw"}, Op: engine.OpDelete, Message: []byte(`{}`)}, nil)
	if !errors.Is(err, engine.ErrNotStarted) || !strings.Contains(err.Error(), "fw.cmd and fw.bat all exist") {
		t.Errorf("Run = %v, want the ambiguity", err)
	}
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
