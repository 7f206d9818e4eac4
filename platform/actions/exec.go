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
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err,
			strings.TrimSpace(out.String()))
	}
	return out.Bytes(), nil
}
