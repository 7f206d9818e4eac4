//go:build windows

package actions

import (
	"context"
	"fmt"
	"os/exec"
	"syscall"
)

// WinExec runs Windows tools with the command line built by winCmdLine
// rather than Go's argument quoting, so netsh receives its quoted rule name
// exactly as typed in cmd.exe. The Windows registry installs it in place of
// the default OSExec.
type WinExec struct{}

var _ Execer = WinExec{}

// Run runs name with args and returns the combined output; its error names
// the command line and includes the output.
func (WinExec) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if cmd.Err != nil { // not found: no cmd.Path to build the command line on
		return nil, fmt.Errorf("%s: %w", name, cmd.Err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: winCmdLine(cmd.Path, args)}
	return runCmd(cmd, name, args)
}
