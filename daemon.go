package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/engine/ossecconf"
	"github.com/threatlockdown/threatlockdown/metrics"
	"github.com/threatlockdown/threatlockdown/platform"
	"github.com/threatlockdown/threatlockdown/platform/actions"
	"github.com/threatlockdown/threatlockdown/platform/control"
	"github.com/threatlockdown/threatlockdown/store"
	"github.com/threatlockdown/threatlockdown/watch"
)

// Paths inside the install root (Wazuh's layout, plus our state under var/).
func (m *Main) confPath() string   { return filepath.Join(m.Root, "etc", "ossec.conf") }
func (m *Main) dbPath() string     { return filepath.Join(m.Root, "var", "db", "threatlockdown.db") }
func (m *Main) alertsPath() string { return filepath.Join(m.Root, "logs", "alerts", "alerts.json") }

// daemonState is what Open sets up and Run runs.
type daemonState struct {
	log     *slog.Logger
	errs    *lastError // the last error logged, for status
	started time.Time
	engine  *engine.Engine
	host    *platform.HostAddrs
	reload  *reloader
	control *control.Server
	metrics *metrics.Metrics // nil without --metrics
	history engine.HistoryReader
	closers []io.Closer // closed by Close, last first
	ran     bool
}

// testHooks let tests and benchmarks look inside the daemon's start; they
// are nil in the binary.
type testHooks struct {
	handler    slog.Handler                      // logs go here instead of Stderr
	wrapStore  func(engine.Store) engine.Store   // called once the store is open
	wrapRunner func(engine.Runner) engine.Runner // called once the runner is made
	bootID     string                            // instead of the OS's
	node       string                            // instead of the host name
	// setMemoryLimit replaces debug.SetMemoryLimit: a test process is not
	// the daemon's to limit (memlimit.go).
	setMemoryLimit func(int64) int64
	// hugeRoom replaces platform.HugeRoom: nor is its heap the daemon's.
	hugeRoom func(int) (int, error)
}

// Serve is `threatlockdown run`: Open, Run until ctx ends, Close. The
// service runs the same.
func (m *Main) Serve(ctx context.Context) error {
	if err := m.Open(); err != nil {
		return err
	}
	err := m.Run(ctx)
	return errors.Join(err, m.Close())
}

// Open lays out the install root when it has no ossec.conf, loads the
// config, opens the store, active-responses.log and the runners, creates
// the engine, which loads the stored state, and listens on the control
// socket (var/run/threatlockdown/control.sock). Nothing runs (no
// command, no timer, no tailer) until Run. On error whatever was opened
// is closed again.
func (m *Main) Open() (err error) {
	if m.d != nil {
		return errors.New("daemon already open")
	}
	d := &daemonState{started: time.Now()}
	m.d = d
	d.log, d.errs = m.logger()
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if err := m.layout(d.log); err != nil {
		return err
	}
	if m.Metrics != "" {
		if d.metrics, err = metrics.Open(m.Metrics); err != nil {
			return err
		}
		d.closers = append(d.closers, d.metrics)
	}
	cfg, raw, err := m.loadConfig()
	if err != nil {
		return err
	}
	st, err := m.openStore()
	if err != nil {
		return err
	}
	d.closers = append(d.closers, st)
	d.history, _ = st.(engine.HistoryReader) // before any wrapper: explain reads it
	if m.hooks.wrapStore != nil {
		st = m.hooks.wrapStore(st)
	}
	st = d.metrics.Store(st)
	var arlog *platform.ARLog // nil in a dry run: a rehearsal writes no line there
	if !m.DryRun {
		if arlog, err = platform.OpenARLog(platform.ARLogPath(m.Root)); err != nil {
			return err
		}
		d.closers = append(d.closers, arlog)
	}
	if err := m.openEngine(st, arlog, cfg, raw); err != nil {
		return err
	}
	return m.listen() // once the store's lock is ours: no other daemon is on this root
}

