package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform"
	"github.com/threatlockdown/threatlockdown/platform/actions"
)

// purgeWithin bounds how long purge waits for the daemon's deletes.
const purgeWithin = 2 * time.Minute

// cmdPurge is what removing the package for good does (its postrm purge):
// with the service stopped, it runs the daemon on the root without reading
// any alert, lifts every active response through the normal delete path,
// then removes what the built-ins made for themselves (firewall-drop's
// nftables table: see actions.Remover), and deletes our state (the store,
// the control socket). Wazuh's files and ossec.conf are left alone.
func cmdPurge(ctx context.Context, args []string, s stdio) error {
	root := platform.DefaultRoot()
	f := flag.NewFlagSet("threatlockdown purge", flag.ContinueOnError)
	f.SetOutput(s.err)
	f.StringVar(&root, "root", root, "install root (Wazuh's layout)")
	if err := f.Parse(args); err != nil || f.NArg() > 0 {
		return fmt.Errorf("%w: purge [--root DIR]", errUsage)
	}
	m := &Main{Root: root, AgentID: "000", Stderr: s.err, LogLevel: slog.LevelWarn}
	if _, err := os.Stat(m.dbPath()); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(s.out, "nothing to lift: no %s\n", m.dbPath())
		// A purge run again, or after the state was lost: what the
		// built-ins made may still be there.
		if cfg, _, err := m.loadConfig(); err == nil {
			return removeBuiltins(ctx, m.Root, cfg, s)
		}
		return nil
	}
	lifted, cfg, err := m.liftAll(ctx)
	if err != nil {
		return err
	}
	if err := removeBuiltins(ctx, m.Root, cfg, s); err != nil {
		return err
	}
	for _, p := range []string{m.dbPath(), m.sockPath()} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	os.Remove(filepath.Dir(m.sockPath())) // the socket's own directory, when empty
	fmt.Fprintf(s.out, "lifted %d active responses; removed %s\n", lifted, m.dbPath())
	return nil
}

// removeBuiltins removes what each built-in that cfg's commands name made
// for itself, once, after every block is lifted (and the daemon closed, so
// nothing sets it up again), and prints what it removed. A command whose
// file in active-response/bin replaces the built-in is included: what an
// earlier run of the built-in made is ours all the same.
func removeBuiltins(ctx context.Context, root string, cfg *engine.Config, s stdio) error {
	if cfg == nil {
		return nil
	}
	seen := map[string]bool{}
	var errs []error
	for _, c := range cfg.Commands {
		name := filepath.Base(filepath.FromSlash(c.Executable))
		if seen[name] {
			continue
		}
		seen[name] = true
		removed, err := actions.RemoveAll(ctx, name, actions.Config{Root: root, ExtraArgs: c.ExtraArgs})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		for _, r := range removed {
			fmt.Fprintf(s.out, "removed %s\n", r)
		}
	}
	return errors.Join(errs...)
}

// liftAll runs the daemon with no alerts to read until every active
// response is reverted, and returns how many were and the config it ran.
func (m *Main) liftAll(ctx context.Context) (lifted int, cfg *engine.Config, err error) {
	lifted, err = m.lift(ctx)
	if m.d != nil && m.d.engine != nil {
		cfg = m.d.engine.Config()
	}
	return lifted, cfg, err
}

// lift is liftAll's work.
func (m *Main) lift(ctx context.Context) (int, error) {
	// An empty alerts file of a name no one could have guessed and put a
	// link or a file of theirs at (purge runs as root, in /tmp).
	f, err := os.CreateTemp("", "threatlockdown-purge-*.json")
	if err != nil {
		return 0, err
	}
	none := f.Name()
	f.Close()
	defer os.Remove(none)
	m.Alerts, m.Ready = []string{none}, make(chan struct{})
	if err := m.Open(); err != nil {
		return 0, err
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(ctx, purgeWithin)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-m.Ready:
	case err := <-done:
		done <- err
		return 0, fmt.Errorf("the daemon ended: %v", err)
	}
	e, lifted := m.d.engine, 0
	failed := map[string]error{}
	for {
		left := 0
		for _, a := range e.Active() {
			if _, seen := failed[a.Key]; seen {
				continue
			}
			left++
			if _, err := e.Unblock(ctx, a.Key); err != nil && !errors.Is(err, engine.ErrNotActive) {
				failed[a.Key] = err
			} else if err == nil {
				lifted++
			}
		}
		if ctx.Err() != nil {
			return lifted, fmt.Errorf("%d active responses not lifted: %w", e.Entries(), ctx.Err())
		}
		if left > 0 {
			continue
		}
		if e.Running() == 0 {
			break
		}
		select { // commands resumed at start are still running
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	if len(failed) > 0 {
		var errs []error
		for _, err := range failed {
			errs = append(errs, err)
		}
		return lifted, fmt.Errorf("%d not lifted: %w", len(failed), errors.Join(errs...))
	}
	return lifted, nil
}
