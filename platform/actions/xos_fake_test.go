package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/internal/golden"
)

// This file holds the test kit of the non-Linux actions ("xos"): a fake OS
// whose tools are small models of their state, a transcript of what an
// action ran, and golden files under testdata/ rewritten with -update.

// xosTool answers one command of a fake tool: args after the tool's name,
// and stdin. A non-nil error stands for a non-zero exit.
type xosTool func(args []string, stdin string) (string, error)

// errXOSExit1 is a tool's non-zero exit.
var errXOSExit1 = errors.New("exit status 1")

// xosFake is a fake OS: an Execer and StdinExecer that records every command
// line (and stdin, as "< " lines) and answers with the named tool's model.
// A tool it does not know is missing, as OSExec reports it. The models of
// the tools are in xos_bsdmodels_test.go, xos_winmodels_test.go and
// xos_linuxmodels_test.go.
type xosFake struct {
	mu    sync.Mutex
	tools map[string]xosTool
	cmds  []string
}

var _ StdinExecer = (*xosFake)(nil)

func newXOSFake() *xosFake { return &xosFake{tools: map[string]xosTool{}} }

func (f *xosFake) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return f.RunInput(ctx, nil, name, args...)
}

func (f *xosFake) RunInput(_ context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	line := strings.Join(append([]string{name}, args...), " ")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = append(f.cmds, "$ "+line)
	for l := range strings.Lines(string(stdin)) {
		f.cmds = append(f.cmds, "< "+strings.TrimSuffix(l, "\n"))
	}
	tool := f.tools[name]
	if tool == nil {
		return nil, fmt.Errorf("%s: %w", line, xosMissing(name))
	}
	out, err := tool(args, string(stdin))
	if err != nil {
		return []byte(out), fmt.Errorf("%s: %w: %s", line, err, strings.TrimSpace(out))
	}
	return []byte(out), nil
}

// xosMissing is what os/exec reports for a tool that is not there: not
// found in PATH for a bare name, no such file for a path.
func xosMissing(name string) error {
	if strings.ContainsAny(name, `/\`) {
		return &fs.PathError{Op: "fork/exec", Path: name, Err: syscall.ENOENT}
	}
	return &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// take returns the command lines recorded since the last take.
func (f *xosFake) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cmds
	f.cmds = nil
	return c
}

// xosLogger returns a logger writing text lines without time to buf.
func xosLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// xosStep is one call of a scenario: "add" or "delete" of an address.
type xosStep struct{ op, addr string }

// xosSteps is the standard scenario: each family added twice, then deleted
// twice, so the transcript shows that the second call of each changes
// nothing.
var xosSteps = []xosStep{
	{"add", "203.0.113.5"}, {"add", "203.0.113.5"},
	{"add", "2001:db8::1"}, {"add", "2001:db8::1"},
	{"delete", "203.0.113.5"}, {"delete", "203.0.113.5"},
	{"delete", "2001:db8::1"}, {"delete", "2001:db8::1"},
}

// xosRun runs steps on a and returns the transcript: per step the commands
// run, the log lines, the result and the fake's state after it.
func xosRun(t *testing.T, a Action, f *xosFake, logBuf *bytes.Buffer, state func() string, steps []xosStep) string {
	t.Helper()
	var b strings.Builder
	for _, s := range steps {
		f.take()
		logBuf.Reset()
		tgt := Target{Addr: netip.MustParseAddr(s.addr)}
		var err error
		if s.op == "add" {
			err = a.Add(context.Background(), tgt, time.Time{})
		} else {
			err = a.Delete(context.Background(), tgt)
		}
		fmt.Fprintf(&b, "== %s %s %s\n", a.Name(), s.op, s.addr)
		for _, c := range f.take() {
			b.WriteString(c + "\n")
		}
		for l := range strings.Lines(logBuf.String()) {
			b.WriteString("log: " + l)
		}
		if err != nil {
			fmt.Fprintf(&b, "-> error: %v\n", err)
		} else {
			b.WriteString("-> ok\n")
		}
		b.WriteString("state: " + state() + "\n\n")
	}
	return b.String()
}

// xosGolden compares got with testdata/NAME.golden, or rewrites the file
// under -update.
func xosGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), []byte(got))
}
