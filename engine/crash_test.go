package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// A world is what outlives a crash: the store and the kernel. Every write
// to either is one event; the world crashes right after event crashAt, and
// from then on the writes of the crashed process are refused, as if it had
// been killed with -9 at that instant. A new process (epoch) starts on what
// the world holds.
type world struct {
	mu      sync.Mutex
	epoch   int
	events  int
	crashAt int // 0: never
	store   *memStore
	kernel  map[string]bool // blocks by table key
	adds    int             // kernel adds made, every epoch
}

var errKilled = errors.New("process killed")

func newWorld(crashAt int) *world {
	return &world{crashAt: crashAt, store: newMemStore(), kernel: map[string]bool{}}
}

// event runs f as one write of process epoch, unless that process is dead.
func (w *world) event(epoch int, f func() error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if epoch != w.epoch {
		return errKilled
	}
	if err := f(); err != nil {
		return err
	}
	w.events++
	if w.events == w.crashAt {
		w.epoch++
	}
	return nil
}

func (w *world) crashed(epoch int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return epoch != w.epoch
}

func (w *world) block(key string) {
	w.kernel[key] = true
	w.adds++
}

// worldStore is one process's view of the world's store.
type worldStore struct {
	w     *world
	epoch int
}

func (s worldStore) Load() (*State, error)             { return s.w.store.Load() }
func (s worldStore) Params(key string) ([]byte, error) { return s.w.store.Params(key) }
func (s worldStore) Close() error                      { return nil }
func (s worldStore) Apply(c Change) error {
	return s.w.event(s.epoch, func() error { return s.w.store.Apply(c) })
}

// worldRunner is one process's commands: "script" runs one job at a time
// (check_keys, then the block); "firewall-drop" has a batch form.
type worldRunner struct {
	w      *world
	epoch  int
	kernel bool // the batch form's blocks carry kernel timeouts
}

func (r *worldRunner) Run(ctx context.Context, inv Invocation, check CheckKeys) error {
	key := TableKey(inv.Command.Executable, []string{inv.Fields.SrcIP})
	if inv.Op == OpDelete {
		return r.w.event(r.epoch, func() error { delete(r.w.kernel, key); return nil })
	}
	if check != nil {
		d, err := check([]string{inv.Fields.SrcIP})
		if err != nil || d.Verdict == Abort {
			return err
		}
	}
	return r.w.event(r.epoch, func() error { r.w.block(key); return nil })
}

func (r *worldRunner) Group(c Command) Group {
	if c.Executable != "firewall-drop" {
		return nil
	}
	return worldGroup{r}
}

func (r *worldRunner) Reassert(_ context.Context, entries []Entry) ([]Entry, error) {
	return nil, r.w.event(r.epoch, func() error {
		for _, en := range entries {
			r.w.block(en.Key)
		}
		return nil
	})
}

type worldGroup struct{ r *worldRunner }

func (g worldGroup) Keys(f Fields) ([]string, error) { return []string{f.SrcIP}, nil }
func (g worldGroup) KernelTimeout() bool             { return g.r.kernel }
func (g worldGroup) Apply(_ context.Context, adds []GroupAdd) (func(), error) {
	return nil, g.r.w.event(g.r.epoch, func() error {
		for _, a := range adds {
			if a.Decision.Verdict == Continue {
				g.r.w.block(TableKey("firewall-drop", a.Keys))
			}
		}
		return nil
	})
}

// stormConfig triggers a batched built-in and a script on the same rule.
func stormConfig() *Config {
	fw := &Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
	sc := &Command{Name: "script", Executable: "script", TimeoutAllowed: true}
	return &Config{
		Commands: []*Command{fw, sc},
		Responses: []*Response{
			{Command: fw, RulesID: []string{"5712"}, Timeout: time.Hour},
			{Command: sc, RulesID: []string{"5712"}, Timeout: time.Hour},
		},
	}
}

