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
	"slices"
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
		peaks  phasePeaks
		opened time.Time
		st     *timedStore
		runner *timedRunner
	)
	m := &Main{Root: root, AgentID: "000", Ready: ready}
	m.hooks = testHooks{
		handler: h, node: "node01", bootID: boot,
		wrapStore: func(s engine.Store) engine.Store {
			opened = time.Now()
			peaks.phase("open")
			st = &timedStore{Store: s, peaks: &peaks}
			return st
		},
		wrapRunner: func(r engine.Runner) engine.Runner {
			runner = &timedRunner{Runner: r.(*platform.Runner), checked: make(chan struct{})}
			return runner
		},
	}
	peaks.phase("runtime") // the test binary's own, before the daemon starts
	start := time.Now()
	if err := m.Open(); err != nil {
		return rebootTimes{}, err
	}
	defer m.Close()
	created := time.Now()
	peaks.phase("new")
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
	peaks.phase("reassert")
	select { // resident memory as the daemon runs on: start-up's returned
	case <-h.settled:
	case err := <-done:
		cancel()
		return rebootTimes{}, fmt.Errorf("daemon ended before settling: %v", err)
	}
	peaks.phase("settle")
	rss := procStatusKB("VmRSS") * 1024 / rebootEntries
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	select { // the engine's first drift check, which lists every block in the kernel
	case <-runner.checked:
	case err := <-done:
		cancel()
		return rebootTimes{}, fmt.Errorf("daemon ended before its first drift check: %v", err)
	}
	peaks.phase("drift")
	hwm := peaks.max() * 1024 / rebootEntries
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
		Peaks: peaks.perEntry(rebootEntries),
	}, nil
}

// timedRunner times the batch re-assert and checks that it left nothing
// to run one by one. It tells when the engine's first drift check is
// done: part of every start, it sets the peak too.
type timedRunner struct {
	*platform.Runner
	took    time.Duration
	checked chan struct{}
	once    sync.Once
}

func (r *timedRunner) Missing(ctx context.Context, entries []*engine.Entry) ([]*engine.Entry, error) {
	missing, err := r.Runner.Missing(ctx, entries)
	r.once.Do(func() { close(r.checked) })
	return missing, err
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

// timedStore times Load and takes its peak apart from the rest of start-up.
type timedStore struct {
	engine.Store
	load  time.Duration
	peaks *phasePeaks
}

func (s *timedStore) Load() (*engine.State, error) {
	s.peaks.phase("pre-load")
	start := time.Now()
	st, err := s.Store.Load()
	s.load = time.Since(start)
	s.peaks.phase("load")
	return st, err
}

// phasePeaks is the peak resident memory (VmHWM) of each phase of the
// start: phase reads the peak since the last call and resets it
// (/proc/self/clear_refs, 5), so that the benchmark tells which phase
// sets the process's peak.
type phasePeaks struct {
	names []string
	kb    []float64
}

func (p *phasePeaks) phase(name string) {
	p.names = append(p.names, name)
	p.kb = append(p.kb, procStatusKB("VmHWM"))
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // a kernel without it: peaks add up
}

// max is the whole start's peak, in kB.
func (p *phasePeaks) max() float64 { return slices.Max(append(p.kb, 0)) }

// perEntry is each phase's peak in bytes per entry of n.
func (p *phasePeaks) perEntry(n int) map[string]float64 {
	out := make(map[string]float64, len(p.names))
	for i, name := range p.names {
		out[name] = p.kb[i] * 1024 / float64(n)
	}
	return out
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