// openEngine wires the runners, the reloader and the engine.
func (m *Main) openEngine(st engine.Store, arlog *platform.ARLog, cfg *engine.Config, raw []byte) error {
	d, log := m.d, m.d.log
	d.host = platform.NewHostAddrs(log.With("component", "host"))
	d.host.Refresh() // before the first alert; a failure is logged and retried

	// restart is what the built-in restart-wazuh does to us: a reload.
	restart := func() error { d.reload.force(); return nil }
	builtins := actions.NewRunner(actions.Config{Root: m.Root, Logger: log.With("component", "actions"), Restart: restart}, arlog.Programs(log))
	pr := &platform.Runner{Root: m.Root, Logger: log.With("component", "runner"), AnyOwner: m.AnyOwner, DryRun: m.DryRun, Builtins: builtins}
	d.closers = append(d.closers, pr)
	check := func(cfg *engine.Config) { checkScripts(pr, cfg, log) }
	check(cfg)
	d.reload = &reloader{path: m.confPath(), last: raw, loaded: time.Now(), log: log.With("component", "config"), check: check, stats: d.metrics}
	var runner engine.Runner = pr
	if m.hooks.wrapRunner != nil {
		runner = m.hooks.wrapRunner(runner)
	}
	node, boot := m.hooks.node, m.hooks.bootID
	if node == "" {
		node = hostname()
	}
	if boot == "" {
		boot = bootID(log)
	}
	e, err := engine.New(engine.Options{
		Store: st, Runner: runner, Logger: log.With("component", "engine"),
		AgentID: m.AgentID, Node: node, BootID: boot, Host: d.host, Observer: d.metrics.Observer(),
	})
	if err != nil {
		return err
	}
	e.SetConfig(cfg)
	d.engine, d.reload.engine = e, e
	d.metrics.Watch(e, m.alertFiles(), nil)
	log.Info("config loaded", "path", m.confPath(), "commands", len(cfg.Commands), "responses", len(cfg.Responses))
	return nil
}

// Run runs the daemon opened by Open until ctx ends, then stops within a
// few seconds, leaving blocks and pending reverts in place. It may be
// called once.
func (m *Main) Run(ctx context.Context) error {
	d := m.d
	if d == nil || d.engine == nil {
		return errors.New("daemon not open")
	}
	if d.ran {
		return errors.New("daemon already ran")
	}
	d.ran = true
	log, e := d.log, d.engine
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return e.Run(gctx) })
	g.Go(func() error { d.host.Run(gctx); return nil })
	tailing := m.tail(gctx, g, e, log)
	g.Go(func() error {
		if err := watch.File(gctx, m.confPath(), 200*time.Millisecond, d.reload.reload); err != nil {
			log.Error("not watching ossec.conf: changes apply at the next start", "err", err)
		}
		return nil
	})
	m.serveControl(gctx, g)
	g.Go(func() error {
		if err := d.metrics.Serve(gctx); err != nil {
			log.Error("metrics endpoint stopped", "err", err)
		}
		return nil
	})
	g.Go(func() error {
		gov := newMemoryGovernor(os.Getenv)
		if m.hooks.setMemoryLimit != nil {
			gov.setLimit = m.hooks.setMemoryLimit
		}
		if m.hooks.hugeRoom != nil {
			gov.hugeRoom = m.hooks.hugeRoom
		}
		gov.run(gctx, e, log)
		return nil
	})
	g.Go(func() error {
		tailing.Wait()
		log.Info("ready", "root", m.Root, "alerts", strings.Join(m.alertFiles(), ","), "agent_id", m.AgentID, "dry_run", m.DryRun)
		if m.Ready != nil {
			close(m.Ready)
		}
		return nil
	})
	err := g.Wait()
	log.Info("stopped", "stats", statsLine(e.Stats()))
	return err
}

// Close closes what Open opened, last first. It is safe after a failed
// Open and more than once.
func (m *Main) Close() error {
	if m.d == nil {
		return nil
	}
	var errs []error
	for _, c := range slices.Backward(m.d.closers) {
		errs = append(errs, c.Close())
	}
	m.d.closers = nil
	return errors.Join(errs...)
}

