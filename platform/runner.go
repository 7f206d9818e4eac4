package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/actions"
	"github.com/threatlockdown/threatlockdown/platform/internal/arproto"
)

// Defaults of Runner.
const (
	DefaultHandshakeWait = 5 * time.Second
	DefaultTimeLimit     = 60 * time.Second
	DefaultWaitDelay     = 2 * time.Second
)

// Runner runs the commands of an install root, the one engine.Runner of the
// daemon: a file of the command's name in active-response/bin is run as a
// process (a user's own file always wins), spoken to through Wazuh's JSON
// protocol or the legacy argv; otherwise the built-in action of that name
// runs in-process, as it does when the file there is a link to this very
// binary (how packages install the built-ins for a Wazuh agent's execd).
// With DryRun it runs nothing and logs what would run (see the package doc).
//
// Its fields must not change once it runs commands; Run may be called
// concurrently.
type Runner struct {
	Root          string        // install root and working directory; DefaultRoot() when empty
	HandshakeWait time.Duration // longest wait for check_keys; DefaultHandshakeWait when 0
	TimeLimit     time.Duration // longest run, built-ins included; DefaultTimeLimit when 0
	WaitDelay     time.Duration // wait for pipes after exit; DefaultWaitDelay when 0
	Logger        *slog.Logger  // slog.Default() when nil
	// AnyOwner runs executables whatever user owns them, for containers
	// whose files belong to a build user. Files and directories writable by
	// group or others, and symlinks out of active-response/bin, are refused
	// all the same.
	AnyOwner bool
	// Builtins runs the built-in actions; nil when there are none (every
	// command is then a file). It writes their active-responses.log lines.
	Builtins *actions.Runner
	// DryRun runs nothing: each run logs what would run and, for an add,
	// answers check_keys with the key the command would send.
	DryRun bool

	goos string // runtime.GOOS when empty; tests set "windows"
}

var (
	_ engine.Runner   = (*Runner)(nil)
	_ engine.Grouper  = (*Runner)(nil)
	_ engine.Repairer = (*Runner)(nil)
)

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
func (r *Runner) Run(ctx context.Context, inv engine.Invocation, check engine.CheckKeys) error {
	// The same time limit for both: a tool stuck on a lock must not hold a
	// worker and a lane for ever.
	ctx, cancel := context.WithTimeout(ctx, r.timeLimit())
	defer cancel()
	name := inv.Command.Executable
	if r.Builtin(name) {
		if r.DryRun {
			return r.dryRun(ctx, inv, check, "")
		}
		return r.Builtins.Run(ctx, inv, check)
	}
	log := r.logger().With("executable", name, "op", string(inv.Op), "protocol", inv.Command.Protocol.String())
	ru, err := r.prepare(inv, log)
	if err != nil {
		log.Error("not started", "err", err)
		return err
	}
	if r.DryRun {
		return r.dryRun(ctx, inv, check, ru.file)
	}
	return ru.run(ctx, check)
}

// Builtin reports whether executable runs in-process: a built-in of that
// name exists on this OS, and active-response/bin holds no file of that
// name or a link there to the running binary.
func (r *Runner) Builtin(executable string) bool {
	if r.Builtins == nil || !r.Builtins.Has(executable) {
		return false
	}
	path, err := r.find(executable)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	return err == nil && leadsToSelf(path)
}

// Check reports whether the file executable names would be started: nil,
// or the error Run would return without starting it (an *UnsafeError, a
// non-executable file, a refused name). A built-in, and a command with no
// file (reported when it runs), are nil. The daemon checks its commands
// with it at start and on reload; Run checks again before each run, since
// a file can change.
func (r *Runner) Check(executable string) error {
	if r.Builtin(executable) {
		return nil
	}
	if err := checkName(executable); err != nil {
		return err
	}
	if _, err := r.find(executable); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	_, err := r.resolve(executable)
	return err
}

// Group is the batch form of a built-in; nil for a script and in a dry run.
func (r *Runner) Group(c engine.Command) engine.Group {
	if r.DryRun || !r.Builtin(c.Executable) {
		return nil
	}
	return r.Builtins.Group(c)
}

// Reassert re-applies the built-ins' blocks in batches (one netlink
// transaction per thousand nftables elements) and returns the rest, the
// scripts', for the engine to run one by one. A dry run returns them all.
func (r *Runner) Reassert(ctx context.Context, entries []engine.Entry) ([]engine.Entry, error) {
	if r.DryRun {
		return entries, nil
	}
	mine, rest := split(r, entries)
	more, err := r.Builtins.Reassert(ctx, mine)
	return append(rest, more...), err
}

// Missing returns the entries of built-ins whose blocks went missing from
// the OS; scripts are not checked, nor is anything in a dry run.
func (r *Runner) Missing(ctx context.Context, entries []*engine.Entry) ([]*engine.Entry, error) {
	if r.DryRun {
		return nil, nil
	}
	mine, _ := split(r, entries)
	return r.Builtins.Missing(ctx, mine)
}

