package engine

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestBacklog_HoldsTheReader: while the commands run slower than alerts
// make jobs, reading waits once max adds are queued, and goes on when half
// have started; every alert's add runs once. A reader that stops while it
// waits returns.
func TestBacklog_HoldsTheReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		r := &fakeRunner{stateless: true, hook: func(Invocation) { <-release }}
		h := startEngineOpts(t, newMemStore(), r, testConfig(0), Options{BootID: "b", Workers: 2})
		defer h.stop()
		h.e.backlog.mu.Lock()
		h.e.backlog.max = 8
		h.e.backlog.mu.Unlock()

		// More than the commit pipeline holds (see handledRecords), which
		// the backlog does not count: reading is held only once its adds
		// are queued.
		const alerts = 8 * maxGroup
		var fed atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			f := h.e.Feed()
			for i := range alerts {
				if err := f.Handle(context.Background(), feedRecord("5712", stormIP(i), int64(100*(i+1)))); err != nil {
					t.Error(err)
				}
				fed.Add(1)
			}
			f.Flush()
		}()
		synctest.Wait()
		h.e.backlog.mu.Lock()
		queued := h.e.backlog.n
		h.e.backlog.mu.Unlock()
		if n := fed.Load(); n == alerts || queued < 8 || queued > 8+6*maxGroup {
			t.Errorf("with every worker busy: %d alerts read, %d adds queued; want reading held once 8 are", n, queued)
		}
		close(release)
		<-done
		synctest.Wait()
		var want []string
		for i := range alerts {
			want = append(want, fmt.Sprintf("add firewall-drop %s  1.%d", stormIP(i), 100*(i+1)))
		}
		got := r.seen()
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("adds run:\n got %q\nwant %q", got, want)
		}
	})
}

// stormIP is the i-th attacker, in 198.18.0.0/15.
func stormIP(i int) string { return fmt.Sprintf("198.%d.%d.%d", 18+i>>16, i>>8&255, i&255) }

// TestBacklog_WaitEndsWithContext: a reader held by the backlog returns
// when its context ends.
func TestBacklog_WaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := backlog{max: 1}
		b.queued()
		ctx, cancel := context.WithCancel(context.Background())
		returned := make(chan struct{})
		go func() { b.wait(ctx); close(returned) }()
		synctest.Wait()
		select {
		case <-returned:
			t.Fatal("wait returned with the backlog full")
		default:
		}
		time.Sleep(time.Hour)
		cancel()
		<-returned
		b.started()
		b.wait(context.Background()) // room again: returns at once
	})
}
