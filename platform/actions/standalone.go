package actions

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/threatlockdown/threatlockdown/engine"
)

// maxMessage bounds what stand-alone mode reads from execd: an alert is
// rarely more than a few kilobytes, and Wazuh's own scripts stop at 64 KiB.
const maxMessage = 16 << 20

// Standalone runs the built-in name as a Wazuh 4.x active-response script
// would, speaking execd's protocol: it reads one message line from stdin; for
// an add it writes a check_keys line on stdout and reads the answer, acting
// only on "continue"; a delete acts at once. It logs to log the lines a
// Wazuh script writes to active-responses.log. The daemon calls it for
// "threatlockdown ar NAME" and when started as NAME (argv[0]), so the binary
// drops into a Wazuh agent's active-response/bin unchanged.
//
// execd's answer carries no revert time, so blocks made this way have no
// kernel-side timeout: execd's delete lifts them.
func Standalone(ctx context.Context, name string, stdin io.Reader, stdout io.Writer, log ARLogger) error {
	r := NewRunner(Config{}, log)
	defer r.Close()
	return r.Standalone(ctx, name, stdin, stdout)
}

// Standalone is the package's Standalone with r's configuration.
func (r *Runner) Standalone(ctx context.Context, name string, stdin io.Reader, stdout io.Writer) error {
	l := newARLog(r.log, name)
	l.line("Starting")
	br := bufio.NewReader(io.LimitReader(stdin, maxMessage))
	line, err := readLine(br)
	if err != nil {
		l.line("Cannot read input from stdin")
		return fmt.Errorf("%s: read message: %w", name, err)
	}
	if !r.Has(name) {
		l.line("Invalid system")
		return fmt.Errorf("%w: %q", ErrUnknownAction, name)
	}
	resolve := func(extra []string) (Action, error) { return r.action(name, extra) }
	ask := func(_ []string, checkLine []byte) ([]byte, engine.Decision, error) {
		return askExecd(l, br, stdout, checkLine)
	}
	return serve(ctx, name, line, l, resolve, ask)
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

// readLine reads one line without its end; a last line without a newline
// counts, like fgets.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if len(bytes.TrimSpace(line)) == 0 {
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
