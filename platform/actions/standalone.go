package actions

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
)

// maxMessage bounds what stand-alone mode reads from execd: an alert is
// rarely more than a few kilobytes, and Wazuh's own scripts stop at 64 KiB.
const maxMessage = 16 << 20

// Standalone runs the built-in name as Wazuh 4.14.7's program of that name
// does, speaking execd's protocol: it reads one message line from stdin; for
// an add it writes a check_keys line on stdout and reads the answer, acting
// only on "continue"; a delete acts at once. It logs to log the lines that
// program writes to active-responses.log, in the same order and words, and
// returns an error whose ExitStatus is the program's exit status. The
// daemon calls it for "threatlockdown ar NAME" and when started as NAME
// (argv[0]), so the binary drops into a Wazuh agent's active-response/bin
// unchanged.
//
// The alert is decoded with the engine's decoder and its target checked by
// the engine's rules (engine.Alert.Target), host (nil: none known) being the
// host's addresses: unlike Wazuh's programs, the host's own address,
// loopback, link-local and multicast are never blocked.
//
// execd's answer carries no revert time, so blocks made this way have no
// kernel-side timeout: execd's delete lifts them.
//
// The actions' own warnings go to active-responses.log too, as Wazuh's
// programs write theirs there; nothing goes to stderr.
func Standalone(ctx context.Context, name string, stdin io.Reader, stdout io.Writer, log ARLogger, host engine.HostAddrs) error {
	r := NewRunner(standaloneConfig(log, name), log)
	defer r.Close()
	return r.Standalone(ctx, name, stdin, stdout, host)
}

// Standalone is the package's Standalone with r's configuration.
func (r *Runner) Standalone(ctx context.Context, name string, stdin io.Reader, stdout io.Writer, host engine.HostAddrs) error {
	l := newARLog(r.log, name)
	l.line("Starting")
	br := bufio.NewReader(io.LimitReader(stdin, maxMessage))
	line, err := readLine(br)
	if err != nil {
		l.line("Cannot read input from stdin")
		return invalidRun(fmt.Errorf("%s: read message: %w", name, err))
	}
	if !r.Has(name) {
		l.line("Invalid system")
		return fmt.Errorf("%w: %q", ErrUnknownAction, name)
	}
	target := func(p *params) (engine.Target, string) { return alertTarget(p.Alert, host) }
	resolve := func(extra []string) (Action, error) { return r.action(name, extra) }
	ask := func(_ []string, checkLine []byte) ([]byte, engine.Decision, error) {
		return askExecd(l, br, stdout, checkLine)
	}
	return serve(ctx, name, line, l, target, resolve, ask)
}

// alertTarget decodes alert, the "alert" of execd's message, with the
// engine's decoder and rules. A field the rules refuse is left out (the run
// then logs Wazuh's line for a missing one), except that the host's own
// address is returned as ownAddr, for a line of its own.
func alertTarget(alert []byte, host engine.HostAddrs) (t engine.Target, ownAddr string) {
	var a engine.Alert
	if err := a.Decode(alert); err != nil {
		return engine.Target{}, "" // not an alert: no target, as in Wazuh's programs
	}
	t, err := a.Target(host)
	if errors.Is(err, engine.ErrOwnAddress) {
		ownAddr = string(a.SrcIP)
	}
	return t, ownAddr
}

// askExecd writes checkLine to execd and reads its verdict.
func askExecd(l arLog, br *bufio.Reader, w io.Writer, checkLine []byte) ([]byte, engine.Decision, error) {
	var d engine.Decision
	if _, err := w.Write(append(checkLine[:len(checkLine):len(checkLine)], '\n')); err != nil {
		return nil, d, fmt.Errorf("write check_keys: %w", err)
	}
	answer, err := readLine(br)
	if err != nil {
		l.line("Cannot read input from stdin")
		return nil, d, fmt.Errorf("read answer: %w", err)
	}
	req, _, err := parseRequest(answer)
	switch {
	case err != nil:
		l.line(string(answer))
		l.line("Invalid input format")
		return nil, d, err
	case req.Command == "continue":
		d.Verdict = engine.Continue
	case req.Command == "abort":
		d.Verdict = engine.Abort
	default:
		l.line(string(answer))
		l.line("Invalid value of 'command'")
		return nil, d, fmt.Errorf("invalid answer %q", req.Command)
	}
	return answer, d, nil
}

// readLine reads one line without its end, as Wazuh's programs read it with
// fgets: only end of input with nothing read fails (io.ErrUnexpectedEOF); a
// last line without a newline counts, and a blank line is a line.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if len(line) == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// standaloneConfig is the configuration of the actions of a stand-alone
// run of name: their warnings become lines of name in log.
func standaloneConfig(log ARLogger, name string) Config {
	return Config{Logger: slog.New(&warnHandler{l: newARLog(log, name)})}
}

// warnHandler is a slog.Handler writing warnings and errors as lines of
// active-responses.log ("msg key=value ..."), and dropping the rest.
type warnHandler struct {
	l     arLog
	attrs []slog.Attr
}

func (h *warnHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn
}

func (h *warnHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		if !a.Equal(slog.Attr{}) {
			fmt.Fprintf(&b, " %s=%s", a.Key, a.Value.Resolve())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	h.l.line(b.String())
	return nil
}

func (h *warnHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &warnHandler{l: h.l, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...)}
}

// WithGroup is not needed by the actions: groups are flattened.
func (h *warnHandler) WithGroup(string) slog.Handler { return h }
