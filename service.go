package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/threatlockdown/threatlockdown/platform/service"
)

// cmdService is `threatlockdown service ACTION [--root DIR] [run's flags]`:
// install writes the service to run `threatlockdown run` with those flags;
// the others control it. status exits 3 when it does not run.
func cmdService(_ context.Context, args []string, s stdio) error {
	if len(args) == 0 || !slices.Contains(service.Actions, args[0]) {
		return fmt.Errorf("%w: service %s", errUsage, strings.Join(service.Actions, "|"))
	}
	action, flags := args[0], args[1:]
	m, err := ParseFlags(flags, s.err) // validated as run would take them
	if err != nil {
		return err
	}
	spec, err := serviceSpec(m.Root, flags)
	if err != nil {
		return err
	}
	svc, err := service.New(spec, nil)
	if err != nil {
		return err
	}
	msg, err := service.Control(svc, action)
	if errors.Is(err, service.ErrNotRunning) {
		return fmt.Errorf("%w: %v", errNotRunning, err)
	}
	if err != nil {
		return fmt.Errorf("service %s: %w", action, err)
	}
	fmt.Fprintln(s.out, msg)
	return nil
}

// serviceSpec is the service for root: this binary, run with flags (and
// --root, absolute, when flags do not say it).
func serviceSpec(root string, flags []string) (service.Spec, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return service.Spec{}, fmt.Errorf("where is this binary: %w", err)
	}
	if root, err = filepath.Abs(root); err != nil {
		return service.Spec{}, err
	}
	extra := withoutFlag(flags, "root")
	return service.Spec{Exec: exe, Args: service.RunArgs(root, extra...), Root: root}, nil
}

// withoutFlag drops --name VALUE and --name=VALUE from args.
func withoutFlag(args []string, name string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		switch {
		case a == name && args[i] != a:
			i++ // and its value
		case strings.HasPrefix(a, name+"=") && args[i] != a:
		default:
			out = append(out, args[i])
		}
	}
	return out
}

// runUnderManager runs m as the service manager's program (Windows's SCM
// needs the handshake; systemd and launchd run `threatlockdown run` as a
// plain process and stop it with SIGTERM).
func runUnderManager(m *Main, args []string) error {
	spec, err := serviceSpec(m.Root, args)
	if err != nil {
		return err
	}
	p := &service.Program{Run: m.Serve, Exit: func(err error) {
		fmt.Fprintln(m.Stderr, "threatlockdown:", err)
		os.Exit(1)
	}}
	svc, err := service.New(spec, p)
	if err != nil {
		return err
	}
	if el, err := svc.Logger(nil); err == nil {
		m.eventLog = el // Windows: the Event Log as well as the file
	}
	return svc.Run()
}
