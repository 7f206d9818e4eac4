package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// countingRunner is a worldRunner that counts the deletes its process ran
// to the end, by key.
type countingRunner struct {
	*worldRunner
	mu      sync.Mutex
	deletes map[string]int
}

func (r *countingRunner) Run(ctx context.Context, inv Invocation, check CheckKeys) error {
	err := r.worldRunner.Run(ctx, inv, check)
	if inv.Op == OpDelete && err == nil {
		r.mu.Lock()
		r.deletes[TableKey(inv.Command.Executable, []string{inv.Fields.SrcIP})]++
		r.mu.Unlock()
	}
	return err
}

func (r *countingRunner) deleted(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deletes[key]
}

// worldProcess starts one process on w (stormConfig: a batched built-in
// and a script on the same rule) and returns its engine, its runner and its
// stop function.
func worldProcess(t *testing.T, w *world) (*Engine, *countingRunner, func()) {
	t.Helper()
	var r *countingRunner
	e, _, _, stop := startProcess(t, w, "boot", func(epoch int) Runner {
		r = &countingRunner{worldRunner: &worldRunner{w: w, epoch: epoch}, deletes: map[string]int{}}
		return r
	})
	synctest.Wait()
	return e, r, stop
}

// storedEntry returns the entry w's store holds for key.
func (w *world) storedEntry(key string) (Entry, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := slices.IndexFunc(w.store.st.Entries, func(en Entry) bool { return en.Key == key })
	if i < 0 {
		return Entry{}, false
	}
	return w.store.st.Entries[i], true
}

func (w *world) blocked(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.kernel[key]
}

// TestUnblock_DurableAcrossACrash kills the daemon right after each write
// an unblock makes in turn (its new expiry, the kernel delete, the entry
// forgotten) and starts it again on the same boot, with no time passing:
// the block must be lifted at once by the new process (its delete runs at
// start), its entry gone, and the other command's block on the same
// address untouched. The first write must be the new expiry, before the
// delete: a daemon killed there still has the block in the kernel, and
// only the store can tell the next start that it was lifted.
func TestUnblock_DurableAcrossACrash(t *testing.T) {
	const ip = "198.18.0.1"
	for _, key := range []string{"script-" + ip, "firewall-drop-" + ip} {
		other := map[bool]string{true: "firewall-drop-" + ip, false: "script-" + ip}[key == "script-"+ip]
		// A run without a crash counts the writes of the unblock.
		var writes int
		synctest.Test(t, func(t *testing.T) {
			w := newWorld(0)
			e, _, stop := worldProcess(t, w)
			feed(t, e, w)
			before := w.events
			if _, err := e.Unblock(context.Background(), key); err != nil {
				t.Fatal(err)
			}
			writes = w.events - before
			stop()
		})
		if writes < 2 {
			t.Fatalf("%s: the unblock made %d writes, want at least the kernel delete and the forget", key, writes)
		}
		for at := 1; at <= writes; at++ {
			t.Run(fmt.Sprintf("%s/crash_after_%d_of_%d", key, at, writes), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					w := newWorld(0)
					e, _, stop := worldProcess(t, w)
					feed(t, e, w)
					stored, _ := w.storedEntry(key)
					w.mu.Lock()
					w.crashAt = w.events + at
					w.mu.Unlock()
					asked := time.Now()
					e.Unblock(context.Background(), key) // killed on the way: its answer is lost
					stop()
					if !w.crashed(0) {
						t.Fatal("the process was not killed")
					}
					stillBlocked := w.blocked(key)
					if at == 1 {
						// Killed right after the first write: that was the new
						// expiry, not the delete.
						en, ok := w.storedEntry(key)
						switch {
						case !stillBlocked:
							t.Error("the kernel delete ran before the unblock was recorded")
						case !ok || en.Seq != stored.Seq || !en.Expires.Equal(asked):
							t.Errorf("stored after the unblock's first write: %+v (ok %v), want generation %d expiring at %v",
								en, ok, stored.Seq, asked)
						}
					}

					// The same boot, no time passing: what is due runs at start.
					e2, r2, stop2 := worldProcess(t, w)
					defer stop2()
					if !time.Now().Equal(asked) {
						t.Fatalf("time passed: %v", time.Since(asked))
					}
					if stillBlocked && r2.deleted(key) != 1 {
						t.Errorf("the restarted daemon ran %d deletes of %s, want 1 at start", r2.deleted(key), key)
					}
					if w.blocked(key) {
						t.Errorf("%s still blocked after the restart", key)
					}
					if en, ok := w.storedEntry(key); ok {
						t.Errorf("%s still stored after the restart: %+v", key, en)
					}
					if slices.ContainsFunc(e2.Active(), func(a ActiveEntry) bool { return a.Key == key }) {
						t.Errorf("%s still active after the restart", key)
					}
					if !w.blocked(other) || r2.deleted(other) != 0 {
						t.Errorf("%s lifted too", other)
					}
					if en, ok := w.storedEntry(other); !ok || !en.Expires.Equal(stored.Created.Add(time.Hour)) {
						t.Errorf("%s stored %+v (ok %v), want its hour", other, en, ok)
					}
				})
			})
		}
	}
}

