package engine

import (
	"context"
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
