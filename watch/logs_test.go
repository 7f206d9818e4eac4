package watch

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// logs is a slog handler that keeps messages, so that tests can wait for the
// tailer to reach a state ("first start: ...") or check what it reported.
type logs struct {
	mu   *sync.Mutex
	msgs *[]string
	out  slog.Handler
}

func newLogs(t *testing.T) (*slog.Logger, logs) {
	l := logs{mu: new(sync.Mutex), msgs: new([]string),
		out: slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})}
	return slog.New(l), l
}

func (l logs) Enabled(context.Context, slog.Level) bool { return true }

func (l logs) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	*l.msgs = append(*l.msgs, r.Message)
	l.mu.Unlock()
	return l.out.Handle(ctx, r)
}

func (l logs) WithAttrs(as []slog.Attr) slog.Handler {
	return logs{mu: l.mu, msgs: l.msgs, out: l.out.WithAttrs(as)}
}

func (l logs) WithGroup(name string) slog.Handler {
	return logs{mu: l.mu, msgs: l.msgs, out: l.out.WithGroup(name)}
}

// count returns how many messages contain s.
func (l logs) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range *l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// wait waits until a message containing s was logged.
func (l logs) wait(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.count(s) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no log message %q", s)
		}
		time.Sleep(time.Millisecond)
	}
}
