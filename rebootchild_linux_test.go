//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform"
)

// TestRebootChild is BenchmarkReboot100k's measured part, in a process of
// its own inside the benchmark's network namespace; on its own it skips.
// It starts the daemon's pieces on the install root named by rebootEnv with
// a new boot id, times them, and writes the times to rebootResult there.
func TestRebootChild(t *testing.T) {
	root := os.Getenv(rebootEnv)
	if root == "" {
		t.Skip("helper process of BenchmarkReboot100k")
	}
	times, err := rebootOnce(root)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(times)
	if err := os.WriteFile(filepath.Join(root, rebootResult), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", times)
}

// rebootOnce is the daemon's start after a reboot (a new boot id), through
// the daemon's own Open and Run, up to the engine's "re-applied"; or, with
// the boot id of rebootBootEnv, after a restart, up to ready.
func rebootOnce(root string) (rebootTimes, error) {
	h := &loadedHandler{loaded: make(chan struct{}), settled: make(chan struct{})}
	boot := os.Getenv(rebootBootEnv)
	restart := boot != ""
	if !restart {
		boot = fmt.Sprintf("boot-%d", time.Now().UnixNano())
	}
	ready := make(chan struct{})
	var (
		opened time.Time
		st     *timedStore
		runner *timedRunner
	)
	m := &Main{Root: root, AgentID: "000", Ready: ready}
	m.hooks = testHooks{
		handler: h, node: "node01", bootID: boot,
		wrapStore: func(s engine.Store) engine.Store {
			opened = time.Now()
			st = &timedStore{Store: s}
			return st
		},
		wrapRunner: func(r engine.Runner) engine.Runner {
			runner = &timedRunner{Runner: r.(*platform.Runner)}
			return runner
		},
	}
	start := time.Now()
	if err := m.Open(); err != nil {
		return rebootTimes{}, err
	}
	defer m.Close()
	created := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	loaded := h.loaded // a reboot: everything re-applied
	if restart {
		loaded = ready // a restart: nothing to re-apply, ready to tail
	}
	select {
	case <-loaded:
	case err := <-done:
		cancel()
		return rebootTimes{}, fmt.Errorf("daemon ended before re-applying: %v", err)
	}
	reconciled := time.Now()
	select { // resident memory as the daemon runs on: start-up's returned
	case <-h.settled:
	case err := <-done:
		cancel()
		return rebootTimes{}, fmt.Errorf("daemon ended before settling: %v", err)
	}
	rss, hwm := procStatusKB("VmRSS")*1024/rebootEntries, procStatusKB("VmHWM")*1024/rebootEntries
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cancel()
	if err := <-done; err != nil {
		return rebootTimes{}, err
	}
	if err := h.failure(); err != nil {
		return rebootTimes{}, err
	}
	return rebootTimes{
		Open: opened.Sub(start).Seconds(), Load: st.load.Seconds(), New: created.Sub(opened).Seconds(),
		Reassert: runner.took.Seconds(), Reconcile: reconciled.Sub(created).Seconds(),
		Total: reconciled.Sub(start).Seconds(),
		RSS:   rss, HWM: hwm, Heap: float64(ms.HeapInuse) / rebootEntries,
	}, nil
}

// timedRunner times the batch re-assert and checks that it left nothing
// to run one by one.
type timedRunner struct {
	*platform.Runner
	took time.Duration
}

func (r *timedRunner) Reassert(ctx context.Context, entries []engine.Entry) ([]engine.Entry, error) {
	start := time.Now()
	rest, err := r.Runner.Reassert(ctx, entries)
	r.took = time.Since(start)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%d of %d entries not re-asserted in the batch", len(rest), len(entries))
	}
	return rest, err
}

// timedStore times Load.
type timedStore struct {
	engine.Store
	load time.Duration
}

func (s *timedStore) Load() (*engine.State, error) {
	start := time.Now()
	st, err := s.Store.Load()
	s.load = time.Since(start)
	return st, err
}

// loadedHandler is a slog.Handler that signals the engine's "re-applied after reboot"
// and keeps warnings and errors (a failed re-assert is logged, not returned).
type loadedHandler struct {
	loaded      chan struct{}
	once        sync.Once
	settled     chan struct{} // the daemon returned start-up's memory
	settledOnce sync.Once
	mu          sync.Mutex
	bad         []string
}

func (h *loadedHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *loadedHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *loadedHandler) WithGroup(string) slog.Handler            { return h }

func (h *loadedHandler) Handle(_ context.Context, r slog.Record) error {
	switch r.Message {
	case "re-applied":
		h.once.Do(func() { close(h.loaded) })
	case "start-up done: memory returned to the OS":
		h.settledOnce.Do(func() { close(h.settled) })
	}
	if r.Level >= slog.LevelWarn {
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
		h.mu.Lock()
		h.bad = append(h.bad, b.String())
		h.mu.Unlock()
	}
	return nil
}

func (h *loadedHandler) failure() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bad) > 0 {
		return fmt.Errorf("logged: %s", strings.Join(h.bad, "; "))
	}
	return nil
}

// procStatusKB reads one "kB" field of /proc/self/status (0 if missing).
func procStatusKB(field string) float64 {
	raw, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
			return kb
		}
	}
	return 0
}
