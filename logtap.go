package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// lastError keeps the last error the daemon logged, for status.
type lastError struct {
	mu   sync.Mutex
	at   time.Time
	text string
}

func (l *lastError) get() (time.Time, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.at, l.text
}

// errorTap is a slog.Handler that passes every record on and keeps the
// last one at level error.
type errorTap struct {
	slog.Handler
	last  *lastError
	attrs []slog.Attr
}

func (h *errorTap) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		text := recordLine(r, h.attrs)
		h.last.mu.Lock()
		h.last.at, h.last.text = r.Time, text
		h.last.mu.Unlock()
	}
	return h.Handler.Handle(ctx, r)
}

func (h *errorTap) WithAttrs(as []slog.Attr) slog.Handler {
	return &errorTap{Handler: h.Handler.WithAttrs(as), last: h.last, attrs: append(slices.Clone(h.attrs), as...)}
}

func (h *errorTap) WithGroup(name string) slog.Handler {
	return &errorTap{Handler: h.Handler.WithGroup(name), last: h.last, attrs: h.attrs}
}

// recordLine is r as one line: its message, then the handler's attrs and
// its own as key=value.
func recordLine(r slog.Record, attrs []slog.Attr) string {
	var b strings.Builder
	b.WriteString(r.Message)
	for _, a := range attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	return b.String()
}
