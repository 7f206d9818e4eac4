package engine

import (
	"reflect"
	"testing"
	"time"
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
