package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
)

// eventLogger is the part of the service library's Logger the daemon uses:
// on Windows, the Event Log.
type eventLogger interface {
	Info(v ...any) error
	Warning(v ...any) error
	Error(v ...any) error
}

// serveWindows runs the daemon under the Service Control Manager: its log
// goes to ROOT\logs\threatlockdown.log and, from info up, to the Event Log.
func (m *Main) serveWindows(args []string) error {
	path := filepath.Join(m.Root, "logs", "threatlockdown.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	m.Stderr = f
	return runUnderManager(m, args)
}

// eventLogHandler passes each record on, and sends those of level info and
// above to the Event Log as one line.
type eventLogHandler struct {
	slog.Handler
	el    eventLogger
	attrs []slog.Attr
}

func (h *eventLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		line := recordLine(r, h.attrs)
		switch {
		case r.Level >= slog.LevelError:
			h.el.Error(line)
		case r.Level >= slog.LevelWarn:
			h.el.Warning(line)
		default:
			h.el.Info(line)
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *eventLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &eventLogHandler{Handler: h.Handler.WithAttrs(as), el: h.el, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *eventLogHandler) WithGroup(name string) slog.Handler {
	return &eventLogHandler{Handler: h.Handler.WithGroup(name), el: h.el, attrs: h.attrs}
}
