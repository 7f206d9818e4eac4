package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestStop_NoPositionPastDroppedJobs: at stop, a record whose jobs could
// not be queued (the commit queue full, as in a storm) is dropped, and the
// reader may still go on through its buffer. No position from that record
// on may be written, or its block is lost: it must be read again.
func TestStop_NoPositionPastDroppedJobs(t *testing.T) {
	st := newMemStore()
	e, err := New(Options{Store: st, Runner: &fakeRunner{}, Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.SetConfig(testConfig(time.Minute))
	e.ctx = context.Background()
	e.commits = make(chan commitItem) // full: nothing takes it
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the daemon is stopping
	pos := func(off int64) Position { return Position{Source: "alerts.json", FileID: "1:2", Offset: off} }
	f := e.Feed()
	f.Handle(ctx, Record{Data: []byte(`{"rule":{"level":3,"id":"1002"},"id":"1.0"}`), Pos: pos(40)})
	f.Handle(ctx, Record{Data: []byte(`{"rule":{"level":10,"id":"5712"},"id":"1.1","data":{"srcip":"203.0.113.9"}}`), Pos: pos(120)})
	f.Handle(ctx, Record{Data: []byte(`{"rule":{"level":3,"id":"1002"},"id":"1.2"}`), Pos: pos(170)})
	f.Flush()
	e.commitLoop(ctx) // its last group, at stop
	s, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Positions["alerts.json"].Offset; got >= 120 {
		t.Errorf("position %d written, past the record ending at 120 whose job was dropped", got)
	}
	if len(s.Jobs) != 0 || len(s.Entries) != 0 {
		t.Errorf("the dropped job was written after all: jobs %v, entries %v", s.Jobs, s.Entries)
	}
}

// userLocker is disable-account: keyed on the alert's user, whatever its
// address; its delete takes a second.
type userLocker struct {
	mu     sync.Mutex
	locked map[string]bool
}

func (r *userLocker) Run(ctx context.Context, inv Invocation, check CheckKeys) error {
	user := inv.Fields.User
	if inv.Op == OpDelete {
		time.Sleep(time.Second) // passwd -u, on the fake clock
		r.mu.Lock()
		r.locked[user] = false
		r.mu.Unlock()
		return nil
	}
	d, err := check([]string{user})
	if err != nil || d.Verdict == Abort {
		return err
	}
	r.mu.Lock()
	r.locked[user] = true
	r.mu.Unlock()
	return nil
}

func (r *userLocker) isLocked(user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.locked[user]
}

// TestRecord_WaitsForTheKeysDelete: the lane follows the alert's address,
// so an alert for the same user from another address runs its add in
// another lane than the running delete of that user's entry. The add must
// act after the delete, or the table says "locked" of an unlocked account.
func TestRecord_WaitsForTheKeysDelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cmd := &Command{Name: "disable-account", Executable: "disable-account", TimeoutAllowed: true}
		cfg := &Config{Commands: []*Command{cmd}, Responses: []*Response{{Command: cmd, RulesID: []string{"5712"}, Timeout: 10 * time.Second}}}
		r := &userLocker{locked: map[string]bool{}}
		e, err := New(Options{Store: newMemStore(), Runner: r, Node: "test"})
		if err != nil {
			t.Fatal(err)
		}
		e.SetConfig(cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		defer func() { cancel(); <-done }()
		var off int64
		alert := func(srcip string) {
			t.Helper()
			line := fmt.Sprintf(`{"rule":{"level":10,"id":"5712"},"id":"1.%s","data":{"srcip":%q,"dstuser":"bob"}}`, srcip, srcip)
			off += int64(len(line)) + 1
			if err := e.Handle(ctx, Record{Data: []byte(line), Pos: Position{Source: "a", FileID: "1:2", Offset: off}}); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		alert("198.51.100.1")
		time.Sleep(10*time.Second + 500*time.Millisecond) // bob's unlock is half done
		synctest.Wait()
		alert("198.51.100.2") // bob again, from another address
		time.Sleep(time.Second)
		synctest.Wait()
		act := e.Active()
		if len(act) != 1 || !r.isLocked("bob") {
			t.Fatalf("active %+v, bob locked %v: want one entry and bob locked", act, r.isLocked("bob"))
		}
		time.Sleep(act[0].Expires.Sub(time.Now()) + 2*time.Second)
		synctest.Wait()
		if act := e.Active(); len(act) != 0 || r.isLocked("bob") {
			t.Errorf("after the second entry's revert: active %+v, bob locked %v", act, r.isLocked("bob"))
		}
	})
}

// refusingKernel is firewall-drop with a batch form whose blocks carry
// kernel timeouts, and whose every batch the kernel refuses.
type refusingKernel struct{ fakeRunner }

func (r *refusingKernel) Group(Command) Group { return refusedGroup{} }

type refusedGroup struct{}

func (refusedGroup) Keys(f Fields) ([]string, error) { return []string{f.SrcIP}, nil }
func (refusedGroup) KernelTimeout() bool             { return true }
func (refusedGroup) Apply(context.Context, []GroupAdd) (func(), error) {
	return nil, errors.New("netlink: operation not permitted")
}

// TestGroup_FailedKernelApplyIsMarked: a batch applied before its commit
// (kernel timeouts) that fails leaves its entries marked in that commit,
// so that the next start applies them: never an active entry with nothing
// in the kernel and nothing to put it there.
func TestGroup_FailedKernelApplyIsMarked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		e, err := New(Options{Store: st, Runner: &refusingKernel{}, Node: "test", BootID: "b"})
		if err != nil {
			t.Fatal(err)
		}
		e.SetConfig(testConfig(time.Hour))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		if err := e.Handle(ctx, stormRecords(1)[0]); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		s, err := st.Load()
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Entries) != 1 || len(s.Marked) != 1 || s.Marked[0].Key != s.Entries[0].Key {
			t.Fatalf("after a refused batch: entries %+v, marks %+v; want the entry marked", s.Entries, s.Marked)
		}
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Hour), "b") // the same boot: only marks are applied
		defer h.stop()
		h.want("add firewall-drop 198.18.0.1 continue 0")
	})
}
