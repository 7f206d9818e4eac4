package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// BenchmarkHistory_GroupCommit is the cost of the history in the group
// commit, as the engine writes it in a storm: groups of 1,024 decisions
// with the alerts' position, with (history=true) or without
// (history=false) one history event per decision. distinct: every alert
// from a new address, each a Put with its Params (compressed) and its
// offence count, the table growing; repeat: 64 addresses over and over,
// aborts, which the engine writes once per key and group (a Put without
// Params) and whose events the engine merges (one record per address and
// group, HistoryEvent.Repeats), each address at its cap of 1,000 records
// so that every record also trims one. Compare the ns/op of true and
// false (one op is one group).
func BenchmarkHistory_GroupCommit(b *testing.B) {
	const group = 1024
	for _, mode := range []string{"distinct", "repeat"} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/history=%v", mode, on), func(b *testing.B) {
				window := time.Duration(0)
				if !on {
					window = -1
				}
				db := mustOpen(b, filepath.Join(b.TempDir(), "state.db"), WithHistory(window, 0))
				now := time.Now()
				n := 0
				if mode == "repeat" && on { // every target at its cap first
					for range DefaultHistoryPerTarget {
						if err := db.Apply(historyGroup(now, &n, group, mode, on)); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ResetTimer()
				for b.Loop() {
					b.StopTimer() // building the alerts is not the commit's cost
					c := historyGroup(now, &n, group, mode, on)
					b.StartTimer()
					if err := db.Apply(c); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*group)/b.Elapsed().Seconds(), "decisions/s")
			})
		}
	}
}

// historyGroup is the n-th group of the benchmark: decisions n..n+group.
func historyGroup(now time.Time, n *int, group int, mode string, on bool) engine.Change {
	c := engine.Change{Offences: make(map[string]int, group)}
	for range group {
		i := *n
		*n++
		addr := i
		if mode == "repeat" {
			addr = i % 64
		}
		e := realEntry(addr, now)
		e.Seq = uint64(i + 1)
		if mode == "repeat" {
			e.Params = nil // an abort keeps the stored alert
		}
		if _, seen := c.Offences[e.Key]; !seen { // one Put per key and group, as the engine's
			c.Put = append(c.Put, e)
		}
		c.Offences[e.Key] = i/64 + 1
		if on {
			target := e.Fields.SrcIP
			at := now.Add(time.Duration(i) * time.Millisecond)
			ev := engine.HistoryEvent{Target: target, Time: at, Outcome: engine.HistoryApplied,
				AlertID: e.Fields.AlertID, RuleID: "5712", Level: 10,
				Groups: "syslog,sshd,authentication_failures,pci_dss_11.4,pci_dss_10.2.4,pci_dss_10.2.5,gdpr_iv_35.7.d,",
				Line:   12, Command: "firewall-drop", Key: e.Key}
			if mode == "repeat" {
				ev.Outcome = engine.HistoryAborted
				if i%group >= 64 { // merged into the address's first of the group
					first := &c.History[i%64]
					first.Repeats++
					first.LastAlertID, first.Last = ev.AlertID, ev.Time
					continue
				}
			}
			c.History = append(c.History, ev)
		}
	}
	c.Positions = []engine.Position{{Source: "/var/ossec/logs/alerts/alerts.json", FileID: "2049:131", Offset: int64(*n) * 1700}}
	return c
}
