package metrics

import (
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/threatlockdown/threatlockdown/engine"
)

// engineCollector reads the engine's counters and table, and the alerts
// files' sizes, at each scrape.
type engineCollector struct {
	e     *engine.Engine
	files []string
	now   func() time.Time

	malformed, matched, repaired *prometheus.Desc
	historyDropped               *prometheus.Desc
	active, overdue, lag         *prometheus.Desc
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// Watch adds the engine's counters and table, and the tail lag of the
// alerts files it reads, to m. now is the clock for overdue reverts
// (time.Now when nil).
func (m *Metrics) Watch(e *engine.Engine, files []string, now func() time.Time) {
	if m == nil {
		return
	}
	if now == nil {
		now = time.Now
	}
	m.reg.MustRegister(&engineCollector{
		e: e, files: files, now: now,
		malformed: desc("alerts_malformed_total", "Records that could not be decoded."),
		matched:   desc("alerts_matched_total", "Alert-response pairs that triggered (run or skipped)."),
		repaired:  desc("blocks_repaired_total", "Blocks put back after they went missing from the OS."),
		historyDropped: desc("history_dropped_total",
			"History events dropped: more escaped (or other) events than one commit takes waited at once."),
		active:  desc("active_responses", "Entries in the table of active responses, by command.", "command"),
		overdue: desc("reverts_overdue", "Entries past their expiry whose delete has not finished."),
		lag:     desc("tail_lag_bytes", "Bytes of the alerts file not yet handled.", "file"),
	})
}

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.malformed, c.matched, c.repaired, c.historyDropped, c.active, c.overdue, c.lag} {
		ch <- d
	}
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.e.Stats()
	ch <- prometheus.MustNewConstMetric(c.malformed, prometheus.CounterValue, float64(s.Malformed.Load()))
	ch <- prometheus.MustNewConstMetric(c.matched, prometheus.CounterValue, float64(s.Matched.Load()))
	ch <- prometheus.MustNewConstMetric(c.repaired, prometheus.CounterValue, float64(s.Repaired.Load()))
	ch <- prometheus.MustNewConstMetric(c.historyDropped, prometheus.CounterValue, float64(c.e.HistoryDropped()))
	tc := c.e.Table(c.now())
	for cmd, n := range tc.Active {
		ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(n), cmd)
	}
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(tc.Overdue))
	for _, f := range c.files {
		if lag, ok := tailLag(f, c.e.Position(f)); ok {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(lag), f)
		}
	}
}

// tailLag is the size of the file at path past the offset handled; a file
// shorter than the offset is a new one (rotated), unread. See the package
// doc for its caveat.
func tailLag(path string, pos engine.Position) (int64, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	if fi.Size() < pos.Offset {
		return fi.Size(), true
	}
	return fi.Size() - pos.Offset, true
}
