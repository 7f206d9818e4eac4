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

// run is one run of a command by a ScriptRunner.
type run struct {
	r    *ScriptRunner
	inv  engine.Invocation
	log  *slog.Logger
	name string   // executable base name
	path string   // resolved executable
	msg  []byte   // JSON protocol: the message, compacted to one line
	args []string // legacy protocol: argv after the program

	p        *proc
	answered bool // check_keys was answered
	aborted  bool // ... with abort
}

func (ru *run) run(ctx context.Context, check engine.CheckKeys) error {
	start := time.Now()
	ru.note("Starting")
	p, err := startProc(ctx, procSpec{
		path:      ru.path,
		dir:       ru.r.root(),
		args:      ru.args,
		env:       commandEnv(os.Environ(), runtime.GOOS == "windows"),
		stdin:     ru.msg != nil,
		waitDelay: ru.r.waitDelay(),
	})
	if err != nil {
		ru.note("Failed: " + err.Error())
		return err
	}
	ru.p = p
	ru.log.Debug("started", "path", ru.path, "pid", p.cmd.Process.Pid)
	var convErr error
	if ru.msg == nil {
		ru.note(strings.Join(ru.args, " "))
	} else {
		convErr = ru.converse(ctx, check)
	}
	ru.drain()
	<-p.done
	ru.log.Debug("ended", "duration", time.Since(start))
	return ru.result(ctx, convErr)
}

// converse delivers the message and, for an add, plays the handshake; stdin
// is closed when it returns.
func (ru *run) converse(ctx context.Context, check engine.CheckKeys) error {
	defer ru.p.closeStdin()
	ru.note(string(ru.msg))
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
			ru.note(line)
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
	d, err := check(keys)
	verdict := d.Verdict
	if err != nil {
		verdict = engine.Abort
		err = fmt.Errorf("check keys %q: %w", keys, err)
	}
	ans, mErr := arproto.SetCommand(ru.msg, verdict.String())
	if mErr != nil {
		return errors.Join(err, mErr) // cannot happen: msg is a checked object
	}
	ru.answered, ru.aborted = true, verdict == engine.Abort
	ru.note(string(ans))
	if wErr := ru.p.writeLine(ans); wErr != nil {
		ru.log.Warn("write answer", "verdict", verdict, "err", wErr)
	}
	if ru.aborted {
		ru.note("Aborted")
	}
	return err
}

// drain logs what the command still prints until it has exited.
func (ru *run) drain() {
	for line := range ru.p.lines {
		if _, ok := parseCheckKeys(line); ok && ru.msg != nil {
			ru.note(line)
			ru.log.Warn("ignored check_keys: stdin already closed, running stateless", "line", truncate(line, logLineTrim))
			continue
		}
		ru.log.Info("output", "line", truncate(line, logLineTrim))
	}
	if n := ru.p.out.dropped; n > 0 {
		ru.log.Warn("dropped output lines", "count", n)
	}
}

// result turns the end of the process into Run's error and the last log line.
func (ru *run) result(ctx context.Context, convErr error) error {
	err := ru.p.err
	if errors.Is(err, exec.ErrWaitDelay) {
		ru.log.Warn("a process it started kept its pipes open", "wait_delay", ru.r.waitDelay())
		err = nil
	}
	stderr := strings.TrimSpace(ru.p.stderr.String())
	if err != nil {
		err = ru.killed(ctx, err)
		ru.note("Failed: " + err.Error())
		se := &ScriptError{Path: ru.path, Err: err, Stderr: stderr}
		if convErr != nil {
			return errors.Join(convErr, se)
		}
		return se
	}
	if stderr != "" {
		ru.log.Info("stderr", "text", truncate(stderr, logLineTrim))
	}
	if convErr != nil {
		ru.note("Failed: " + convErr.Error())
		return convErr
	}
	if !ru.aborted {
		ru.note("Ended")
	}
	return nil
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

func (ru *run) note(msg string) {
	arNote(ru.r.Log, ru.log, ru.name, msg)
}
