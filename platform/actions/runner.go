package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Runner runs built-in actions in-process for the engine, standing in for a
// script of the same name: same keys in check_keys, same table entries and
// timeouts (the engine's), same active-responses.log lines. Actions are
// created on first use, one per name and extra_args, and kept for reuse (the
// nftables backend keeps its netlink socket). Close releases them.
type Runner struct {
	cfg       Config
	log       ARLogger
	newAction func(name string, cfg Config) (Action, bool) // New; fakes in tests

	mu      sync.Mutex
	actions map[string]Action // by name and extra_args

	logs     logQueue    // the log lines of groups, written off the engine's commit path
	changes  chan string // see Changes
	watching bool        // Changes was called: actions report changes by others
}

var _ engine.Runner = (*Runner)(nil)

// NewRunner returns a Runner creating its actions with cfg (its ExtraArgs
// are replaced by each message's) and logging to log (nil: no log).
func NewRunner(cfg Config, log ARLogger) *Runner {
	return &Runner{cfg: cfg, log: log, newAction: New, actions: make(map[string]Action), changes: make(chan string, 1)}
}

// Has reports whether name (an executable's base name) is a built-in on
// this OS.
func (r *Runner) Has(name string) bool {
	_, err := r.action(name, nil)
	return err == nil
}

// Run runs inv in-process. The action is the built-in named by the base
// name of inv.Command.Executable; its target is inv.Target, which the
// engine decoded and validated (the alert in inv.Message is not read
// again), and on add check is asked with the keys a Wazuh script would
// send. The action acts only on Continue, with Decision.Expires as the
// kernel-side safety net where it has one; on Abort an active block gets its
// kernel timeout moved to Decision.Expires when that is set.
func (r *Runner) Run(ctx context.Context, inv engine.Invocation, check engine.CheckKeys) error {
	name := baseName(inv.Command.Executable)
	if !r.Has(name) {
		return fmt.Errorf("%w: %w: %q", engine.ErrNotStarted, ErrUnknownAction, name)
	}
	l := newARLog(r.log, name)
	l.line("Starting")
	target := func(*params) (engine.Target, string) { return inv.Target, "" }
	resolve := func(extra []string) (Action, error) { return r.action(name, extra) }
	ask := func(keys []string, _ []byte) ([]byte, engine.Decision, error) {
		if check == nil {
			return answerLine(inv.Message, engine.Continue), engine.Decision{}, nil
		}
		d, err := check(keys)
		if err != nil {
			l.line(err.Error())
			return nil, d, err
		}
		return answerLine(inv.Message, d.Verdict), d, nil
	}
	return serve(ctx, name, inv.Message, l, target, resolve, ask)
}

// Reassert applies the blocks of entries again, e.g. after a reboot wiped
// the firewall: all targets of one built-in go in one batch where the action
// is a Batcher. Entries whose executable is not a built-in are returned in
// rest for the caller to run as scripts; entries of stateless built-ins are
// skipped. An entry whose target cannot be read is reported in err.
func (r *Runner) Reassert(ctx context.Context, entries []engine.Entry) (rest []engine.Entry, err error) {
	type group struct {
		name   string
		extra  []string
		blocks []Block
	}
	groups := make(map[string]*group)
	builtin := make(map[string]bool)
	var errs []error
	for _, e := range entries {
		name := baseName(e.Command.Executable)
		has, seen := builtin[name]
		if !seen {
			has = r.Has(name)
			builtin[name] = has
		}
		if !has {
			rest = append(rest, e)
			continue
		}
		t, keys, err := targetOf(KindOf(name), e.Fields.Target())
		if err != nil {
			errs = append(errs, fmt.Errorf("reassert %s: %w", e.Key, err))
		}
		if keys == nil { // bad target, or a stateless built-in
			continue
		}
		extra := e.Command.ExtraArgs // the message's extra_args are the command's
		k := actionKey(name, extra)
		if groups[k] == nil {
			groups[k] = &group{name: name, extra: extra, blocks: make([]Block, 0, len(entries))}
		}
		groups[k].blocks = append(groups[k].blocks, Block{Target: t, Expires: e.Expires})
	}
	for _, g := range groups {
		errs = append(errs, r.addMany(ctx, g.name, g.extra, g.blocks))
	}
	return rest, errors.Join(errs...)
}

// Prepare sets up the actions of cmds that set something up in the OS at
// their first use (firewall-drop on nftables: its table), so that their
// first block costs what the others do. An action already set up does
// nothing. A command whose action cannot be made is left for its first
// run to report.
func (r *Runner) Prepare(ctx context.Context, cmds []engine.Command) error {
	var errs []error
	for _, c := range cmds {
		name := baseName(c.Executable)
		a, err := r.action(name, c.ExtraArgs)
		if err != nil {
			continue
		}
		if p, ok := a.(preparer); ok {
			errs = append(errs, p.prepare(ctx))
		}
	}
	return errors.Join(errs...)
}

// preparer is implemented by actions that set something up in the OS at
// their first use.
type preparer interface {
	prepare(ctx context.Context) error
}

// addMany adds blocks with the action named name, in one batch if it can.
func (r *Runner) addMany(ctx context.Context, name string, extra []string, blocks []Block) error {
	a, err := r.action(name, extra)
	if err != nil {
		return err
	}
	// No Wazuh program writes such lines, so they go to the daemon's log,
	// not to active-responses.log, whose lines Wazuh's rules read.
	log := r.logger().With("action", name, "blocks", len(blocks))
	if err = addMany(ctx, a, blocks); err != nil {
		log.Error("batch re-apply failed", "err", err)
		return fmt.Errorf("reassert %s: %w", name, err)
	}
	log.Info("batch re-applied")
	return nil
}

// Close releases the actions that hold OS resources.
func (r *Runner) Close() error {
	r.logs.close()
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for k, a := range r.actions {
		if c, ok := a.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
		delete(r.actions, k)
	}
	return errors.Join(errs...)
}

// action returns the cached action for name and extra, creating it.
func (r *Runner) action(name string, extra []string) (Action, error) {
	k := actionKey(name, extra)
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.actions[k]; ok {
		return a, nil
	}
	cfg := r.cfg
	cfg.ExtraArgs = extra
	a, ok := r.newAction(name, cfg)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAction, name)
	}
	if v, ok := a.(validator); ok {
		if err := v.validate(); err != nil {
			return nil, err
		}
	}
	if r.watching {
		r.watch(name, a)
	}
	r.actions[k] = a
	return a, nil
}

// validator is implemented by actions whose configuration (extra_args) can
// be wrong: the Runner refuses them before any handshake.
type validator interface {
	validate() error
}

func actionKey(name string, extra []string) string {
	return name + "\x00" + strings.Join(extra, "\x00")
}

// baseName strips any directory from an executable name, either separator.
func baseName(exe string) string {
	if i := strings.LastIndexAny(exe, `/\`); i >= 0 {
		return exe[i+1:]
	}
	return exe
}

// logger is the daemon's log (Config.Logger), slog.Default() when unset.
func (r *Runner) logger() *slog.Logger {
	if r.cfg.Logger == nil {
		return slog.Default()
	}
	return r.cfg.Logger
}
