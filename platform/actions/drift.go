package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/threatlockdown/threatlockdown/engine"
)

// lister is implemented by actions that can tell which targets they hold
// in the OS: the engine's drift repair asks them what went missing.
type lister interface {
	// present returns a test of whether a target's block is in place. It
	// may also put back the action's own scaffolding (table, chains, rules)
	// that someone removed.
	present(ctx context.Context) (func(Target) bool, error)
}

// watcher is implemented by actions that can report changes made by other
// processes to what they own (nftables: netlink notifications).
type watcher interface {
	watch(notify func(who string)) error
}

var _ engine.Repairer = (*Runner)(nil)

// Missing returns those of entries whose built-in can list its blocks and
// does not find theirs. Entries of other executables, and of built-ins
// that cannot list (iptables, host-deny, pf, ...), are not checked.
func (r *Runner) Missing(ctx context.Context, entries []*engine.Entry) ([]*engine.Entry, error) {
	type group struct {
		has     func(Target) bool
		err     error
		checked bool
	}
	groups := make(map[string]*group)
	var missing []*engine.Entry
	var errs []error
	for _, e := range entries {
		name := baseName(e.Command.Executable)
		k := actionKey(name, e.Command.ExtraArgs)
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
			if a, err := r.action(name, e.Command.ExtraArgs); err == nil {
				if l, ok := a.(lister); ok {
					g.checked = true
					if g.has, g.err = l.present(ctx); g.err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", name, g.err))
					}
				}
			}
		}
		if !g.checked || g.err != nil {
			continue
		}
		t, _, err := targetOf(KindOf(name), e.Fields.Target())
		if err != nil {
			continue // never applied: nothing to put back
		}
		if !g.has(t) {
			missing = append(missing, e)
		}
	}
	return missing, errors.Join(errs...)
}

// Changes delivers a note when an action reports that another process
// changed what it owns; who names that process where the OS says. Actions
// watch only once Changes has been called (the daemon's drift repair), not
// in stand-alone runs.
func (r *Runner) Changes() <-chan string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.watching {
		r.watching = true
		for _, a := range r.actions {
			r.watch(a.Name(), a)
		}
	}
	return r.changes
}

// watch has a starts reporting changes, if it can. r.mu is held.
func (r *Runner) watch(name string, a Action) {
	w, ok := a.(watcher)
	if !ok {
		return
	}
	if err := w.watch(r.notify); err != nil {
		log := r.cfg.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Warn("not watching for changes by others; the periodic check remains", "action", name, "err", err)
	}
}

// notify passes on a change without ever blocking the watcher: one pending
// note is enough to cause a check.
func (r *Runner) notify(who string) {
	select {
	case r.changes <- who:
	default:
	}
}
