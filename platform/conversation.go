package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/internal/arproto"
)

// run is one run of a command's file by a Runner. It writes nothing to
// active-responses.log: as with Wazuh's execd, the program logs its own
// lines there, and the daemon's log records the run.
type run struct {
	r     *Runner
	inv   engine.Invocation
	log   *slog.Logger
	file  string    // resolved executable
	start startLine // how it is started
	msg   []byte    // JSON protocol: the message, compacted to one line

	p       *proc
	aborted bool // check_keys was answered with abort
}

func (ru *run) run(ctx context.Context, check engine.CheckKeys) error {
	began := time.Now()
	p, err := startProc(ctx, procSpec{
		argv:      ru.start.argv,
		cmdLine:   ru.start.cmdLine,
		dir:       ru.r.root(),
		env:       commandEnv(os.Environ(), runtime.GOOS == "windows"),
		stdin:     ru.msg != nil,
		waitDelay: ru.r.waitDelay(),
	})
	if err != nil {
		ru.log.Error("not started", "err", err)
		return err
	}
	ru.p = p
	ru.log.Info("run", "argv", ru.start.argv, "pid", p.cmd.Process.Pid)
	var convErr error
	if ru.msg != nil {
		convErr = ru.converse(ctx, check)
	}
	ru.drain()
	<-p.done
	err = ru.result(ctx, convErr)
	ru.log.Info("exit", "status", exitStatus(err), "aborted", ru.aborted, "duration", time.Since(began))
	return err
}

// converse delivers the message and, for an add, plays the handshake; stdin
// is closed when it returns.
func (ru *run) converse(ctx context.Context, check engine.CheckKeys) error {
	defer ru.p.closeStdin()
	ru.log.Debug("message", "json", string(ru.msg))
	if err := ru.p.writeLine(ru.msg); err != nil {
		ru.log.Warn("write message", "err", err)
		return nil // it exited without reading: its exit status tells
	}
	if ru.inv.Op != engine.OpAdd {
		return nil
	}
	return ru.handshake(ctx, check)
}

// handshake waits for check_keys at most HandshakeWait. A command that exits,
// or stays silent that long, is stateless.
func (ru *run) handshake(ctx context.Context, check engine.CheckKeys) error {
	wait := ru.r.handshakeWait()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-ru.p.lines:
			if !ok {
				ru.log.Debug("exited without check_keys: stateless")
				return nil
			}
			keys, isCheck := parseCheckKeys(line)
			if !isCheck {
				ru.log.Warn("ignored output during handshake", "line", truncate(line, logLineTrim))
				continue
			}
			ru.log.Debug("check_keys", "json", line)
			return ru.answer(keys, check)
		case <-timer.C:
			ru.log.Warn("no check_keys in time: closing stdin, running stateless", "wait", wait)
			return nil
		case <-ctx.Done():
			return nil // the command is being killed: its result tells
		}
	}
}

// answer asks the engine and sends continue or abort. An error from check is
// answered with abort and returned.
func (ru *run) answer(keys []string, check engine.CheckKeys) error {
	verdict, err := decide(keys, check)
	ans, mErr := arproto.SetCommand(ru.msg, verdict.String())
	if mErr != nil {
		return errors.Join(err, mErr) // cannot happen: msg is a checked object
	}
	ru.aborted = verdict == engine.Abort
	ru.log.Info("check_keys", "keys", keys, "verdict", verdict.String())
	ru.log.Debug("answer", "json", string(ans))
	if wErr := ru.p.writeLine(ans); wErr != nil {
		ru.log.Warn("write answer", "verdict", verdict, "err", wErr)
	}
	return err
}

// decide asks check about keys: its verdict, or abort with its error.
func decide(keys []string, check engine.CheckKeys) (engine.Verdict, error) {
	if check == nil {
		return engine.Continue, nil
	}
	d, err := check(keys)
	if err != nil {
		return engine.Abort, fmt.Errorf("check keys %q: %w", keys, err)
	}
	return d.Verdict, nil
}

// drain logs what the command still prints until it has exited.
func (ru *run) drain() {
	for line := range ru.p.lines {
		if _, ok := parseCheckKeys(line); ok && ru.msg != nil {
			ru.log.Warn("ignored check_keys: stdin already closed, running stateless", "line", truncate(line, logLineTrim))
			continue
		}
		ru.log.Info("output", "line", truncate(line, logLineTrim))
	}
	if n := ru.p.out.dropped; n > 0 {
		ru.log.Warn("dropped output lines", "count", n)
	}
}

// result turns the end of the process into Run's error.
func (ru *run) result(ctx context.Context, convErr error) error {
	err := ru.p.err
	if errors.Is(err, exec.ErrWaitDelay) {
		ru.log.Warn("a process it started kept its pipes open", "wait_delay", ru.r.waitDelay())
		err = nil
	}
	stderr := strings.TrimSpace(ru.p.stderr.String())
	if err != nil {
		se := &ScriptError{Path: ru.file, Err: ru.killed(ctx, err), Stderr: stderr}
		return errors.Join(convErr, se)
	}
	if stderr != "" {
		ru.log.Info("stderr", "text", truncate(stderr, logLineTrim))
	}
	return convErr
}

// killed names why a command that failed after ctx ended was killed.
func (ru *run) killed(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("killed at time limit %s: %w", ru.r.timeLimit(), ctx.Err())
	case ctx.Err() != nil:
		return fmt.Errorf("killed: %w", ctx.Err())
	}
	return err
}

// exitStatus is how the exit of a run is logged.
func exitStatus(err error) string {
	if se := (*ScriptError)(nil); errors.As(err, &se) {
		return se.Err.Error()
	}
	if err != nil {
		return "0 (" + err.Error() + ")"
	}
	return "0"
}
