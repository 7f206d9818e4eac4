package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform"
	"github.com/threatlockdown/threatlockdown/platform/actions"
)

// replayKeys is replay's engine.KeysFunc: the keys each command would send
// in check_keys, decided as the daemon decides who runs a command
// (platform.Runner.Builtin): a file in active-response/bin is a script, keyed as
// Wazuh's stock scripts key (the address, else the user); otherwise a
// built-in of that name sends the keys of its batch form (Group.Keys: the
// validated address or user; restart-wazuh none). A command that is neither
// (missing here: replay may run on another host than the config's) is
// keyed as a stock script too, and reported as missing.
type replayKeys struct {
	runner *platform.Runner
	root   string
	byCmd  map[string]engine.KeysFunc // by executable and extra_args
	kind   map[string]string          // by executable: built-in, script or missing
}

// Command kinds, as the report names them.
const (
	replayKindBuiltin = "built-in"
	replayKindScript  = "script"
	replayKindMissing = "missing (keyed as Wazuh's scripts)"
)

func newReplayKeys(root string) *replayKeys {
	cfg := actions.Config{Exec: replayNoExec{}, Logger: slog.New(slog.DiscardHandler)}
	return &replayKeys{
		runner: &platform.Runner{Root: root, Builtins: actions.NewRunner(cfg, nil)},
		root:   root, byCmd: map[string]engine.KeysFunc{}, kind: map[string]string{},
	}
}

func (k *replayKeys) keys(c *engine.Command, f engine.Fields) ([]string, bool, error) {
	id := c.Executable // no allocation in the common case
	if len(c.ExtraArgs) > 0 {
		id += "\x00" + strings.Join(c.ExtraArgs, "\x00")
	}
	kf := k.byCmd[id]
	if kf == nil {
		kf = k.resolve(c)
		k.byCmd[id] = kf
	}
	return kf(c, f)
}

// resolve returns the KeysFunc of command c.
func (k *replayKeys) resolve(c *engine.Command) engine.KeysFunc {
	if !k.runner.Builtin(c.Executable) {
		k.kind[c.Executable] = replayKindScript
		if _, err := os.Lstat(filepath.Join(k.root, "active-response", "bin", c.Executable)); err != nil {
			k.kind[c.Executable] = replayKindMissing
		}
		return engine.StockKeys
	}
	k.kind[c.Executable] = replayKindBuiltin
	if g := k.runner.Group(*c); g != nil {
		return func(_ *engine.Command, f engine.Fields) ([]string, bool, error) {
			keys, err := g.Keys(f)
			return keys, true, err
		}
	}
	if actions.KindOf(filepath.Base(c.Executable)) == actions.KeyNone {
		return func(*engine.Command, engine.Fields) ([]string, bool, error) { return nil, false, nil }
	}
	err := fmt.Errorf("built-in %s refuses its extra_args %q", c.Executable, c.ExtraArgs)
	return func(*engine.Command, engine.Fields) ([]string, bool, error) { return nil, false, err }
}

// prepare resolves the commands of cfg's responses, so that every one
// has its kind in the report, triggered or not.
func (k *replayKeys) prepare(cfg *engine.Config) {
	for _, r := range cfg.Responses {
		if r.Command != nil {
			k.keys(r.Command, engine.Fields{})
		}
	}
}

// kinds names the kind of each executable: built-in, script or missing.
func (k *replayKeys) kinds() map[string]string { return k.kind }

// replayNoExec is the built-ins' OS seam in a replay: nothing ever runs.
type replayNoExec struct{}

var errReplayNoExec = errors.New("replay runs no command")

func (replayNoExec) Run(_ context.Context, name string, _ ...string) ([]byte, error) {
	return nil, fmt.Errorf("%s: %w", name, errReplayNoExec)
}
