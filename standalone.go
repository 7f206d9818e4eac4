package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
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
	return isBuiltin(name)
}

// isBuiltin reports whether name is a built-in action on this OS.
func isBuiltin(name string) bool {
	r := actions.NewRunner(actions.Config{}, nil)
	defer r.Close()
	return r.Has(name)
}

// exitStatus is how a stand-alone run that failed ends: with the exit
// status Wazuh's program of that name exits with, and, like it, nothing on
// stderr; its lines in active-responses.log say why.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// runAction runs built-in action name as Wazuh's program of that name runs
// (see actions.Standalone): the message on stdin, check_keys on stdout, the
// lines in <root>/logs/active-responses.log, the root being found from
// where the executable is (standaloneRoot), which becomes the working
// directory as in Wazuh's programs. A failed run returns its exitStatus.
func runAction(ctx context.Context, name string, stdin io.Reader, stdout io.Writer) error {
	if !isBuiltin(name) {
		return fmt.Errorf("%w: %q", actions.ErrUnknownAction, name)
	}
	quiet := slog.New(slog.DiscardHandler) // Wazuh's programs print nothing
	root, found := standaloneRoot(os.Args[0])
	if found {
		if err := os.Chdir(root); err != nil {
			return fmt.Errorf("install root: %w", err)
		}
	}
	arlog, err := platform.OpenARLog(platform.ARLogPath(root))
	if err != nil {
		arlog = nil // a program without its log still does its job, as Wazuh's do
	}
	defer arlog.Close()
	host := platform.NewHostAddrs(quiet)
	host.Refresh() // on failure none are known: loopback and the like are still refused
	err = actions.Standalone(ctx, name, stdin, stdout, arlog.Programs(quiet), host)
	if st := actions.ExitStatus(err); st != 0 {
		return exitStatus(st)
	}
	return nil
}

// standaloneRoot is the install root of a stand-alone run, found as Wazuh's
// programs find theirs: two levels above the active-response/bin directory
// the executable is in. The executable is taken as started (argv0, looked
// up in PATH when it names no directory), links not resolved: the binary is
// installed as links named after the built-ins, and Wazuh's way (the
// resolved /proc/self/exe) would find the directory of the link's target.
// The resolved executable (os.Executable) is tried next. An executable in
// no active-response/bin ("threatlockdown ar NAME" from a wrapper script)
// has no root of its own: the working directory is used when it holds an
// install (execd starts programs from the root), else the default root;
// found is false then.
func standaloneRoot(argv0 string) (root string, found bool) {
	var paths []string
	if p := argv0; p != "" {
		if !strings.ContainsAny(p, `/\`) {
			p, _ = exec.LookPath(p)
		}
		if p != "" {
			if abs, err := filepath.Abs(p); err == nil {
				paths = append(paths, abs)
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		paths = append(paths, exe)
	}
	for _, p := range paths {
		bin := filepath.Dir(p)
		ar := filepath.Dir(bin)
		if strings.EqualFold(filepath.Base(bin), "bin") && strings.EqualFold(filepath.Base(ar), "active-response") {
			return filepath.Dir(ar), true
		}
	}
	for _, dir := range []string{"logs", "active-response"} {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			if wd, err := os.Getwd(); err == nil {
				return wd, false
			}
		}
	}
	return platform.DefaultRoot(), false
}
