package metrics

import (
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/threatlockdown/threatlockdown/engine"
)

const namespace = "threatlockdown"

// Config reload outcomes (Metrics.Reloaded).
const (
	ReloadApplied = "applied" // a valid new config was swapped in
	ReloadInvalid = "invalid" // the new config was refused; the running one stays
	ReloadFailed  = "failed"  // the file could not be read
)

// Metrics holds the daemon's metrics. Create it with New.
type Metrics struct {
	reg *prometheus.Registry

	read     *prometheus.CounterVec
	skipped  *prometheus.CounterVec
	commands *prometheus.CounterVec
	duration *prometheus.HistogramVec
	latency  *prometheus.HistogramVec
	commit   prometheus.Histogram
	commitKO prometheus.Counter
	reloads  *prometheus.CounterVec

	ln net.Listener // set by Open
}

var _ engine.Observer = (*Metrics)(nil)

// Buckets, in seconds: commands run from a millisecond (a netlink batch)
// to their 60 s time limit; store commits are an fsync or a few.
var (
	runBuckets    = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	commitBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
)

// New returns the metrics, registered with the Go and process collectors,
// served by nothing (Open listens too).
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		read: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "alerts_read_total",
			Help: "Records read from each alerts file."}, []string{"file"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "alerts_skipped_total",
			Help: "Alert-response pairs that triggered but did not run, by reason."}, []string{"reason"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "commands_total",
			Help: "Adds and deletes of each command by outcome: continue or abort (the answer to check_keys), " +
				"done (ran without asking), failed, timed_out."}, []string{"command", "op", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "command_duration_seconds",
			Help: "How long each run of a command took; a batch of built-in adds is one run.", Buckets: runBuckets},
			[]string{"command", "op"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "alert_to_action_seconds",
			Help: "From an alert handled to its add in effect (its command ran, or its batch was applied).", Buckets: runBuckets},
			[]string{"command"}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "store_commit_duration_seconds",
			Help: "How long each write to the store took, its fsync included.", Buckets: commitBuckets}),
		commitKO: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "store_commit_errors_total",
			Help: "Writes to the store that failed."}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "config_reloads_total",
			Help: "Reloads of ossec.conf by outcome: applied, invalid (the running config stays), failed (unreadable)."},
			[]string{"outcome"}),
	}
	for _, r := range engine.SkipReasons {
		m.skipped.WithLabelValues(r)
	}
	for _, o := range []string{ReloadApplied, ReloadInvalid, ReloadFailed} {
		m.reloads.WithLabelValues(o)
	}
	m.reg.MustRegister(m.read, m.skipped, m.commands, m.duration, m.latency, m.commit, m.commitKO, m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observer returns m as the engine's Observer: nil when m is nil.
func (m *Metrics) Observer() engine.Observer {
	if m == nil {
		return nil
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Skipped counts a triggered response that did not run.
func (m *Metrics) Skipped(_ *engine.Response, reason string) {
	m.skipped.WithLabelValues(reason).Inc()
}

// Ran counts an add or delete of c by outcome.
func (m *Metrics) Ran(c *engine.Command, op engine.Op, o engine.Outcome) {
	m.commands.WithLabelValues(c.Name, string(op), string(o)).Inc()
}

// Took observes the duration of one run of c.
func (m *Metrics) Took(c *engine.Command, op engine.Op, d time.Duration) {
	m.duration.WithLabelValues(c.Name, string(op)).Observe(d.Seconds())
}

// Acted observes the alert-to-action latency of an add of c.
func (m *Metrics) Acted(c *engine.Command, latency time.Duration) {
	m.latency.WithLabelValues(c.Name).Observe(latency.Seconds())
}

// Reloaded counts a reload of ossec.conf with its outcome (Reload*).
func (m *Metrics) Reloaded(outcome string) {
	if m != nil {
		m.reloads.WithLabelValues(outcome).Inc()
	}
}

// Read returns the handler of the records of the alerts file path: it
// counts each and passes it on to h.
func (m *Metrics) Read(path string, h func(engine.Record) error) func(engine.Record) error {
	if m == nil {
		return h
	}
	c := m.read.WithLabelValues(path)
	return func(r engine.Record) error {
		c.Inc()
		return h(r)
	}
}
