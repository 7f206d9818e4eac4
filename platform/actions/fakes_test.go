package actions

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// recAction is a fake Action that records its calls as text.
type recAction struct {
	name  string
	mu    sync.Mutex
	calls []string
	err   error
}

func (a *recAction) Name() string { return a.name }

func (a *recAction) Add(_ context.Context, t Target, expires time.Time) error {
	return a.rec(fmt.Sprintf("add %s exp=%s", targetText(t), expText(expires)))
}

func (a *recAction) Delete(_ context.Context, t Target) error {
	return a.rec("delete " + targetText(t))
}

func (a *recAction) Refresh(_ context.Context, t Target, expires time.Time) error {
	return a.rec(fmt.Sprintf("refresh %s exp=%s", targetText(t), expText(expires)))
}

func (a *recAction) AddMany(_ context.Context, blocks []Block) error {
	var parts []string
	for _, b := range blocks {
		parts = append(parts, targetText(b.Target)+"@"+expText(b.Expires))
	}
	return a.rec("addmany " + strings.Join(parts, ","))
}

func (a *recAction) DeleteMany(_ context.Context, targets []Target) error {
	return a.rec(fmt.Sprintf("deletemany %d", len(targets)))
}

func (a *recAction) rec(s string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, s)
	return a.err
}

func (a *recAction) got() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.calls...)
}

func targetText(t Target) string {
	if t.User != "" {
		return "user:" + t.User
	}
	if t.Addr.IsValid() {
		return t.Addr.String()
	}
	return "-"
}

func expText(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return t.UTC().Format("15:04:05")
}

// lineLog is an ARLogger keeping its lines as "executable: msg".
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) Line(executable, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, executable+": "+msg)
}

func (l *lineLog) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// fakeRunner returns a Runner whose built-ins are recActions made on demand,
// one per name, for the names in names.
func fakeRunner(log ARLogger, names ...string) (*Runner, map[string]*recAction) {
	acts := make(map[string]*recAction)
	for _, n := range names {
		acts[n] = &recAction{name: n}
	}
	r := NewRunner(Config{}, log)
	r.newAction = func(name string, _ Config) (Action, bool) {
		a, ok := acts[name]
		return a, ok
	}
	return r, acts
}

// execdMessage builds the message execd sends for op with alert.
func execdMessage(op engine.Op, exe, alert string, extra ...string) []byte {
	return engine.BuildMessage("node01", op, execdParams(exe, alert, extra...))
}

// execdParams is the "parameters" object of execdMessage.
func execdParams(exe, alert string, extra ...string) []byte {
	return fmt.Appendf(nil, `{"extra_args":[%s],"alert":%s,"program":"active-response/bin/%s"}`,
		quoteAll(extra), alert, exe)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ",")
}
