package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// gatedStore is a memStore whose commits wait until gate is closed: a
// store stuck in a slow fsync.
type gatedStore struct {
	*memStore
	gate    chan struct{}
	commits atomic.Int32 // Apply calls, waiting or done
}

func (s *gatedStore) Apply(c Change) error {
	s.commits.Add(1)
	<-s.gate
	return s.memStore.Apply(c)
}

// applyRunner is a runner whose commands all have a batch form with kernel
// timeouts; it records the keys of each add as it is applied.
type applyRunner struct {
	mu      sync.Mutex
	applied []string
}

func (*applyRunner) Run(context.Context, Invocation, CheckKeys) error { return nil }
func (r *applyRunner) Group(Command) Group                            { return applyGroup{r} }

func (r *applyRunner) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.applied)
}

type applyGroup struct{ r *applyRunner }

func (applyGroup) Keys(f Fields) ([]string, error) { return []string{f.SrcIP}, nil }
func (applyGroup) KernelTimeout() bool             { return true }
func (g applyGroup) Apply(_ context.Context, adds []GroupAdd) (func(), error) {
	g.r.mu.Lock()
	defer g.r.mu.Unlock()
	for _, a := range adds {
		g.r.applied = append(g.r.applied, a.Keys[0])
	}
	return nil, nil
}

// TestEngine_BlocksGoOnWhileACommitIsSlow: alerts that come one at a time
// while a store commit is stuck have their kernel-timeout blocks applied
// each at once, not after the commit (the commit loop waited behind it once
// two groups were queued); when the commit ends, the groups that waited are
// written in one commit.
func TestEngine_BlocksGoOnWhileACommitIsSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &gatedStore{memStore: newMemStore(), gate: make(chan struct{})}
		r := &applyRunner{}
		e, ctx := runFirewallDrop(t, st, r)
		release := sync.OnceFunc(func() { close(st.gate) })
		t.Cleanup(release)       // before the engine stops, should the test fail
		recs := stormRecords(20) // each address twice: one of each
		var want []string
		for i := 0; i < len(recs); i += 2 {
			if err := e.Handle(ctx, recs[i]); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			want = append(want, fmt.Sprintf("198.18.0.%d", i/2+1))
			if got := r.seen(); !slices.Equal(got, want) {
				t.Fatalf("alert %d: applied %q, want %q (the first commit still waits)", i/2+1, got, want)
			}
		}
		if n := st.commits.Load(); n != 1 {
			t.Fatalf("%d commits begun while the first waits, want 1", n)
		}
		release()
		synctest.Wait()
		if n := st.commits.Load(); n != 2 {
			t.Errorf("%d commits, want 2: the first, then the nine groups that waited in one", n)
		}
		if got := len(st.entries()); got != 10 {
			t.Errorf("%d entries stored, want 10", got)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if p := st.st.Positions["alerts.json"]; p.Offset != recs[18].Pos.Offset {
			t.Errorf("position %d stored, want %d (the last alert's)", p.Offset, recs[18].Pos.Offset)
		}
	})
}

// TestWriteQueue_Bounds: the commit loop waits once queuedRecords records
// wait for the writer, however they are grouped, and the writer takes all
// that wait, in order, many small groups in one commit.
func TestWriteQueue_Bounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newWriteQueue()
		var pushed []*batch
		for range queuedRecords / 1024 {
			b := &batch{records: 1024}
			pushed = append(pushed, b)
			q.push(b)
		}
		last := &batch{records: maxGroup}
		done := make(chan struct{})
		go func() { defer close(done); q.push(last) }()
		synctest.Wait()
		select {
		case <-done:
			t.Fatalf("a push went through with %d records waiting", queuedRecords)
		default:
		}
		if bs := q.take(); !slices.Equal(bs, pushed) {
			t.Fatalf("took %d groups, want the %d waiting", len(bs), len(pushed))
		}
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("the push still waits once the writer took the queue")
		}
		want := []*batch{last}
		for range queuedRecords - maxGroup {
			b := &batch{records: 1}
			want = append(want, b)
			q.push(b) // one alert at a time: a group of one record each
		}
		q.close()
		if bs := q.take(); !slices.Equal(bs, want) {
			t.Errorf("took %d groups, want the %d waiting", len(bs), len(want))
		}
		for range 2 {
			if bs := q.take(); bs != nil {
				t.Errorf("took %d groups from a closed, empty queue", len(bs))
			}
		}
	})
}

// TestWriteQueue_WaitsForTheGroupBeingPrepared: when nothing taken waits
// for the commit, the writer waits for the group being prepared and commits
// it with the others, even when the groups it took filled the queue; a
// group with a job to dispatch is committed at once.
func TestWriteQueue_WaitsForTheGroupBeingPrepared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newWriteQueue()
		full := []*batch{{records: maxGroup}, {records: maxGroup}} // queuedRecords
		for _, b := range full {
			q.push(b)
		}
		q.startPreparing()
		took := make(chan []*batch, 1)
		go func() { took <- q.take() }()
		synctest.Wait()
		select {
		case bs := <-took:
			t.Fatalf("took %d groups while the next was being prepared", len(bs))
		default:
		}
		next := &batch{records: 1}
		q.push(next) // room was made when the writer took the queue
		if bs := <-took; !slices.Equal(bs, append(full, next)) {
			t.Errorf("took %d groups, want the three", len(bs))
		}

		waits := &batch{records: 1, single: []Job{{ID: 1}}}
		q.push(waits)
		q.startPreparing()
		if bs := q.take(); !slices.Equal(bs, []*batch{waits}) {
			t.Errorf("took %d groups, want the one whose job waits", len(bs))
		}
	})
}
