package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// harness runs an Engine inside a synctest bubble, where time is fake and
// advances only when every goroutine is blocked.
type harness struct {
	t      *testing.T
	e      *Engine
	store  *memStore
	runner *fakeRunner
	cancel context.CancelFunc
	done   chan error
	offset int64
}

func testConfig(timeout time.Duration, repeated ...time.Duration) *Config {
	fw := &Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
	return &Config{
		Commands:  []*Command{fw},
		Responses: []*Response{{Command: fw, RulesID: []string{"5712"}, Timeout: timeout, RepeatedOffenders: repeated}},
	}
}

func startEngine(t *testing.T, st *memStore, r *fakeRunner, cfg *Config, boot string) *harness {
	t.Helper()
	return startEngineOpts(t, st, r, cfg, Options{BootID: boot})
}

// startEngineOpts is startEngine with more options; Store, Runner and Node
// are set here.
func startEngineOpts(t *testing.T, st *memStore, r *fakeRunner, cfg *Config, o Options) *harness {
	t.Helper()
	o.Store, o.Runner, o.Node = st, r, "test"
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.SetConfig(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, e: e, store: st, runner: r, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- e.Run(ctx) }()
	synctest.Wait()
	return h
}

// alert feeds one sshd alert for srcip.
func (h *harness) alert(srcip, id string) {
	h.t.Helper()
	line := fmt.Sprintf(`{"rule":{"level":10,"id":"5712","groups":["sshd"]},"id":%q,"data":{"srcip":%q}}`, id, srcip)
	h.offset += int64(len(line)) + 1
	rec := Record{Data: []byte(line), Pos: Position{Source: "alerts.json", FileID: "1:2", Offset: h.offset}}
	if err := h.e.Handle(context.Background(), rec); err != nil {
		h.t.Fatal(err)
	}
	synctest.Wait()
}

func (h *harness) stop() {
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) want(want ...string) {
	h.t.Helper()
	if got := h.runner.seen(); !slices.Equal(got, want) {
		h.t.Errorf("runs:\n got %q\nwant %q", got, want)
	}
}

func TestEngine_AddAbortDelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(10*time.Second), "boot1")
		defer h.stop()
		h.alert("203.0.113.7", "1.1")
		if e := h.store.entries(); len(e) != 1 || e[0].Key != "firewall-drop-203.0.113.7" {
			t.Fatalf("stored entries %+v", e)
		}
		time.Sleep(4 * time.Second)
		h.alert("203.0.113.7", "1.2") // active: abort, timer restarts from now
		time.Sleep(9 * time.Second)
		h.want("add firewall-drop 203.0.113.7 continue 1.1", "add firewall-drop 203.0.113.7 abort 1.2")
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		// The delete carries the first add's alert.
		h.want("add firewall-drop 203.0.113.7 continue 1.1", "add firewall-drop 203.0.113.7 abort 1.2",
			"delete firewall-drop 203.0.113.7  1.1")
		if e := h.store.entries(); len(e) != 0 {
			t.Errorf("entries left after delete: %+v", e)
		}
		if j := h.store.jobs(); len(j) != 0 {
			t.Errorf("jobs left: %+v", j)
		}
	})
}

func TestEngine_RepeatedOffenders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(10*time.Second, time.Minute, 3*time.Minute), "b")
		defer h.stop()
		start := time.Now()
		var mu sync.Mutex
		var deletes []time.Duration
		h.runner.hook = func(inv Invocation) {
			if inv.Op == OpDelete {
				mu.Lock()
				deletes = append(deletes, time.Since(start).Round(time.Second))
				mu.Unlock()
			}
		}
		h.alert("203.0.113.8", "1") // offence 1: 10 s
		time.Sleep(11 * time.Second)
		h.alert("203.0.113.8", "2") // offence 2: 1 min, from 11 s
		time.Sleep(61 * time.Second)
		h.alert("203.0.113.8", "3") // offence 3: 3 min, from 72 s
		time.Sleep(181 * time.Second)
		h.alert("203.0.113.8", "4") // offence 4: the last value repeats
		time.Sleep(181 * time.Second)
		want := []time.Duration{10 * time.Second, 71 * time.Second, 252 * time.Second, 433 * time.Second}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(deletes, want) {
			t.Errorf("deletes at %v, want %v", deletes, want)
		}
	})
}

