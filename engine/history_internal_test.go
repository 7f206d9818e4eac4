package engine

import (
	"fmt"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// TestHistory_MergeRepeats: events alike but for their alert and time
// become the first of them with a count and the last's alert and time;
// any other difference keeps them apart, and the order of firsts stays.
func TestHistory_MergeRepeats(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	ev := func(target, outcome, alert string, s int) HistoryEvent {
		return HistoryEvent{Target: target, Time: t0.Add(time.Duration(s) * time.Second), Outcome: outcome, AlertID: alert,
			RuleID: "5712", Level: 10, Groups: "sshd,", Line: 12, Command: "fw", Key: "fw-" + target}
	}
	other := ev("203.0.113.7", HistoryAborted, "1.3", 2)
	other.Line = 20
	got := mergeRepeats([]HistoryEvent{
		ev("203.0.113.7", HistoryAborted, "1.1", 0),
		ev("198.51.100.1", HistoryAborted, "2.1", 0),
		ev("203.0.113.7", HistoryAborted, "1.2", 1),
		other,
		ev("203.0.113.7", HistoryReverted, "1.4", 3),
		ev("203.0.113.7", HistoryAborted, "1.5", 4),
	})
	first := ev("203.0.113.7", HistoryAborted, "1.1", 0)
	first.Repeats, first.LastAlertID, first.Last = 2, "1.5", t0.Add(4*time.Second)
	want := []HistoryEvent{first, ev("198.51.100.1", HistoryAborted, "2.1", 0), other, ev("203.0.113.7", HistoryReverted, "1.4", 3)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged:\n got %+v\nwant %+v", got, want)
	}
}

// TestHistory_PendingInOrder: the events pushed come back from take in
// order, however many chunks they fill; past maxPendingHistory they are
// dropped and counted, the take after says when the latest dropped one
// happened, and after a take the room is there again.
func TestHistory_PendingInOrder(t *testing.T) {
	var h history
	n := 3*historyChunk + 7
	for i := range n {
		h.push(HistoryEvent{Target: fmt.Sprintf("2001:db8::%x", i), AlertID: fmt.Sprint(i), Outcome: HistoryApplied})
	}
	evs, gap := h.take()
	if len(evs) != n || !gap.IsZero() {
		t.Fatalf("took %d events (gap %v), want %d and no gap", len(evs), gap, n)
	}
	for i, ev := range evs {
		if ev.AlertID != fmt.Sprint(i) {
			t.Fatalf("event %d is alert %s", i, ev.AlertID)
		}
	}
	if evs, _ := h.take(); len(evs) != 0 {
		t.Errorf("a second take gave %d events", len(evs))
	}

	for i := range maxPendingHistory + 5 {
		h.push(HistoryEvent{Target: "198.51.100.1", AlertID: fmt.Sprint(i), Outcome: HistoryEscaped + SkipLocation, Time: time.Unix(int64(i), 0)})
	}
	if h.dropped != 5 {
		t.Errorf("dropped %d, want 5", h.dropped)
	}
	evs, gap = h.take() // all alike: merged into one
	if len(evs) != 1 || evs[0].Repeats != maxPendingHistory-1 || evs[0].LastAlertID != fmt.Sprint(maxPendingHistory-1) {
		t.Fatalf("took %+v, want one event repeated %d times", evs, maxPendingHistory-1)
	}
	if want := time.Unix(maxPendingHistory+4, 0); !gap.Equal(want) {
		t.Errorf("gap %v, want the last dropped event's time %v", gap, want)
	}
	h.push(HistoryEvent{Target: "198.51.100.2", Outcome: HistoryApplied})
	if evs, gap := h.take(); len(evs) != 1 || !gap.IsZero() {
		t.Errorf("after a take, %d events pushed (gap %v), want 1 and no gap", len(evs), gap)
	}
}

// TestHistory_SharedStrings: a rule id or groups asked for again is the
// same string, not a new one; the strings kept stay bounded.
func TestHistory_SharedStrings(t *testing.T) {
	var h history
	a, b := h.shared([]byte("5760")), h.shared([]byte("5760"))
	if a != "5760" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Errorf("%q and %q are two strings", a, b)
	}
	if c := h.shared([]byte("syslog,sshd")); c != "syslog,sshd" {
		t.Errorf("shared = %q", c)
	}
	for i := range 3 * maxSharedStrings {
		if s := h.shared([]byte(fmt.Sprint(i))); s != fmt.Sprint(i) {
			t.Fatalf("shared(%d) = %q", i, s)
		}
	}
	if len(h.strs) > maxSharedStrings {
		t.Errorf("%d strings kept, want at most %d", len(h.strs), maxSharedStrings)
	}
}
