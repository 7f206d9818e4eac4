package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform"
	"github.com/threatlockdown/threatlockdown/platform/actions"
)

// commandRunner sends each command to the script of its name in
// active-response/bin when there is one (a user's own file always wins),
// and otherwise to the built-in action of that name, in-process.
type commandRunner struct {
	bin      string
	scripts  engine.Runner
	builtins *actions.Runner
}

var (
	_ engine.Runner     = (*commandRunner)(nil)
	_ engine.Reasserter = (*commandRunner)(nil)
	_ engine.Grouper    = (*commandRunner)(nil)
	_ engine.Repairer   = (*commandRunner)(nil)
)

func newCommandRunner(root string, scripts engine.Runner, arlog *platform.ARLog, log *slog.Logger, restart func() error) *commandRunner {
	cfg := actions.Config{Logger: log.With("component", "actions"), Restart: restart}
	return &commandRunner{
		bin:      filepath.Join(root, "active-response", "bin"),
		scripts:  scripts,
		builtins: actions.NewRunner(cfg, arlog.Programs(log)),
	}
}

// builtin reports whether executable runs in-process: no file of that name
// in active-response/bin, or a link there to this very binary (how packages
// install the built-ins for a Wazuh agent's execd), and a built-in of that
// name on this OS.
func (r *commandRunner) builtin(executable string) bool {
	path := filepath.Join(r.bin, executable)
	_, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) || err == nil && !leadsToSelf(path) {
		return false
	}
	return r.builtins.Has(executable)
}

// self is the running binary, links resolved ("" when unknown).
var self = sync.OnceValue(func() string {
	p, err := os.Executable()
	if err == nil {
		p, err = filepath.EvalSymlinks(p)
	}
	if err != nil {
		return ""
	}
	return p
})

// leadsToSelf reports whether path leads to the running binary.
func leadsToSelf(path string) bool {
	target, err := filepath.EvalSymlinks(path)
	return err == nil && self() != "" && target == self()
}

func (r *commandRunner) Run(ctx context.Context, inv engine.Invocation, check engine.CheckKeys) error {
	if r.builtin(inv.Command.Executable) {
		// The same time limit as a script's: a tool stuck on a lock must not
		// hold a worker and a lane for ever.
		ctx, cancel := context.WithTimeout(ctx, platform.DefaultTimeLimit)
		defer cancel()
		return r.builtins.Run(ctx, inv, check)
	}
	return r.scripts.Run(ctx, inv, check)
}

// Group is the batch form of a built-in, nil for a script.
func (r *commandRunner) Group(c engine.Command) engine.Group {
	if !r.builtin(c.Executable) {
		return nil
	}
	return r.builtins.Group(c)
}

// Reassert re-applies the built-ins' blocks in batches (one netlink
// transaction per thousand nftables elements) and returns the rest.
func (r *commandRunner) Reassert(ctx context.Context, entries []engine.Entry) ([]engine.Entry, error) {
	mine, rest := r.split(entries)
	more, err := r.builtins.Reassert(ctx, mine)
	return append(rest, more...), err
}

// split sorts entries into those of built-ins and those of scripts, with
// one look at active-response/bin per executable.
func (r *commandRunner) split(entries []engine.Entry) (mine, rest []engine.Entry) {
	mine = make([]engine.Entry, 0, len(entries))
	builtin := make(map[string]bool)
	for _, e := range entries {
		b, seen := builtin[e.Command.Executable]
		if !seen {
			b = r.builtin(e.Command.Executable)
			builtin[e.Command.Executable] = b
		}
		if b {
			mine = append(mine, e)
		} else {
			rest = append(rest, e)
		}
	}
	return mine, rest
}

// Missing returns the entries of built-ins whose blocks went missing from
// the OS; scripts are not checked.
func (r *commandRunner) Missing(ctx context.Context, entries []engine.Entry) ([]engine.Entry, error) {
	mine, _ := r.split(entries)
	return r.builtins.Missing(ctx, mine)
}

// Changes reports changes by other processes to what the built-ins own.
func (r *commandRunner) Changes() <-chan string { return r.builtins.Changes() }

func (r *commandRunner) Close() error { return r.builtins.Close() }