func TestEngine_StatelessAndZeroTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(0), "b")
		defer h.stop()
		h.alert("203.0.113.9", "1")
		h.alert("203.0.113.9", "2") // timeout 0: always continue, nothing recorded
		time.Sleep(time.Hour)
		h.want("add firewall-drop 203.0.113.9 continue 1", "add firewall-drop 203.0.113.9 continue 2")
		if e := h.store.entries(); len(e) != 0 {
			t.Errorf("timeout 0 recorded %+v", e)
		}

		h.runner.set(func(f *fakeRunner) { f.stateless = true })
		h.e.SetConfig(testConfig(time.Minute))
		h.alert("203.0.113.10", "3") // the script never asks: no entry, no delete
		time.Sleep(time.Hour)
		if e := h.store.entries(); len(e) != 0 {
			t.Errorf("stateless run recorded %+v", e)
		}
		if j := h.store.jobs(); len(j) != 0 {
			t.Errorf("stateless job not settled: %+v", j)
		}
	})
}

func TestEngine_CrashAndRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Minute), "boot1")
		h.alert("203.0.113.20", "1")
		time.Sleep(10 * time.Second)
		h.alert("198.51.100.20", "2")
		h.stop() // blocks stay, reverts stay pending

		// Down for 55 s: the first entry expired meanwhile, the second has 5 s left.
		time.Sleep(55 * time.Second)
		r := &fakeRunner{}
		h = startEngine(t, st, r, testConfig(time.Minute), "boot1")
		defer h.stop()
		h.want("delete firewall-drop 203.0.113.20  1")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		h.want("delete firewall-drop 203.0.113.20  1", "delete firewall-drop 198.51.100.20  2")
		if p := h.e.Position("alerts.json"); p.Offset == 0 || p.FileID != "1:2" {
			t.Errorf("position not restored: %+v", p)
		}
	})
}

func TestEngine_RebootReappliesBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Minute), "boot1")
		h.alert("203.0.113.30", "1")
		h.stop()
		r := &fakeRunner{}
		h = startEngine(t, st, r, testConfig(time.Minute), "boot2")
		defer h.stop()
		h.want("add firewall-drop 203.0.113.30 continue 1")
		time.Sleep(time.Minute)
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.30 continue 1", "delete firewall-drop 203.0.113.30  1")
	})
}

func TestEngine_DeleteKeepsItsCommandAcrossReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(time.Minute), "b")
		defer h.stop()
		h.alert("203.0.113.40", "1")
		other := &Command{Name: "host-deny", Executable: "host-deny", TimeoutAllowed: true}
		h.e.SetConfig(&Config{Commands: []*Command{other}, Responses: []*Response{{Command: other, Level: 1, Timeout: time.Hour}}})
		time.Sleep(time.Minute)
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.40 continue 1", "delete firewall-drop 203.0.113.40  1")
	})
}

func TestEngine_DeleteRetriedWhenNotStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(time.Second), "b")
		defer h.stop()
		h.alert("203.0.113.50", "1")
		h.runner.set(func(f *fakeRunner) { f.notFound = true }) // the script vanished
		time.Sleep(2 * time.Second)
		if e := h.store.entries(); len(e) != 1 {
			t.Fatalf("entry forgotten although its delete never ran: %+v", e)
		}
		h.runner.set(func(f *fakeRunner) { f.notFound = false })
		time.Sleep(retryNotStarted)
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.50 continue 1", "delete firewall-drop 203.0.113.50  1")
		if e := h.store.entries(); len(e) != 0 {
			t.Errorf("entries left: %+v", e)
		}
	})
}

