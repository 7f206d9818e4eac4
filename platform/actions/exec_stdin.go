package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// StdinExecer is an Execer that can also feed a command's standard input. It
// extends the seam without changing Execer: tools such as ipf(8) read their
// rules from "-" and nothing else. OSExec implements it; fakes in tests do too.
type StdinExecer interface {
	Execer
	// RunInput runs name with args, writes stdin to its standard input and
	// returns its combined output, with the same error contract as Run.
	RunInput(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

var _ StdinExecer = OSExec{}

// errNoStdin says the configured Execer cannot feed standard input.
var errNoStdin = errors.New("execer cannot feed standard input")

// RunInput runs name with args and stdin as its standard input, with
// LC_ALL=C. Its error names the command line and includes the output.
func (OSExec) RunInput(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	return runCmd(cmd, name, args)
}

// runInput runs a command with stdin through e, which must be a StdinExecer.
func runInput(ctx context.Context, e Execer, stdin []byte, name string, args ...string) ([]byte, error) {
	se, ok := e.(StdinExecer)
	if !ok {
		return nil, fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), errNoStdin)
	}
	return se.RunInput(ctx, stdin, name, args...)
}

// toolMissing reports whether err says the command's executable was not found,
// so callers never mistake a missing tool for a missing rule.
func toolMissing(err error) bool {
	return errors.Is(err, exec.ErrNotFound)
}

// wrapExec prefixes err with the action's name and, when the tool is not
// installed, marks it with ErrToolMissing: one log line names what is missing.
func wrapExec(action string, err error) error {
	if toolMissing(err) {
		return fmt.Errorf("%s: %w: %w", action, ErrToolMissing, err)
	}
	return fmt.Errorf("%s: %w", action, err)
}
