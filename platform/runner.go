package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/internal/arproto"
)

// Defaults of ScriptRunner.
const (
	DefaultHandshakeWait = 5 * time.Second
	DefaultTimeLimit     = 60 * time.Second
	DefaultWaitDelay     = 2 * time.Second
)

// ScriptRunner runs commands as processes: the files in active-response/bin,
// spoken to through Wazuh's JSON protocol or the legacy argv. The zero value
// runs from DefaultRoot with the defaults above. Its fields must not change
// while it runs commands; Run may be called concurrently.
type ScriptRunner struct {
	Root          string        // install root and working directory; DefaultRoot() when empty
	BinDir        string        // where executables live; Root/active-response/bin when empty
	Log           *ARLog        // active-responses.log; nil writes nothing
	HandshakeWait time.Duration // longest wait for check_keys; DefaultHandshakeWait when 0
	TimeLimit     time.Duration // longest run; DefaultTimeLimit when 0
	WaitDelay     time.Duration // wait for pipes after exit; DefaultWaitDelay when 0
	Logger        *slog.Logger  // slog.Default() when nil
	// AnyOwner runs executables whatever user owns them, for containers
	// whose files belong to a build user. Files and directories writable by
	// group or others, and symlinks out of BinDir, are refused all the same.
	AnyOwner bool
}

var _ engine.Runner = (*ScriptRunner)(nil)

// ScriptError is a command that ran and failed: it exited non-zero, died of a
// signal, or was killed at the time limit or on cancel.
type ScriptError struct {
	Path   string
	Err    error  // an *exec.ExitError, or wraps the context's error when killed
	Stderr string // the tail of its stderr
}

func (e *ScriptError) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s: %v; stderr: %q", e.Path, e.Err, e.Stderr)
}

func (e *ScriptError) Unwrap() error { return e.Err }

// Run runs inv and returns when the command has ended. See the package doc.
func (r *ScriptRunner) Run(ctx context.Context, inv engine.Invocation, check engine.CheckKeys) error {
	name := inv.Command.Executable
	log := r.logger().With("executable", name, "op", string(inv.Op), "protocol", inv.Command.Protocol.String())
	ru, err := r.prepare(inv, log)
	if err != nil {
		arNote(r.Log, log, name, "Failed: "+err.Error())
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeLimit())
	defer cancel()
	return ru.run(ctx, check)
}

// prepare checks the executable and the message; nothing has run yet.
func (r *ScriptRunner) prepare(inv engine.Invocation, log *slog.Logger) (*run, error) {
	path, err := r.resolve(inv.Command.Executable)
	if err != nil {
		return nil, err
	}
	ru := &run{r: r, inv: inv, log: log, name: inv.Command.Executable, path: path}
	if inv.Command.Protocol == engine.ProtocolLegacy {
		ru.args = legacyArgs(inv)
		return ru, nil
	}
	if ru.msg, err = arproto.Compact(inv.Message); err != nil {
		return nil, fmt.Errorf("%w: %s: invalid message: %w", engine.ErrNotStarted, path, err)
	}
	return ru, nil
}

// resolve returns the path of executable in BinDir, which must be an
// executable regular file that is safe to run (see checkSafe).
func (r *ScriptRunner) resolve(executable string) (string, error) {
	if err := checkName(executable); err != nil {
		return "", err
	}
	path := filepath.Join(r.binDir(), executable)
	fi, err := os.Stat(path)
	if err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("%w: %s: %w", engine.ErrNotStarted, path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s: not a regular file", engine.ErrNotStarted, path)
	}
	if !isExecutable(fi) {
		return "", fmt.Errorf("%w: %s: not executable", engine.ErrNotStarted, path)
	}
	if err := r.checkSafe(path, fi); err != nil {
		return "", err
	}
	return path, nil
}

func (r *ScriptRunner) root() string {
	if r.Root == "" {
		return DefaultRoot()
	}
	return r.Root
}

func (r *ScriptRunner) binDir() string {
	if r.BinDir == "" {
		return filepath.Join(r.root(), "active-response", "bin")
	}
	return r.BinDir
}

func (r *ScriptRunner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

func (r *ScriptRunner) handshakeWait() time.Duration {
	return orDefault(r.HandshakeWait, DefaultHandshakeWait)
}

func (r *ScriptRunner) timeLimit() time.Duration {
	return orDefault(r.TimeLimit, DefaultTimeLimit)
}

func (r *ScriptRunner) waitDelay() time.Duration {
	return orDefault(r.WaitDelay, DefaultWaitDelay)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
