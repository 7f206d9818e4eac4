package actions

import (
	"context"
	"os"
	"testing"
)

// TestWinExec_CmdLine checks on Windows that the quoted rule name reaches
// the child as netsh reads it, one argument without escapes, where Go's
// default quoting (OSExec) would keep the quotes as part of the value.
func TestWinExec_CmdLine(t *testing.T) {
	t.Setenv("XOS_HELPER", "1")
	arg := netshName()
	out, err := WinExec{}.Run(context.Background(), os.Args[0], xosHelperArgs(arg)...)
	if want := `stdin="" args="name=WAZUH ACTIVE RESPONSE BLOCKED IP"`; err != nil || string(out) != want {
		t.Errorf("WinExec: got %q, %v; want %q", out, err, want)
	}
	out, err = OSExec{}.Run(context.Background(), os.Args[0], xosHelperArgs(arg)...)
	if want := `stdin="" args="name=\"WAZUH ACTIVE RESPONSE BLOCKED IP\""`; err != nil || string(out) != want {
		t.Errorf("OSExec: got %q, %v; want %q", out, err, want)
	}
}

// TestWinExec_Missing checks that a missing tool is reported as such.
func TestWinExec_Missing(t *testing.T) {
	_, err := WinExec{}.Run(context.Background(), "xos-no-such-tool")
	if !toolMissing(err) {
		t.Errorf("got %v, want a missing tool", err)
	}
}
