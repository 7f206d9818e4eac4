package engine

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// repairRunner is a worldRunner whose firewall-drop blocks can be checked
// against the world's kernel and which reports changes made by others.
type repairRunner struct {
	*worldRunner
	changes chan string
	checks  int
}

func (r *repairRunner) Changes() <-chan string { return r.changes }

func (r *repairRunner) Missing(_ context.Context, entries []*Entry) ([]*Entry, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.checks++
	var missing []*Entry
	for _, en := range entries {
		if en.Command.Executable == "firewall-drop" && !r.w.kernel[en.Key] {
			missing = append(missing, en)
		}
	}
	return missing, nil
}

// flush removes blocks from the kernel as another process would.
func (w *world) flush(keys ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range keys {
		delete(w.kernel, k)
	}
}

// startRepairing runs an engine with firewall-drop (an hour's timeout) on
// a world whose runner can be checked for drift; it stops at the test's end.
func startRepairing(t *testing.T) (*world, *repairRunner, *Engine, context.Context) {
	w := newWorld(0)
	r := &repairRunner{worldRunner: &worldRunner{w: w, kernel: true}, changes: make(chan string, 1)}
	e, ctx := runFirewallDrop(t, worldStore{w, 0}, r)
	return w, r, e, ctx
}

// runFirewallDrop runs an engine on st and r with firewall-drop for rule
// 5712 (an hour's timeout); it stops at the test's end.
func runFirewallDrop(t *testing.T, st Store, r Runner) (*Engine, context.Context) {
	e, err := New(Options{Store: st, Runner: r, Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	fw := &Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
	e.SetConfig(&Config{Commands: []*Command{fw}, Responses: []*Response{{Command: fw, RulesID: []string{"5712"}, Timeout: time.Hour}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, ctx
}

func TestRepair_PutsBackWhatOthersRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, r, e, ctx := startRepairing(t)
		for _, rec := range stormRecords(6) { // three addresses, twice each
			if err := e.Handle(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		all := []string{"firewall-drop-198.18.0.1", "firewall-drop-198.18.0.2", "firewall-drop-198.18.0.3"}

		w.flush(all[0], all[2])
		r.changes <- "nft[4242]"
		time.Sleep(repairDebounce + time.Millisecond)
		synctest.Wait()
		for _, k := range all {
			if !w.kernel[k] {
				t.Errorf("%s not put back", k)
			}
		}
		if n := e.Stats().Repaired.Load(); n != 2 {
			t.Errorf("repaired %d, want 2", n)
		}

		// Without a report from the OS, the periodic check finds it.
		w.flush(all[1])
		time.Sleep(repairEvery)
		synctest.Wait()
		if !w.kernel[all[1]] {
			t.Errorf("%s not put back by the periodic check", all[1])
		}
	})
}

// TestRepair_BacksOffAFlusher: a tool that flushes after every repair gets
// repairs at a doubling interval, not a spin.
func TestRepair_BacksOffAFlusher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, r, e, ctx := startRepairing(t)
		if err := e.Handle(ctx, stormRecords(1)[0]); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		start := e.Stats().Repaired.Load()
		for range 120 { // flush and report every half second for a minute
			w.flush("firewall-drop-198.18.0.1")
			select {
			case r.changes <- "flusher[7]":
			default:
			}
			time.Sleep(500 * time.Millisecond)
		}
		synctest.Wait()
		// Backoff 1, 2, 4, 8, 16, 32 s: about 7 repairs in a minute, not 120.
		if n := e.Stats().Repaired.Load() - start; n < 4 || n > 10 {
			t.Errorf("%d repairs in a minute of flushing, want a backed-off handful", n)
		}
	})
}

// putCounter is a Store that counts the entries written.
type putCounter struct {
	worldStore
	puts int
}

func (s *putCounter) Apply(c Change) error {
	s.puts += len(c.Put)
	return s.worldStore.Apply(c)
}

// TestGroup_RepeatsCoalesce: repeats of one key in a group are decided one
// by one (each an offence, each logged as its own run) but written once,
// with the first add's alert kept for the delete.
func TestGroup_RepeatsCoalesce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(0)
		st := &putCounter{worldStore: worldStore{w, 0}}
		e, err := New(Options{Store: st, Runner: &worldRunner{w: w, kernel: true}, Node: "test"})
		if err != nil {
			t.Fatal(err)
		}
		fw := &Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
		e.SetConfig(&Config{Commands: []*Command{fw}, Responses: []*Response{{Command: fw, RulesID: []string{"5712"}, Timeout: time.Hour}}})
		ctx, cancel := context.WithCancel(context.Background())
		recs := stormRecords(2)
		for i := range 50 { // queued before Run: one group
			r := recs[0]
			r.Pos.Offset = int64(i + 1)
			if err := e.Handle(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		synctest.Wait()
		cancel()
		<-done
		if st.puts != 1 {
			t.Errorf("%d entries written for one key decided 50 times in one group, want 1", st.puts)
		}
		if n := w.store.offences("firewall-drop-198.18.0.1"); n != 50 {
			t.Errorf("offences = %d, want 50", n)
		}
		if p, _ := w.store.Params("firewall-drop-198.18.0.1"); len(p) == 0 {
			t.Error("the first add's alert was not kept")
		}
	})
}

