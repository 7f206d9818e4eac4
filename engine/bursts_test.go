package engine

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestEngine_BurstsAfterAStorm: a commit of a storm's entries is reported
// on Bursts, once however many commits it took; a lone block is not.
func TestEngine_BurstsAfterAStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(0)
		e, err := New(Options{Store: worldStore{w, 0}, Runner: &worldRunner{w: w, kernel: true}, Node: "test"})
		if err != nil {
			t.Fatal(err)
		}
		fw := &Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
		e.SetConfig(&Config{Commands: []*Command{fw}, Responses: []*Response{{Command: fw, RulesID: []string{"5712"}, Timeout: time.Hour}}})
		ctx, cancel := context.WithCancel(context.Background())
		recs := stormRecords(2*BurstEntries + 2)  // each address twice
		for _, r := range recs[:2*BurstEntries] { // queued before Run: one group
			if err := e.Handle(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		defer func() { cancel(); <-done }()
		synctest.Wait()
		select {
		case <-e.Bursts():
		default:
			t.Fatalf("no burst reported after a storm of %d", BurstEntries)
		}
		if err := e.Handle(ctx, recs[2*BurstEntries]); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		select {
		case <-e.Bursts():
			t.Error("a burst reported for a lone block")
		default:
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if len(w.kernel) != BurstEntries+1 {
			t.Errorf("%d blocks in the kernel, want %d", len(w.kernel), BurstEntries+1)
		}
	})
}

// logRunner is a runner whose commands all have a batch form that blocks
// at once and records, when its log lines are started, whether the store
// held the entries they are about.
type logRunner struct {
	st     *memStore
	kernel bool
	mu     sync.Mutex
	logged []bool // per add: its entry was in the store when its lines started
}

func (r *logRunner) Run(context.Context, Invocation, CheckKeys) error { return nil }
func (r *logRunner) Group(Command) Group                              { return logGroup{r} }

type logGroup struct{ r *logRunner }

func (logGroup) Keys(f Fields) ([]string, error) { return []string{f.SrcIP}, nil }
func (g logGroup) KernelTimeout() bool           { return g.r.kernel }
func (g logGroup) Apply(_ context.Context, adds []GroupAdd) (func(), error) {
	return func() {
		st, _ := g.r.st.Load()
		in := map[string]bool{}
		for _, e := range st.Entries {
			in[e.Key] = true
		}
		g.r.mu.Lock()
		defer g.r.mu.Unlock()
		for _, a := range adds {
			g.r.logged = append(g.r.logged, in[TableKey("firewall-drop", a.Keys)])
		}
	}, nil
}

// TestGroup_LogsStartOnceCommitted: a group's log lines are started once
// its entries are durable, for blocks applied before the commit (kernel
// timeouts) and after it alike, each add's once.
func TestGroup_LogsStartOnceCommitted(t *testing.T) {
	for _, kernel := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			st := newMemStore()
			r := &logRunner{st: st, kernel: kernel}
			e, ctx := runFirewallDrop(t, st, r)
			recs := stormRecords(20) // 10 addresses, each twice
			for _, rec := range recs {
				if err := e.Handle(ctx, rec); err != nil {
					t.Fatal(err)
				}
			}
			synctest.Wait()
			r.mu.Lock()
			defer r.mu.Unlock()
			if len(r.logged) != len(recs) {
				t.Fatalf("kernel %v: lines started for %d adds, want %d", kernel, len(r.logged), len(recs))
			}
			for i, in := range r.logged {
				if !in {
					t.Errorf("kernel %v: the lines of add %d started before its entry was written", kernel, i)
				}
			}
		})
	}
}
