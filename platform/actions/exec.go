package actions

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Execer runs one OS command and returns its combined output. It is the one
// seam through which every action reaches an OS tool, so tests can record the
// exact command lines instead of running them.
type Execer interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// OSExec runs commands for real, with LC_ALL=C so output parsers see English.
type OSExec struct{}

// Run runs name with args. Its error names the command line and includes the
// output, so one log line tells what failed and why.
func (OSExec) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return runCmd(exec.CommandContext(ctx, name, args...), name, args)
}

// runCmd runs cmd, the command line name args, with LC_ALL=C and returns its
// combined output. Its error names the command line and includes the output.
// OSExec and WinExec differ only in how they make cmd.
func runCmd(cmd *exec.Cmd, name string, args []string) ([]byte, error) {
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err,
			strings.TrimSpace(out.String()))
	}
	return out.Bytes(), nil
}