// tail starts a tailer per alerts file, feeding e. The returned group is
// done once every tailer has chosen where it reads from (or has ended).
func (m *Main) tail(ctx context.Context, g *errgroup.Group, e *engine.Engine, log *slog.Logger) *sync.WaitGroup {
	var tailing sync.WaitGroup
	for _, path := range m.alertFiles() {
		t := watch.NewTailer(path, formatOf(path), e.Position(path), log)
		tailing.Add(1)
		started := sync.OnceFunc(tailing.Done)
		t.Started = func(p engine.Position) { e.MarkPosition(p); started() }
		feed := e.Feed()
		t.Flushed = feed.Flush
		g.Go(func() error {
			defer started()
			return t.Run(ctx, m.d.metrics.Read(path, func(r engine.Record) error { return feed.Handle(ctx, r) }))
		})
	}
	return &tailing
}

// logger is the daemon's logger: text on Stderr (or a test's handler),
// remembering the last error for status.
func (m *Main) logger() (*slog.Logger, *lastError) {
	h := m.hooks.handler
	if h == nil {
		w := m.Stderr
		if w == nil {
			w = os.Stderr
		}
		h = slog.NewTextHandler(w, &slog.HandlerOptions{Level: m.LogLevel})
	}
	if m.eventLog != nil {
		h = &eventLogHandler{Handler: h, el: m.eventLog}
	}
	errs := &lastError{}
	return slog.New(&errorTap{Handler: h, last: errs}), errs
}

// layout creates the install root with the embedded default ossec.conf when
// it has none, so a first run on an empty directory just works.
func (m *Main) layout(log *slog.Logger) error {
	if _, err := os.Stat(m.confPath()); err == nil || !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, d := range []string{"etc", "logs/alerts", "active-response/bin", "var/db"} {
		if err := os.MkdirAll(filepath.Join(m.Root, d), 0o750); err != nil {
			return err
		}
	}
	if err := os.WriteFile(m.confPath(), ossecconf.Default, 0o640); err != nil {
		return err
	}
	log.Warn("no ossec.conf: laid out a new root with the embedded default", "root", m.Root, "config", m.confPath())
	return nil
}

func (m *Main) loadConfig() (*engine.Config, []byte, error) {
	raw, err := os.ReadFile(m.confPath())
	if err != nil {
		return nil, nil, err
	}
	cfg, err := ossecconf.Parse(bytes.NewReader(raw), m.confPath())
	return cfg, raw, err
}

func (m *Main) openStore() (engine.Store, error) {
	if m.DryRun {
		mem := store.NewMemory() // a rehearsal leaves the real state alone
		mem.SetHistory(m.History, 0)
		return mem, nil
	}
	return store.Open(m.dbPath(), store.WithHistory(m.History, 0))
}

// checkScripts logs each command of cfg whose file in active-response/bin
// the runner will refuse (unsafe, not executable): at start and on reload,
// so that it is known before an alert needs it. The runner checks again
// before each run.
func checkScripts(r *platform.Runner, cfg *engine.Config, log *slog.Logger) {
	for _, c := range cfg.Commands {
		if err := r.Check(c.Executable); err != nil {
			log.Error("command will not run", "command", c.Name, "err", err)
		}
		if c.Protocol == engine.ProtocolLegacy && c.Expect == nil {
			// As in OSSEC and Wazuh 4.1, but rarely what was meant.
			log.Warn("legacy command without <expect>: its script gets - for user, srcip and filename; add <expect>srcip</expect> (or user)",
				"command", c.Name, "line", c.Line)
		}
	}
}

func (m *Main) alertFiles() []string {
	if len(m.Alerts) == 0 {
		return []string{m.alertsPath()}
	}
	return m.Alerts
}

// formatOf tells alerts.log (text) from alerts.json by the file name.
func formatOf(path string) engine.Format {
	if strings.HasSuffix(path, ".log") {
		return engine.FormatText
	}
	return engine.FormatJSON
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

func bootID(log *slog.Logger) string {
	id, err := platform.BootID()
	if err != nil {
		log.Warn("no boot id: blocks a reboot wiped are not re-applied", "err", err)
	}
	return id
}

func statsLine(s *engine.Stats) string {
	return fmt.Sprintf("alerts=%d malformed=%d matched=%d commands=%d skipped=%d",
		s.Alerts.Load(), s.Malformed.Load(), s.Matched.Load(), s.Jobs.Load(), s.Skipped.Load())
}