// feed hands e the two alerts of one address (a continue then an abort)
// and waits until they are applied.
func feed(t *testing.T, e *Engine, w *world) {
	t.Helper()
	for _, r := range stormRecords(2) {
		if err := e.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	synctest.Wait()
	for _, k := range []string{"script-198.18.0.1", "firewall-drop-198.18.0.1"} {
		if !w.blocked(k) {
			t.Fatalf("%s not blocked", k)
		}
	}
}

// TestUnblock_StoreFails: an unblock whose new expiry cannot be written
// changes nothing and says so: no delete runs (a crash would bring the
// block back with its old expiry), the entry keeps its expiry, and its
// timer still lifts it then.
func TestUnblock_StoreFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Hour), "b")
		defer h.stop()
		h.alert("203.0.113.7", "1.1")
		before := h.e.Active()
		st.mu.Lock()
		st.fail = errors.New("disk full")
		st.mu.Unlock()
		_, err := h.e.Unblock(context.Background(), "firewall-drop-203.0.113.7")
		if err == nil || errors.Is(err, ErrNotActive) || !errors.Is(err, st.fail) {
			t.Fatalf("Unblock with the store failing: %v", err)
		}
		st.mu.Lock()
		st.fail = nil
		st.mu.Unlock()
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.7 continue 1.1")
		if a := h.e.Active(); !reflect.DeepEqual(a, before) {
			t.Errorf("active after a failed unblock:\n got %+v\nwant %+v", a, before)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.7 continue 1.1", "delete firewall-drop 203.0.113.7  1.1")
		if a := h.e.Active(); len(a) != 0 {
			t.Errorf("not lifted at its expiry: %+v", a)
		}
	})
}

// gateStore holds the first Apply that puts an entry, after arm, until
// the gate opens; then it fails that Apply with fail, when set.
type gateStore struct {
	*memStore
	mu      sync.Mutex
	fail    error
	armed   bool
	held    chan struct{} // closed once an Apply is held
	release chan struct{}
}

func (g *gateStore) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.held, g.release = true, make(chan struct{}), make(chan struct{})
}

func (g *gateStore) Apply(c Change) error {
	g.mu.Lock()
	hold := g.armed && len(c.Put) > 0
	g.armed = g.armed && !hold
	held, release := g.held, g.release
	g.mu.Unlock()
	if hold {
		close(held)
		<-release
		if g.fail != nil {
			return g.fail
		}
	}
	return g.memStore.Apply(c)
}

// TestUnblock_StoreFailsPastTheExpiry: an unblock whose write fails after
// the entry's own expiry passed (its timer found the entry pending, and
// let it be) leaves the entry as it was, and its timer set again: it is
// lifted at once, not left until a restart.
func TestUnblock_StoreFailsPastTheExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &gateStore{memStore: newMemStore(), fail: errors.New("disk full")}
		r := &fakeRunner{}
		e, err := New(Options{Store: st, Runner: r, Node: "test"})
		if err != nil {
			t.Fatal(err)
		}
		e.SetConfig(testConfig(time.Hour))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		defer func() { cancel(); <-done }()
		h := &harness{t: t, e: e, runner: r}
		h.alert("203.0.113.7", "1.1")

		time.Sleep(time.Hour - time.Second)
		synctest.Wait()
		st.arm()
		unblocked := make(chan error, 1)
		go func() { _, err := e.Unblock(context.Background(), "firewall-drop-203.0.113.7"); unblocked <- err }()
		<-st.held
		time.Sleep(2 * time.Second) // the entry's expiry passes while its unblock is written
		synctest.Wait()
		close(st.release)
		if err := <-unblocked; !errors.Is(err, st.fail) {
			t.Fatalf("Unblock with the store failing: %v", err)
		}
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.7 continue 1.1", "delete firewall-drop 203.0.113.7  1.1")
		if a := e.Active(); len(a) != 0 {
			t.Errorf("not lifted once past its expiry: %+v", a)
		}
	})
}