func TestEngine_StoreFailureAborts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Minute), "b")
		defer h.stop()
		// The job commits; then the entry write fails.
		h.runner.hook = func(inv Invocation) {
			st.mu.Lock()
			st.fail = fmt.Errorf("disk full")
			st.mu.Unlock()
		}
		h.alert("203.0.113.60", "1")
		h.want() // check_keys failed: the add was told abort and returned the error
		if len(h.e.table) != 0 {
			t.Errorf("table holds an entry that is not durable: %+v", h.e.table)
		}
		st.mu.Lock()
		st.fail = nil
		st.mu.Unlock()
	})
}

func TestEngine_SkipsInvalidAndWhiteListed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(time.Minute)
		cfg.WhiteList = []WhiteListEntry{{Pattern: "198.51.100."}}
		h := startEngine(t, newMemStore(), &fakeRunner{}, cfg, "b")
		defer h.stop()
		h.alert("1.2.3.4;rm -rf /", "1")
		h.alert("-j ACCEPT", "2")
		h.alert("198.51.100.1", "3")
		h.want()
		if s := h.e.Stats(); s.Skipped.Load() != 3 || s.Matched.Load() != 3 {
			t.Errorf("skipped %d matched %d, want 3 and 3", s.Skipped.Load(), s.Matched.Load())
		}
		if err := h.e.Handle(context.Background(), Record{Data: []byte("\x00garbage"), Pos: Position{Source: "a"}}); err != nil {
			t.Fatal(err)
		}
		if h.e.Stats().Malformed.Load() != 1 {
			t.Error("malformed record not counted")
		}
	})
}

// batchRunner re-applies entries in one batch, as the built-in firewalls do.
type batchRunner struct {
	*fakeRunner
	batches [][]string
}

func (b *batchRunner) Reassert(_ context.Context, entries []Entry) ([]Entry, error) {
	var keys []string
	for _, e := range entries {
		keys = append(keys, e.Key)
	}
	b.batches = append(b.batches, keys)
	return nil, nil
}

func TestEngine_RebootReassertsInBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Minute), "boot1")
		h.alert("203.0.113.31", "1")
		h.alert("203.0.113.32", "2")
		h.stop()
		time.Sleep(30 * time.Second)
		b := &batchRunner{fakeRunner: &fakeRunner{}}
		e, err := New(Options{Store: st, Runner: b, BootID: "boot2"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		synctest.Wait()
		want := [][]string{{"firewall-drop-203.0.113.31", "firewall-drop-203.0.113.32"}}
		if len(b.batches) != 1 || !slices.Equal(b.batches[0], want[0]) {
			t.Errorf("batches %v, want %v", b.batches, want)
		}
		if s := b.seen(); len(s) != 0 {
			t.Errorf("batched entries also ran one by one: %v", s)
		}
		cancel()
		<-done
	})
}

func TestEngine_LegacyProtocolKeyedByEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(time.Minute)
		cfg.Commands[0].Protocol = ProtocolLegacy
		h := startEngine(t, newMemStore(), &fakeRunner{}, cfg, "b")
		defer h.stop()
		h.alert("203.0.113.70", "1")
		h.alert("203.0.113.70", "2") // active: not run again, timer restarted
		if e := h.store.entries(); len(e) != 1 || e[0].Key != "firewall-drop-203.0.113.70" {
			t.Fatalf("entries %+v", e)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		// The fake records no verdict: a legacy script is never asked.
		h.want("add firewall-drop 203.0.113.70  1", "delete firewall-drop 203.0.113.70  1")
	})
}

