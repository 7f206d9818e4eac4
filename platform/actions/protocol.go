package actions

import (
	"bytes"
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

// linesLogger is an ARLogger that writes many lines at once, each the
// concatenation of its pieces, in few writes of whole lines.
type linesLogger interface {
	Lines(executable string, lines [][][]byte)
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

// lines writes lines, each the concatenation of its pieces, in few writes
// where the logger can.
func (l arLog) lines(lines [][][]byte) {
	if ll, ok := l.log.(linesLogger); ok {
		ll.Lines(l.prog, lines)
		return
	}
	for _, pieces := range lines {
		l.line(string(bytes.Join(pieces, nil)))
	}
}

// targetFunc returns the engine's target for a parsed message, and, when the
// message's address was refused as the host's own (stand-alone runs, which
// check it themselves), that address for the log line.
type targetFunc func(p *params) (t engine.Target, ownAddr string)

// serve runs one message line the way a Wazuh 4.x program does after logging
// "Starting": log the message, check the target, handshake on add, act, and
// log "Aborted" or "Ended". Targets are checked before the handshake, so a
// refused value is never sent on as a key. Failures before acting wrap
// errInvalidRun (exit status 255, as Wazuh's programs exit OS_INVALID).
func serve(ctx context.Context, name string, line []byte, l arLog, target targetFunc, resolve resolveFunc, ask askFunc) error {
	l.line(string(line))
	req, p, err := parseRequest(line)
	if err != nil {
		l.line("Invalid input format")
		return invalidRun(err)
	}
	op := engine.Op(req.Command)
	if op != engine.OpAdd && op != engine.OpDelete {
		l.line("Invalid value of 'command'")
		return invalidRun(fmt.Errorf("%s: invalid command %q", name, req.Command))
	}
	act, err := resolve(p.ExtraArgs) // our extra_args: a wrong one is said first
	if err != nil {
		l.line(err.Error())
		return invalidRun(err)
	}
	kind := KindOf(name)
	et, ownAddr := target(p)
	t, keys, err := targetOf(kind, et)
	if err != nil {
		l.line(targetMessage(name, kind, ownAddr))
		return invalidRun(fmt.Errorf("%s: %w", name, err))
	}
	var expires time.Time
	if op == engine.OpAdd && kind != KeyNone {
		d, err := handshake(l, name, keys, ask)
		if err != nil {
			return invalidRun(err)
		}
		if d.Verdict == engine.Abort {
			refresh(ctx, l, act, t, d.Expires)
			l.line("Aborted")
			return nil
		}
		expires = d.Expires
	}
	err = apply(ctx, act, op, t, expires, p.Alert)
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

// apply performs op on t, or on the message's alert for an action that
// acts on the alert itself (the notifications).
func apply(ctx context.Context, act Action, op engine.Op, t Target, expires time.Time, alert []byte) error {
	if n, ok := act.(AlertAction); ok {
		return n.Notify(ctx, op, alert)
	}
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

// targetMessage is the log line for a target the built-in name (of the
// given kind) cannot use: the line Wazuh 4.14.7's program of that name
// writes, whether the field is missing or refused; for the host's own
// address ownAddr, which Wazuh's programs would block, our own line.
func targetMessage(name string, kind KeyKind, ownAddr string) string {
	switch {
	case kind == KeyUser:
		return "Cannot read 'dstuser' from data or invalid username format"
	case ownAddr != "":
		return "Refusing to block " + ownAddr + ": it is this host's own address or not a single remote host"
	}
	switch strings.TrimSuffix(strings.ToLower(name), ".exe") {
	case "firewall-drop", "firewalld-drop", "host-deny", "ip-customblock":
		return "Cannot read 'srcip' from data or invalid IP format"
	}
	return "Cannot read 'srcip' from data" // route-null, pf, ipfw, npf, netsh
}

// errInvalidRun marks a run that failed before acting: an unreadable or
// invalid message, a target that cannot be used, a failed handshake. Wazuh's
// programs exit OS_INVALID (-1, status 255) then; see ExitStatus.
var errInvalidRun = errors.New("invalid run")

// invalidRunError is err marked with errInvalidRun; its text is err's.
type invalidRunError struct{ err error }

func (e invalidRunError) Error() string   { return e.err.Error() }
func (e invalidRunError) Unwrap() []error { return []error{e.err, errInvalidRun} }

func invalidRun(err error) error { return invalidRunError{err} }

// ExitStatus is the exit status of a stand-alone run that returned err, the
// one Wazuh 4.14.7's program of the same name exits with: 0 when it ran
// (an abort included), 255 when it stopped before acting (errInvalidRun).
// An action that failed gives 1, where Wazuh's programs, which do not check
// the tools they start, mostly exit 0.
func ExitStatus(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errInvalidRun):
		return 255
	}
	return 1
}