// stormRecords are n alerts over n/2 addresses: every address twice, so
// that repeats (aborts, also inside one group) are part of every storm.
func stormRecords(n int) []Record {
	var recs []Record
	var off int64
	for i := range n {
		line := fmt.Sprintf(`{"rule":{"level":10,"id":"5712"},"id":"%d","data":{"srcip":"198.18.%d.%d"}}`,
			i, (i/2)/250, (i/2)%250+1)
		off += int64(len(line)) + 1
		recs = append(recs, Record{Data: []byte(line), Pos: Position{Source: "alerts.json", FileID: "1:2", Offset: off}})
	}
	return recs
}

// runProcess starts one process on the world, feeds it the records past its
// stored position, lets everything settle and returns its stop function.
func runProcess(t *testing.T, w *world, recs []Record, kernel bool, boot string) (stop func()) {
	t.Helper()
	e, ctx, epoch, stop := startProcess(t, w, boot, func(epoch int) Runner { return &worldRunner{w: w, epoch: epoch, kernel: kernel} })
	from := e.Position("alerts.json").Offset
	for _, r := range recs {
		if r.Pos.Offset > from && !w.crashed(epoch) {
			if err := e.Handle(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	synctest.Wait()
	return stop
}

// startProcess starts one process on the world at its current epoch, with
// stormConfig and the runner newRunner makes for that epoch, and returns
// its engine, run context, epoch and stop function.
func startProcess(t *testing.T, w *world, boot string, newRunner func(epoch int) Runner) (*Engine, context.Context, int, func()) {
	t.Helper()
	w.mu.Lock()
	epoch := w.epoch
	w.mu.Unlock()
	e, err := New(Options{Store: worldStore{w, epoch}, Runner: newRunner(epoch), BootID: boot, Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.SetConfig(stormConfig())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	return e, ctx, epoch, func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestCrash_EveryPointOfAStorm kills the daemon right after each write of a
// storm in turn (store commits and kernel changes alike) and starts it
// again, after a reboot that wiped the kernel too: every address must end
// up blocked by both commands, with its revert entry stored, no job left and
// no mark left.
func TestCrash_EveryPointOfAStorm(t *testing.T) {
	recs := stormRecords(40)
	for _, mode := range []struct{ kernel, reboot bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		kernel := mode.kernel
		// A run without a crash counts the events to crash at.
		var total int
		synctest.Test(t, func(t *testing.T) {
			w := newWorld(0)
			runProcess(t, w, recs, kernel, "boot")()
			total = w.events
			checkWorld(t, w, recs)
		})
		for at := 1; at <= total; at++ {
			t.Run(fmt.Sprintf("kernel=%v/reboot=%v/crash_after_%d_of_%d", kernel, mode.reboot, at, total), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					w := newWorld(at)
					runProcess(t, w, recs, kernel, "boot")() // killed on the way
					boot := "boot"
					if mode.reboot {
						boot = "boot2"
						clear(w.kernel)
					}
					runProcess(t, w, recs, kernel, boot)()
					checkWorld(t, w, recs)
				})
			})
		}
	}
}

// TestCrash_ScriptRunsAgainToContinue: a script that asked check_keys and
// got its answer, then lost the daemon before it blocked, is run again at
// the next start and hears continue again, not abort, with one offence.
func TestCrash_ScriptRunsAgainToContinue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		crash := &crashAfterCheck{fakeRunner: &fakeRunner{}, st: st}
		e, err := New(Options{Store: st, Runner: crash, BootID: "b", Node: "test"})
		if err != nil {
			t.Fatal(err)
		}
		e.SetConfig(testConfig(time.Minute))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		line := `{"rule":{"level":10,"id":"5712"},"id":"1.1","data":{"srcip":"203.0.113.9"}}`
		if err := e.Handle(ctx, Record{Data: []byte(line), Pos: Position{Source: "alerts.json", FileID: "1:2", Offset: 80}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		cancel()
		<-done
		if crash.state == nil {
			t.Fatal("check_keys never answered")
		}

		again := &fakeRunner{}
		h := startEngine(t, crash.state, again, testConfig(time.Minute), "b")
		defer h.stop()
		h.want("add firewall-drop 203.0.113.9 continue 1.1")
		if n := crash.state.offences("firewall-drop-203.0.113.9"); n != 1 {
			t.Errorf("offences = %d, want 1 (the run again is not a new offence)", n)
		}
		if j := crash.state.jobs(); len(j) != 0 {
			t.Errorf("jobs left: %+v", j)
		}
	})
}

// crashAfterCheck copies the store the moment its command has its check_keys
// answer: the durable state of a daemon killed right then.
type crashAfterCheck struct {
	*fakeRunner
	st    *memStore
	state *memStore
}

func (c *crashAfterCheck) Run(ctx context.Context, inv Invocation, check CheckKeys) error {
	return c.fakeRunner.Run(ctx, inv, func(keys []string) (Decision, error) {
		d, err := check(keys)
		if c.state == nil {
			c.state = c.st.clone()
		}
		return d, err
	})
}

func (m *memStore) offences(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.Offences[key]
}

func (m *memStore) clone() *memStore {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := newMemStore()
	c.st.Entries = slices.Clone(m.st.Entries)
	c.st.Jobs = slices.Clone(m.st.Jobs)
	c.st.Offences = maps.Clone(m.st.Offences)
	c.st.Positions = maps.Clone(m.st.Positions)
	c.st.BootID = m.st.BootID
	c.params = maps.Clone(m.params)
	c.marks = maps.Clone(m.marks)
	return c
}

// checkWorld checks the promise after the storm: each address blocked by
// each command, in the kernel and with its revert entry in the store.
func checkWorld(t *testing.T, w *world, recs []Record) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	want := map[string]bool{}
	for i := range recs {
		ip := fmt.Sprintf("198.18.%d.%d", (i/2)/250, (i/2)%250+1)
		want["firewall-drop-"+ip] = true
		want["script-"+ip] = true
	}
	var missing, noEntry []string
	stored := map[string]bool{}
	for _, en := range w.store.st.Entries {
		stored[en.Key] = true
	}
	for k := range want {
		if !w.kernel[k] {
			missing = append(missing, k)
		}
		if !stored[k] {
			noEntry = append(noEntry, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(noEntry)
	if len(missing) > 0 {
		t.Errorf("%d blocks missing from the kernel: %q", len(missing), missing)
	}
	if len(noEntry) > 0 {
		t.Errorf("%d blocks without a revert entry: %q", len(noEntry), noEntry)
	}
	if len(w.store.st.Jobs) != 0 {
		t.Errorf("%d jobs left", len(w.store.st.Jobs))
	}
	if len(w.store.marks) != 0 {
		t.Errorf("%d marks left", len(w.store.marks))
	}
}

// TestGroup_RevertAndEscalation: adds decided in the group commit are
// reverted on time by the one-job delete, and a repeat offender's next add,
// again in a group, gets the escalated timeout.
func TestGroup_RevertAndEscalation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(0)
		fw := &Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
		cfg := &Config{Commands: []*Command{fw}, Responses: []*Response{{
			Command: fw, RulesID: []string{"5712"}, Timeout: 10 * time.Second, RepeatedOffenders: []time.Duration{time.Minute},
		}}}
		e, err := New(Options{Store: worldStore{w, 0}, Runner: &worldRunner{w: w, kernel: true}, Node: "test"})
		if err != nil {
			t.Fatal(err)
		}
		e.SetConfig(cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		defer func() { cancel(); <-done }()
		recs := stormRecords(2) // one address, twice
		blocked := func() bool {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.kernel["firewall-drop-198.18.0.1"]
		}
		feed := func(r Record) {
			if err := e.Handle(ctx, r); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		feed(recs[0])
		if !blocked() {
			t.Fatal("not blocked after the first alert")
		}
		time.Sleep(10*time.Second + time.Millisecond)
		synctest.Wait()
		if blocked() {
			t.Fatal("still blocked after its 10 s")
		}
		feed(recs[1])
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if !blocked() {
			t.Fatal("the second offence was not held for its escalated minute")
		}
		time.Sleep(time.Second + time.Millisecond)
		synctest.Wait()
		if blocked() {
			t.Fatal("still blocked after the escalated minute")
		}
		if n := w.store.offences("firewall-drop-198.18.0.1"); n != 2 {
			t.Errorf("offences = %d, want 2", n)
		}
	})
}
