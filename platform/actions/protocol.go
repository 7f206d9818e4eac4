package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/internal/arproto"
)

// ARLogger writes lines of active-responses.log. executable is the program
// as Wazuh's scripts name themselves there ("active-response/bin/firewall-drop");
// msg is one message without a newline. The daemon adapts its log writer to
// it, adding the "YYYY/MM/DD HH:MM:SS " prefix.
type ARLogger interface {
	Line(executable, msg string)
}

// linesLogger is an ARLogger that writes many lines in one write.
type linesLogger interface {
	Lines(executable string, msgs [][]byte)
}

// request is one execd message as a Wazuh 4.x script reads it. The raw
// fields are only checked for their kind (answerLine echoes the message
// itself).
type request struct {
	Version    json.RawMessage `json:"version"`
	Origin     json.RawMessage `json:"origin"`
	Command    string          `json:"command"`
	Parameters json.RawMessage `json:"parameters"`
}

// params is the part of "parameters" a built-in reads.
type params struct {
	ExtraArgs []string        `json:"extra_args"`
	Alert     json.RawMessage `json:"alert"`
}

// parseRequest checks line the way Wazuh's get_json_from_input does: a
// numeric version, objects for origin and parameters, a string command.
func parseRequest(line []byte) (*request, *params, error) {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return nil, nil, fmt.Errorf("invalid input format: %w", err)
	}
	if !isNumber(req.Version) || !isObject(req.Origin) || !isObject(req.Parameters) {
		return nil, nil, errors.New("invalid input format: want version, origin, command and parameters")
	}
	var p params
	if err := json.Unmarshal(req.Parameters, &p); err != nil {
		return nil, nil, fmt.Errorf("invalid input format: parameters: %w", err)
	}
	return &req, &p, nil
}

func isObject(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '{' }

func isNumber(raw json.RawMessage) bool {
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

// answerLine is execd's answer to a check_keys: the message msg, on one
// line, with its command set to the verdict.
func answerLine(msg []byte, v engine.Verdict) []byte {
	if line, ok := engine.AnswerMessage(msg, v); ok {
		return line // the engine's own message: spliced, not re-encoded
	}
	line, err := arproto.Compact(msg)
	if err == nil {
		line, err = arproto.SetCommand(line, v.String())
	}
	if err != nil {
		// unreachable: serve validated msg with parseRequest
		return []byte(`{"command":"` + v.String() + `"}`)
	}
	return line
}

// askFunc settles a check_keys handshake: it delivers checkLine (to execd's
// pipe or the engine) and returns the answer line as read and its decision.
type askFunc func(keys []string, checkLine []byte) ([]byte, engine.Decision, error)

// resolveFunc returns the action for the message's extra_args.
type resolveFunc func(extraArgs []string) (Action, error)

// arLog writes one script's lines; a nil ARLogger drops them.
type arLog struct {
	log  ARLogger
	prog string
}

func newARLog(log ARLogger, name string) arLog {
	return arLog{log: log, prog: "active-response/bin/" + name}
}

func (l arLog) line(msg string) {
	if l.log != nil {
		l.log.Line(l.prog, strings.TrimRight(msg, "\r\n"))
	}
}

// lines writes msgs, in one write where the logger can.
func (l arLog) lines(msgs [][]byte) {
	if ll, ok := l.log.(linesLogger); ok {
		ll.Lines(l.prog, msgs)
		return
	}
	for _, m := range msgs {
		l.line(string(m))
	}
}

// serve runs one message line the way a Wazuh 4.x script does after logging
// "Starting": log the message, extract the target, handshake on add, act,
// and log "Aborted" or "Ended". Targets are validated before the handshake,
// so a hostile value is never sent on as a key.
func serve(ctx context.Context, name string, line []byte, l arLog, resolve resolveFunc, ask askFunc) error {
	l.line(string(line))
	req, p, err := parseRequest(line)
	if err != nil {
		l.line("Invalid input format")
		return err
	}
	op := engine.Op(req.Command)
	if op != engine.OpAdd && op != engine.OpDelete {
		l.line("Invalid value of 'command'")
		return fmt.Errorf("%s: invalid command %q", name, req.Command)
	}
	kind := KindOf(name)
	t, keys, err := TargetFromAlert(kind, p.Alert)
	if err != nil {
		l.line(targetMessage(err))
		return fmt.Errorf("%s: %w", name, err)
	}
	act, err := resolve(p.ExtraArgs)
	if err != nil {
		l.line(err.Error())
		return err
	}
	var expires time.Time
	if op == engine.OpAdd && kind != KeyNone {
		d, err := handshake(l, name, keys, ask)
		if err != nil {
			return err
		}
		if d.Verdict == engine.Abort {
			refresh(ctx, l, act, t, d.Expires)
			l.line("Aborted")
			return nil
		}
		expires = d.Expires
	}
	err = apply(ctx, act, op, t, expires)
	if err != nil {
		l.line(err.Error())
	}
	l.line("Ended")
	return err
}

// handshake sends check_keys and logs both lines, as Wazuh's scripts do.
func handshake(l arLog, name string, keys []string, ask askFunc) (engine.Decision, error) {
	checkLine := arproto.CheckKeysLine(name, keys)
	l.line(string(checkLine))
	answer, d, err := ask(keys, checkLine)
	if answer != nil {
		l.line(string(answer))
	}
	if err != nil { // ask logged why
		return d, fmt.Errorf("%s: check_keys: %w", name, err)
	}
	return d, nil
}

// apply performs op on t.
func apply(ctx context.Context, act Action, op engine.Op, t Target, expires time.Time) error {
	if op == engine.OpDelete {
		return act.Delete(ctx, t)
	}
	return act.Add(ctx, t, expires)
}

// refresh moves the kernel-side expiry of a block that is already active and
// whose revert timer the engine just restarted (repeated offender).
func refresh(ctx context.Context, l arLog, act Action, t Target, expires time.Time) {
	r, ok := act.(Refresher)
	if !ok || expires.IsZero() {
		return
	}
	if err := r.Refresh(ctx, t, expires); err != nil {
		l.line(err.Error())
	}
}

// targetMessage is the log line for a target that cannot be used, in
// Wazuh's words where it has some.
func targetMessage(err error) string {
	switch {
	case errors.Is(err, errNoSrcIP):
		return "Cannot read 'srcip' from data"
	case errors.Is(err, errNoDstUser):
		return "Cannot read 'dstuser' from data"
	case errors.Is(err, ErrRefused):
		return "Invalid username"
	}
	return "Unable to run active response (" + err.Error() + ")"
}