func TestEngine_NothingRunsBeforeTheJobIsDurable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Minute), "b")
		defer h.stop()
		st.mu.Lock()
		st.fail = fmt.Errorf("disk full")
		st.mu.Unlock()
		h.alert("203.0.113.80", "1")
		time.Sleep(3 * time.Second)
		h.want() // the job could not be written: its command must not run
		st.mu.Lock()
		st.fail = nil
		st.mu.Unlock()
		time.Sleep(time.Second)
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.80 continue 1")
		st.mu.Lock()
		stored := st.st.Positions["alerts.json"]
		st.mu.Unlock()
		if stored.Offset == 0 || stored != h.e.Position("alerts.json") {
			t.Errorf("position stored %+v, engine says %+v", stored, h.e.Position("alerts.json"))
		}
	})
}

func TestEngine_LegacyNotStartedLeavesNoEntry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(time.Minute)
		cfg.Commands[0].Protocol = ProtocolLegacy
		h := startEngine(t, newMemStore(), &fakeRunner{notFound: true}, cfg, "b")
		defer h.stop()
		h.alert("203.0.113.90", "1")
		if e := h.store.entries(); len(e) != 0 {
			t.Fatalf("entry kept for a script that never ran: %+v", e)
		}
		h.runner.set(func(f *fakeRunner) { f.notFound = false })
		h.alert("203.0.113.90", "2") // not active: runs
		h.want("add firewall-drop 203.0.113.90  2")
	})
}

func TestEngine_AddQueuedBeforeDeleteKeepsTheBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(10*time.Second), "b")
		defer h.stop()
		h.alert("203.0.113.91", "1")
		// The re-trigger's add is slow to run: while it waits in the lane, the
		// entry expires and its delete queues behind it.
		gate := make(chan struct{})
		h.runner.set(func(f *fakeRunner) {
			f.hook = func(inv Invocation) {
				if inv.Op == OpAdd {
					<-gate
				}
			}
		})
		time.Sleep(9 * time.Second)
		h.alert("203.0.113.91", "2")
		time.Sleep(2 * time.Second) // past the first expiry
		close(gate)
		synctest.Wait()
		// abort restarted the timer: the stale delete must not run.
		h.want("add firewall-drop 203.0.113.91 continue 1", "add firewall-drop 203.0.113.91 abort 2")
		time.Sleep(10 * time.Second)
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.91 continue 1", "add firewall-drop 203.0.113.91 abort 2",
			"delete firewall-drop 203.0.113.91  1")
	})
}

// slowBatch re-applies nothing until its context ends, like a stop in the
// middle of a long re-apply.
type slowBatch struct {
	*fakeRunner
	calls int
}

func (b *slowBatch) Reassert(ctx context.Context, entries []Entry) ([]Entry, error) {
	b.calls++
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestEngine_RebootReapplyInterruptedRunsAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Hour), "boot1")
		h.alert("203.0.113.95", "1")
		h.stop()
		for i := 0; i < 2; i++ { // stopped twice in the middle of re-applying
			b := &slowBatch{fakeRunner: &fakeRunner{}}
			e, err := New(Options{Store: st, Runner: b, BootID: "boot2"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- e.Run(ctx) }()
			synctest.Wait()
			cancel()
			<-done
			if b.calls != 1 {
				t.Fatalf("start %d: %d batch re-applies, want 1", i, b.calls)
			}
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.st.BootID != "boot1" {
			t.Errorf("boot id %q recorded before the re-apply finished", st.st.BootID)
		}
	})
}

