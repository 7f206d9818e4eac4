package main

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/store"
)

// startInProcess runs the whole daemon in this process, as `threatlockdown
// run --root ROOT ARGS...` would (Open, Run, Close), and waits until it is
// ready; the race detector sees all of it. The daemon stops at the end of
// the test, or at d.stop.
func startInProcess(t testing.TB, root string, args ...string) *daemon {
	t.Helper()
	return startInProcessWith(t, root, nil, args...)
}

// startInProcessWith is startInProcess with hooks set on the daemon's Main
// before it opens (nil: none).
func startInProcessWith(t testing.TB, root string, hooks func(*testHooks), args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, root: root, ready: make(chan struct{}), limitSet: make(chan struct{}, 1)}
	m, err := ParseFlags(append([]string{"--root", root, "--log-level", "debug"}, args...), logWriter{d})
	if err != nil {
		t.Fatal(err)
	}
	if hooks != nil {
		hooks(&m.hooks)
	}
	m.Ready = d.ready
	m.hooks.setMemoryLimit = d.setMemoryLimit
	m.hooks.hugeRoom = func(int) (int, error) { return 0, nil }
	if err := m.Open(); err != nil {
		t.Fatalf("open: %v\n%s", err, d.logs())
	}
	d.main = m
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	d.stop = sync.OnceValue(func() error {
		cancel()
		return errors.Join(<-done, m.Close())
	})
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	select {
	case <-d.ready:
	case err := <-done:
		done <- err // for stop
		t.Fatalf("daemon ended before ready: %v\n%s", err, d.logs())
	case <-time.After(10 * time.Second):
		t.Fatalf("daemon not ready:\n%s", d.logs())
	}
	return d
}

// logWriter appends the in-process daemon's log lines to d's.
type logWriter struct{ d *daemon }

func (w logWriter) Write(p []byte) (int, error) {
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	return w.d.stderr.Write(p)
}

// TestMain_OpenFailsCleanly: a root whose ossec.conf is invalid fails in
// Open with the file's lines, and Close after it is harmless.
func TestMain_OpenFailsCleanly(t *testing.T) {
	root := newRoot(t, "<ossec_config><command><name>x</name>")
	m := &Main{Root: root, Stderr: io.Discard}
	err := m.Open()
	if err == nil {
		t.Fatal("Open accepted a broken ossec.conf")
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close after a failed Open: %v", err)
	}
	if err := m.Run(context.Background()); err == nil {
		t.Error("Run after a failed Open did not fail")
	}
}

// TestMain_SecondDaemonFailsFast: a second daemon on the same root fails in
// Open (the store is locked) within about a second, and closes what it
// opened; the first goes on.
func TestMain_SecondDaemonFailsFast(t *testing.T) {
	root := newRoot(t, confWith(60))
	d := startInProcess(t, root)
	m := &Main{Root: root, AgentID: "000", Stderr: io.Discard}
	start := time.Now()
	err := m.Open()
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("second Open took %v", took)
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	d.alert("203.0.113.40", "14.1")
	c := waitCalls(t, d, 1, 5*time.Second)
	wantCall(t, c, 0, "add 203.0.113.40 continue 14.1")
}
