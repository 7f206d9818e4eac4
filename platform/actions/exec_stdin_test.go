package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestXOSHelperProcess is not a test: run by the tests below as a child
// process, it echoes its standard input and exits with XOS_HELPER_EXIT.
func TestXOSHelperProcess(t *testing.T) {
	if os.Getenv("XOS_HELPER") != "1" {
		return
	}
	in, _ := io.ReadAll(os.Stdin)
	fmt.Printf("stdin=%q args=%q", in, os.Args[len(os.Args)-1])
	if os.Getenv("XOS_HELPER_EXIT") == "3" {
		fmt.Fprint(os.Stderr, " failing")
		os.Exit(3)
	}
	os.Exit(0)
}

// xosHelperArgs runs this test binary as TestXOSHelperProcess.
func xosHelperArgs(last string) []string {
	return []string{"-test.run=^TestXOSHelperProcess$", "--", last}
}

// TestOSExec_RunInput checks the real stdin seam: input reaches the child,
// stdout and stderr come back combined, and a failure names the command
// and carries the exit status and the output.
func TestOSExec_RunInput(t *testing.T) {
	t.Setenv("XOS_HELPER", "1")
	out, err := OSExec{}.RunInput(context.Background(), []byte("block in quick\n"), os.Args[0], xosHelperArgs("x")...)
	if err != nil || string(out) != `stdin="block in quick\n" args="x"` {
		t.Fatalf("got %q, %v", out, err)
	}
	t.Setenv("XOS_HELPER_EXIT", "3")
	out, err = OSExec{}.RunInput(context.Background(), nil, os.Args[0], xosHelperArgs("y")...)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(err.Error(), "failing") ||
		!strings.HasSuffix(string(out), " failing") {
		t.Errorf("got %q, %v; want exit status 3 with the output", out, err)
	}
}

// TestOSExec_RunInputMissing checks that a missing tool is ErrToolMissing
// once wrapped, and not mistaken for a tool's answer.
func TestOSExec_RunInputMissing(t *testing.T) {
	_, err := OSExec{}.RunInput(context.Background(), nil, "xos-no-such-tool")
	if !toolMissing(err) || !errors.Is(wrapExec("ipf", err), ErrToolMissing) {
		t.Errorf("got %v, want a missing tool", err)
	}
}