// TestUnblock_AlertWhileRecording: an alert for the key that comes in
// while the unblock's new expiry is being written waits for it (the entry
// is pending), then finds the key still active: its abort restarts the
// timer and the delete, queued behind it, finds a newer generation and
// does nothing. Unblock says the block stays (ErrStillActive), the store
// and the table agree, and the new timer lifts it.
func TestUnblock_AlertWhileRecording(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &gateStore{memStore: newMemStore()}
		r := &fakeRunner{}
		e, err := New(Options{Store: st, Runner: r, Node: "test"})
		if err != nil {
			t.Fatal(err)
		}
		e.SetConfig(testConfig(time.Hour))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		defer func() { cancel(); <-done }()
		h := &harness{t: t, e: e, runner: r}
		h.alert("203.0.113.7", "1.1")
		const key = "firewall-drop-203.0.113.7"

		time.Sleep(10 * time.Minute)
		synctest.Wait()
		st.arm()
		unblocked := make(chan error, 1)
		go func() { _, err := e.Unblock(context.Background(), key); unblocked <- err }()
		select { // the fake clock: no real wait
		case <-st.held:
		case <-time.After(time.Minute):
			t.Fatal("Unblock wrote nothing before its delete")
		}
		if a := e.Active(); len(a) != 1 || !a[0].Pending || !a[0].Expires.Equal(time.Now()) {
			t.Fatalf("active while the unblock is written: %+v", a)
		}
		h.alert("203.0.113.7", "1.2") // its add waits for the unblock's write
		h.want("add firewall-drop 203.0.113.7 continue 1.1")
		close(st.release)
		if err := <-unblocked; !errors.Is(err, ErrStillActive) {
			t.Fatalf("Unblock with an alert in between: %v", err)
		}
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.7 continue 1.1", "add firewall-drop 203.0.113.7 abort 1.2")
		a := e.Active()
		stored := st.entries()
		if len(a) != 1 || a[0].Offences != 2 || !a[0].Expires.Equal(time.Now().Add(time.Hour)) ||
			len(stored) != 1 || stored[0].Seq != a[0].Seq || !stored[0].Expires.Equal(a[0].Expires) {
			t.Fatalf("after the abort:\nactive %+v\nstored %+v", a, stored)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.7 continue 1.1", "add firewall-drop 203.0.113.7 abort 1.2",
			"delete firewall-drop 203.0.113.7  1.1")
		if a := e.Active(); len(a) != 0 {
			t.Errorf("not lifted: %+v", a)
		}
	})
}

// TestUnblock_WhileItsExpiryRuns: an unblock asked while the key's own
// delete runs (its timer fired a moment before) waits for that delete and
// succeeds with the entry it lifted; it runs no second delete. Asked
// again, the key is not active.
func TestUnblock_WhileItsExpiryRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		deleting, release := make(chan struct{}), make(chan struct{})
		r := &fakeRunner{hook: func(inv Invocation) {
			if inv.Op == OpDelete {
				close(deleting)
				<-release
			}
		}}
		h := startEngine(t, st, r, testConfig(time.Hour), "boot")
		defer h.stop()
		const key = "firewall-drop-203.0.113.7"
		h.alert("203.0.113.7", "1.1")
		synctest.Wait()

		time.Sleep(time.Hour)
		<-deleting // the timer's delete runs
		type result struct {
			entry Entry
			err   error
		}
		unblocked := make(chan result, 1)
		go func() { en, err := h.e.Unblock(context.Background(), key); unblocked <- result{en, err} }()
		synctest.Wait()
		select {
		case res := <-unblocked:
			t.Fatalf("Unblock returned while the key's delete ran: %+v", res)
		default:
		}
		close(release)
		res := <-unblocked
		if res.err != nil || res.entry.Key != key {
			t.Fatalf("Unblock during the key's own delete: %+v, %v", res.entry, res.err)
		}
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.7 continue 1.1", "delete firewall-drop 203.0.113.7  1.1")
		if a := h.e.Active(); len(a) != 0 {
			t.Errorf("still active: %+v", a)
		}
		if _, err := h.e.Unblock(context.Background(), key); !errors.Is(err, ErrNotActive) {
			t.Errorf("Unblock of a lifted key: %v, want ErrNotActive", err)
		}
	})
}