// Prepare sets up, ahead of their first block, what the built-ins among
// cmds need in the OS (firewall-drop's nftables table); nothing for scripts
// or in a dry run.
func (r *Runner) Prepare(ctx context.Context, cmds []engine.Command) error {
	if r.DryRun || r.Builtins == nil {
		return nil
	}
	mine := make([]engine.Command, 0, len(cmds))
	for _, c := range cmds {
		if r.Builtin(c.Executable) {
			mine = append(mine, c)
		}
	}
	return r.Builtins.Prepare(ctx, mine)
}

// Changes reports changes by other processes to what the built-ins own.
func (r *Runner) Changes() <-chan string {
	if r.DryRun || r.Builtins == nil {
		return nil
	}
	return r.Builtins.Changes()
}

// Close releases the built-ins.
func (r *Runner) Close() error {
	if r.Builtins == nil {
		return nil
	}
	return r.Builtins.Close()
}

// split sorts entries (Entry or *Entry) into those of built-ins and those
// of scripts, with one look at active-response/bin per executable. When all
// are built-ins (the common case) mine is entries itself: no copy of a
// table of 100,000 entries.
func split[E engine.Entry | *engine.Entry](r *Runner, entries []E) (mine, rest []E) {
	builtin := make(map[string]bool)
	isBuiltin := func(e E) bool {
		exe := executableOf(e)
		b, seen := builtin[exe]
		if !seen {
			b = r.Builtin(exe)
			builtin[exe] = b
		}
		return b
	}
	i := 0
	for i < len(entries) && isBuiltin(entries[i]) {
		i++
	}
	if i == len(entries) {
		return entries, nil
	}
	mine = append(make([]E, 0, len(entries)), entries[:i]...)
	for _, e := range entries[i:] {
		if isBuiltin(e) {
			mine = append(mine, e)
		} else {
			rest = append(rest, e)
		}
	}
	return mine, rest
}

func executableOf[E engine.Entry | *engine.Entry](e E) string {
	switch e := any(e).(type) {
	case *engine.Entry:
		return e.Command.Executable
	case engine.Entry:
		return e.Command.Executable
	}
	return ""
}

// prepare finds and checks the executable and builds how it is started;
// nothing has run yet.
func (r *Runner) prepare(inv engine.Invocation, log *slog.Logger) (*run, error) {
	file, err := r.resolve(inv.Command.Executable)
	if err != nil {
		return nil, err
	}
	ru := &run{r: r, inv: inv, log: log, file: file}
	var args []string
	if inv.Command.Protocol == engine.ProtocolLegacy {
		args = legacyArgs(inv)
	} else if ru.msg, err = arproto.Compact(inv.Message); err != nil {
		return nil, fmt.Errorf("%w: %s: invalid message: %w", engine.ErrNotStarted, file, err)
	}
	if ru.start, err = r.startLine(file, inv.Command.Protocol, args); err != nil {
		return nil, err
	}
	return ru, nil
}

// resolve returns the path of executable in active-response/bin, which
// must be an executable regular file that is safe to run (see checkSafe).
func (r *Runner) resolve(executable string) (string, error) {
	if err := checkName(executable); err != nil {
		return "", err
	}
	path, err := r.find(executable)
	if err != nil {
		return "", err
	}
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

// find returns the file executable names in active-response/bin, an
// error wrapping fs.ErrNotExist when there is none. On Windows a name
// without an extension is looked up with each of windowsExts.
func (r *Runner) find(executable string) (string, error) {
	path := filepath.Join(r.binDir(), executable)
	if r.os() == "windows" {
		return findWindows(path, lstatExists)
	}
	if _, err := os.Lstat(path); err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("%w: %s: %w", engine.ErrNotStarted, path, err)
	}
	return path, nil
}

func lstatExists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// startLine is how file is started: argv, argv[0] first, and the path
// exec starts. A JSON-protocol program is started as
// active-response/bin/<executable>, relative to the install root, as
// Wazuh's execd does: Wazuh's programs name their log lines by argv[0], and
// Wazuh's decoder of active-responses.log reads that form only. A legacy
// script is started by its absolute path, as Wazuh < 4.2 did, which the
// decoder of their lines expects.
func (r *Runner) startLine(file string, p engine.Protocol, args []string) (startLine, error) {
	path := "active-response/bin/" + filepath.Base(file) // Wazuh's AR_BINDIR, "/" on every OS
	if p == engine.ProtocolLegacy {
		abs, err := filepath.Abs(file)
		if err != nil {
			return startLine{}, fmt.Errorf("%w: %s: %w", engine.ErrNotStarted, file, err)
		}
		path = abs
	}
	if r.os() == "windows" {
		return windowsStart(path, args)
	}
	return startLine{argv: append([]string{path}, args...)}, nil
}

func (r *Runner) root() string {
	if r.Root == "" {
		return DefaultRoot()
	}
	return r.Root
}

func (r *Runner) binDir() string {
	return filepath.Join(r.root(), "active-response", "bin")
}

func (r *Runner) os() string {
	if r.goos == "" {
		return runtime.GOOS
	}
	return r.goos
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

func (r *Runner) handshakeWait() time.Duration {
	return orDefault(r.HandshakeWait, DefaultHandshakeWait)
}

func (r *Runner) timeLimit() time.Duration {
	return orDefault(r.TimeLimit, DefaultTimeLimit)
}

func (r *Runner) waitDelay() time.Duration {
	return orDefault(r.WaitDelay, DefaultWaitDelay)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
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