// The table points into the loaded entries, which reconcile reorders to
// re-apply the marked ones first: every key must still lead to its own
// entry, and each entry's delete must carry its own target.
func TestEngine_ReconcileReorderKeepsTableInStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		st.st.BootID = "boot1"
		fw := *testConfig(time.Minute).Commands[0]
		ips := []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5"}
		for i, ip := range ips {
			key := TableKey(fw.Executable, []string{ip})
			st.st.Entries = append(st.st.Entries, Entry{Key: key, Seq: uint64(i + 1), Lane: key, Command: &fw,
				Fields:  Fields{User: "-", SrcIP: ip, AlertID: fmt.Sprint(i), RuleID: "5712", Location: "-", Filename: "-"},
				Expires: time.Now().Add(time.Duration(i+1) * time.Second), Offences: 1})
			if i%2 == 1 { // marked entries come after unmarked ones: reconcile moves them
				st.marks[key] = uint64(i + 1)
			}
		}
		r := &fakeRunner{}
		h := startEngine(t, st, r, testConfig(time.Minute), "boot1")
		defer h.stop()
		var keys []string
		for _, a := range h.e.Active() {
			keys = append(keys, a.Key+"="+a.Fields.SrcIP)
		}
		want := []string{}
		for _, ip := range ips {
			want = append(want, TableKey(fw.Executable, []string{ip})+"="+ip)
		}
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("table after reconcile:\n got %q\nwant %q", keys, want)
		}
		reapplied := r.seen() // in their own lanes: in any order
		slices.Sort(reapplied)
		if want := []string{"add firewall-drop 203.0.113.2 continue 1", "add firewall-drop 203.0.113.4 continue 3"}; !slices.Equal(reapplied, want) {
			t.Errorf("re-applied %q, want the marked entries %q", reapplied, want)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		var deletes []string
		for _, s := range r.seen() {
			if strings.HasPrefix(s, "delete") {
				deletes = append(deletes, s)
			}
		}
		slices.Sort(deletes)
		if len(deletes) != len(ips) {
			t.Fatalf("deletes: %q, want one per entry", deletes)
		}
		for i, ip := range ips {
			if !strings.Contains(deletes[i], ip) {
				t.Errorf("delete %d = %q, want %s", i, deletes[i], ip)
			}
		}
	})
}

// TestEngine_NoPositionPastAGroupGivenUp: a group whose write was given up
// at stop (the store failing) is rolled back, and so is every group after
// it, even once the store works again: a later group's position would
// otherwise skip the alerts of the one given up, and their jobs would be
// lost.
func TestEngine_NoPositionPastAGroupGivenUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Minute), "b")
		st.mu.Lock()
		st.fail = fmt.Errorf("disk full")
		st.mu.Unlock()
		h.alert("203.0.113.81", "1") // its group's write retries each second
		h.alert("203.0.113.82", "2") // its group waits behind
		st.mu.Lock()
		st.fail = nil
		st.mu.Unlock()
		h.stop() // gives up the first group's write
		st.mu.Lock()
		defer st.mu.Unlock()
		if p, ok := st.st.Positions["alerts.json"]; ok {
			t.Errorf("position %d written past alert 1, whose job was never written", p.Offset)
		}
		h.want() // nothing ran: both alerts are read again at the next start
	})
}

// stuckRunner's runs last until their context ends.
type stuckRunner struct{}

func (stuckRunner) Run(ctx context.Context, _ Invocation, _ CheckKeys) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestEngine_RebootStoppedWithReappliesQueued: stopped while re-applying
// after a reboot, with more runs queued than workers, the engine leaves
// nothing behind (synctest fails a test whose goroutines stay blocked),
// and the next start re-applies again: the boot id is not recorded.
func TestEngine_RebootStoppedWithReappliesQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		st.st.BootID = "boot1"
		fw := *testConfig(time.Hour).Commands[0]
		for i := range 3 {
			ip := fmt.Sprintf("203.0.113.%d", i+1)
			key := TableKey(fw.Executable, []string{ip})
			st.st.Entries = append(st.st.Entries, Entry{Key: key, Seq: uint64(i + 1), Lane: key, Command: &fw,
				Fields:  Fields{User: "-", SrcIP: ip, AlertID: fmt.Sprint(i), RuleID: "5712", Location: "-", Filename: "-"},
				Expires: time.Now().Add(time.Hour), Offences: 1})
		}
		e, err := New(Options{Store: st, Runner: stuckRunner{}, BootID: "boot2", Workers: 1, StopGrace: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		e.SetConfig(testConfig(time.Hour))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		synctest.Wait() // one run started, two queued behind the only worker
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.st.BootID != "boot1" {
			t.Errorf("boot id %q recorded though the re-apply was cut short", st.st.BootID)
		}
	})
}