// preparingRunner is a repairRunner that records what it is asked to
// prepare, and fails while fail is set.
type preparingRunner struct {
	*repairRunner
	mu       sync.Mutex
	prepared [][]string // executables of each call
	fail     error
}

func (r *preparingRunner) Prepare(_ context.Context, cmds []Command) error {
	var exes []string
	for _, c := range cmds {
		exes = append(exes, c.Executable)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prepared = append(r.prepared, exes)
	return r.fail
}

// calls returns the executables of each call so far.
func (r *preparingRunner) calls() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.prepared)
}

// TestRepair_PreparesConfiguredCommands: at start, and at each check
// after, the runner is asked to prepare the command of every enabled
// response once, before any alert, so that the first block costs what the
// others do.
func TestRepair_PreparesConfiguredCommands(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(0)
		r := &preparingRunner{repairRunner: &repairRunner{worldRunner: &worldRunner{w: w, kernel: true}, changes: make(chan string, 1)}}
		r.fail = errors.New("no nf_tables")
		e, err := New(Options{Store: worldStore{w, 0}, Runner: r, Node: "test"})
		if err != nil {
			t.Fatal(err)
		}
		fw := &Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
		hd := &Command{Name: "host-deny", Executable: "host-deny", TimeoutAllowed: true}
		off := &Command{Name: "route-null", Executable: "route-null", TimeoutAllowed: true}
		e.SetConfig(&Config{Commands: []*Command{fw, hd, off}, Responses: []*Response{
			{Command: fw, RulesID: []string{"5712"}, Timeout: time.Hour},
			{Command: hd, Level: 10},
			{Command: fw, Level: 12, Timeout: time.Hour}, // the same command again
			{Command: off, Level: 3, Disabled: true},
		}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		synctest.Wait()
		want := []string{"firewall-drop", "host-deny"}
		if got := r.calls(); len(got) != 1 || !slices.Equal(got[0], want) {
			t.Fatalf("prepared at start %v, want once %v", got, want)
		}

		// It failed: the next check tries again.
		time.Sleep(repairEvery)
		synctest.Wait()
		if got := r.calls(); len(got) != 2 || !slices.Equal(got[1], want) {
			t.Fatalf("after a failed prepare and a check: prepared %v, want %v twice", got, want)
		}

		// A reload that turns active response off prepares nothing more.
		e.SetConfig(&Config{Disabled: true, Commands: []*Command{fw}, Responses: []*Response{{Command: fw, Level: 3}}})
		time.Sleep(repairEvery)
		synctest.Wait()
		if got := r.calls(); len(got) != 2 {
			t.Errorf("prepared %v with active response disabled", got[2:])
		}
		cancel()
		<-done
	})
}
