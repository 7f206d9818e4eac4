package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform"
)

// builtins wraps the script runner so built-in actions run in-process.
func builtins(root string, scripts engine.Runner, arlog *platform.ARLog, log *slog.Logger) engine.Runner {
	return scripts
}

func isStandaloneName(name string) bool { return false }

func runAction(ctx context.Context, name string, stdin io.Reader, stdout io.Writer) error {
	return fmt.Errorf("no built-in action %q", name)
}
