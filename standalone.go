package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/threatlockdown/threatlockdown/platform"
	"github.com/threatlockdown/threatlockdown/platform/actions"
)

// isStandaloneName reports whether the binary was started under a built-in
// action's name (a link in a Wazuh agent's active-response/bin).
func isStandaloneName(name string) bool {
	name = strings.TrimSuffix(name, ".exe")
	if strings.HasPrefix(name, "threatlockdown") || name == "main" {
		return false
	}
	r := actions.NewRunner(actions.Config{}, nil)
	defer r.Close()
	return r.Has(name)
}

// runAction runs built-in action name as a Wazuh active-response script:
// the message on stdin, check_keys on stdout. Like Wazuh's scripts it runs
// from the install root (execd's working directory) and logs to its
// logs/active-responses.log.
func runAction(ctx context.Context, name string, stdin io.Reader, stdout io.Writer) error {
	root := "."
	if _, err := os.Stat(filepath.Join(root, "logs")); err != nil {
		root = platform.DefaultRoot()
	}
	arlog, err := platform.OpenARLog(platform.ARLogPath(root))
	if err != nil {
		arlog = nil // a script without its log still does its job
	}
	defer arlog.Close()
	return actions.Standalone(ctx, name, stdin, stdout, arlog.Programs(nil))
}
