package engine

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// feedRecord is a record of alerts.json ending at offset end: an sshd alert
// of rule, which testConfig blocks when it is 5712.
func feedRecord(rule, srcip string, end int64) Record {
	line := fmt.Sprintf(`{"rule":{"level":10,"id":%q,"groups":["sshd"]},"id":"1.%d","data":{"srcip":%q}}`, rule, end, srcip)
	return Record{Data: []byte(line), Pos: Position{Source: "alerts.json", FileID: "1:2", Offset: end}}
}

// TestFeed_PositionAtFlush: the records that trigger nothing move the
// position and the count of alerts only at Flush, to the last of them.
func TestFeed_PositionAtFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(time.Minute), "b")
		defer h.stop()
		f := h.e.Feed()
		for _, end := range []int64{100, 200, 300} {
			if err := f.Handle(context.Background(), feedRecord("5710", "203.0.113.1", end)); err != nil {
				t.Fatal(err)
			}
		}
		if p := h.e.Position("alerts.json"); p.Offset != 0 {
			t.Errorf("position before Flush: %+v, want none", p)
		}
		if n := h.e.Stats().Alerts.Load(); n != 0 {
			t.Errorf("alerts counted before Flush: %d", n)
		}
		f.Flush()
		if p := h.e.Position("alerts.json"); p.Offset != 300 || p.FileID != "1:2" {
			t.Errorf("position after Flush: %+v, want offset 300", p)
		}
		if n := h.e.Stats().Alerts.Load(); n != 3 {
			t.Errorf("alerts counted: %d, want 3", n)
		}
		f.Flush() // nothing new: nothing moves
		if p := h.e.Position("alerts.json"); p.Offset != 300 {
			t.Errorf("position after a second Flush: %+v", p)
		}
	})
}

// TestFeed_TriggeringRecordPassesPending: a record that triggers a job
// carries its own position; the pending position of the records before it
// is dropped, never published after it (it would move the position back),
// and the job runs and is written with its position.
func TestFeed_TriggeringRecordPassesPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Minute), "b")
		defer h.stop()
		f := h.e.Feed()
		ctx := context.Background()
		for _, r := range []Record{feedRecord("5710", "203.0.113.1", 100), feedRecord("5712", "203.0.113.2", 200)} {
			if err := f.Handle(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		f.Flush()
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.2 continue 1.200")
		if p := h.e.Position("alerts.json"); p.Offset != 200 {
			t.Errorf("position: %+v, want the triggering record's, 200", p)
		}
		if n := h.e.Stats().Alerts.Load(); n != 2 {
			t.Errorf("alerts counted: %d, want 2", n)
		}
		time.Sleep(2 * time.Second) // the periodic write of positions
		synctest.Wait()
		st.mu.Lock()
		stored := st.st.Positions["alerts.json"]
		st.mu.Unlock()
		if stored.Offset != 200 {
			t.Errorf("stored position %+v, want 200", stored)
		}
		// A record after it that triggers nothing moves the position on at
		// the next Flush.
		if err := f.Handle(ctx, feedRecord("5710", "203.0.113.3", 300)); err != nil {
			t.Fatal(err)
		}
		f.Flush()
		if p := h.e.Position("alerts.json"); p.Offset != 300 {
			t.Errorf("position: %+v, want 300", p)
		}
	})
}

// TestFeed_MalformedPassesPending: a malformed record's position is
// published at once, and the records before it, pending, do not move the
// position back at Flush.
func TestFeed_MalformedPassesPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(time.Minute), "b")
		defer h.stop()
		f := h.e.Feed()
		ctx := context.Background()
		if err := f.Handle(ctx, feedRecord("5710", "203.0.113.1", 100)); err != nil {
			t.Fatal(err)
		}
		bad := Record{Data: []byte(`{"rule":`), Pos: Position{Source: "alerts.json", FileID: "1:2", Offset: 200}}
		if err := f.Handle(ctx, bad); err != nil {
			t.Fatal(err)
		}
		if p := h.e.Position("alerts.json"); p.Offset != 200 {
			t.Errorf("position after the malformed record: %+v, want 200", p)
		}
		f.Flush()
		if p := h.e.Position("alerts.json"); p.Offset != 200 {
			t.Errorf("position after Flush: %+v, want 200", p)
		}
		if n, m := h.e.Stats().Alerts.Load(), h.e.Stats().Malformed.Load(); n != 2 || m != 1 {
			t.Errorf("alerts %d, malformed %d; want 2 and 1", n, m)
		}
	})
}
