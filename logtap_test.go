package main

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
)

// The error tap keeps the last error, as one line with the logger's and
// the record's attributes; lower levels pass by.
func TestErrorTap_KeepsTheLastError(t *testing.T) {
	errs := &lastError{}
	log := slog.New(&errorTap{Handler: slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}), last: errs}).With("component", "engine")
	log.Error("store write failed", "err", "disk full")
	log.Warn("a warning")
	log.Info("an info")
	if _, text := errs.get(); text != "store write failed component=engine err=disk full" {
		t.Errorf("last error %q", text)
	}
}

type fakeEventLog struct{ got []string }

func (f *fakeEventLog) Info(v ...any) error {
	f.got = append(f.got, "info "+fmt.Sprint(v...))
	return nil
}
func (f *fakeEventLog) Warning(v ...any) error {
	f.got = append(f.got, "warning "+fmt.Sprint(v...))
	return nil
}
func (f *fakeEventLog) Error(v ...any) error {
	f.got = append(f.got, "error "+fmt.Sprint(v...))
	return nil
}

// The Event Log gets info and above, each at its own level, as one line.
func TestEventLogHandler_Levels(t *testing.T) {
	el := &fakeEventLog{}
	log := slog.New(&eventLogHandler{Handler: slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}), el: el}).With("root", "/var/ossec")
	log.Debug("not sent")
	log.Info("ready", "alerts", 1)
	log.Warn("skipped", "reason", "own_address")
	log.Error("failed", "err", "x")
	want := []string{"info ready root=/var/ossec alerts=1", "warning skipped root=/var/ossec reason=own_address",
		"error failed root=/var/ossec err=x"}
	if !slices.Equal(el.got, want) {
		t.Errorf("event log:\n got %q\nwant %q", el.got, want)
	}
}
