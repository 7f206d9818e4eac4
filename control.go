package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/control"
)

// version is set at build time by the packages (-ldflags "-X main.version=...").
var version = ""

// versionString is version, else the module's version and VCS revision.
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// sockPath is the control socket under the install root, in a directory of
// its own: var/run itself is Wazuh's too (root:wazuh 0770), and stays so.
func (m *Main) sockPath() string {
	return filepath.Join(m.Root, "var", "run", "threatlockdown", "control.sock")
}

// listen opens the control socket (Open calls it once the store is ours).
// The daemon takes the socket over from a dry run answering on it; a dry
// run, which holds no store lock, never takes it from a daemon: it goes on
// without one.
func (m *Main) listen() error {
	log := m.d.log.With("component", "control")
	listen := control.ListenOver
	if m.DryRun {
		listen = control.Listen
	}
	srv, err := listen(m.sockPath(), log)
	if m.DryRun && errors.Is(err, control.ErrInUse) {
		log.Warn("another daemon answers on the control socket: this dry run has none", "path", m.sockPath())
		return nil
	}
	if err != nil {
		return err
	}
	m.d.control = srv
	m.d.closers = append(m.d.closers, srv)
	return nil
}

// serveControl answers the control socket while the daemon runs.
func (m *Main) serveControl(ctx context.Context, g *errgroup.Group) {
	if m.d.control == nil {
		return // a dry run beside a daemon
	}
	g.Go(func() error { return m.d.control.Serve(ctx, m.handle) })
}

// handle answers one control request. ctx is the daemon's run context, so
// a client that goes away does not cut a delete short.
func (m *Main) handle(ctx context.Context, p control.Peer, r control.Request) (any, error) {
	d := m.d
	switch r.Command {
	case "status":
		return m.status(), nil
	case "list":
		return entryViews(d.engine.Active()), nil
	case "explain":
		var active []engine.ActiveEntry
		if len(r.Args) == 1 {
			names := namedBy(r.Args[0])
			active = d.engine.ActiveWhere(func(e *engine.Entry) bool { return names(e.Key, e.Fields) })
		}
		return m.explainRequest(r, d.engine.Explain, active, d.history, d.engine.HistoryDropped())
	case "unblock":
		return m.unblock(ctx, p, r)
	case "trigger":
		return m.trigger(ctx, p, r)
	case "reload":
		d.log.Info("reload requested", "component", "control", "by", p)
		changes, err := d.reload.force()
		if err != nil {
			return nil, errors.New(joinLines(errorLines(err)))
		}
		if changes == nil {
			changes = []string{"no change to active response"}
		}
		return changes, nil
	}
	return nil, fmt.Errorf("unknown command %q", r.Command)
}

// statusView is what status reports.
type statusView struct {
	Version      string            `json:"version"`
	Root         string            `json:"root"`
	UpSince      time.Time         `json:"up_since"`
	Config       string            `json:"config"`
	ConfigLoaded time.Time         `json:"config_loaded"`
	DryRun       bool              `json:"dry_run"`
	Alerts       uint64            `json:"alerts_read"`
	Malformed    uint64            `json:"alerts_malformed"`
	Matched      uint64            `json:"responses_matched"`
	Skipped      uint64            `json:"responses_skipped"`
	SkippedBy    map[string]uint64 `json:"responses_skipped_by_reason"`
	Dispatched   uint64            `json:"commands_dispatched"`
	Repaired     uint64            `json:"blocks_repaired"`
	HistoryLost  uint64            `json:"history_events_dropped"`
	Active       int               `json:"active_responses"`
	Running      int               `json:"commands_running"`
	LastError    string            `json:"last_error,omitempty"`
	LastErrorAt  time.Time         `json:"last_error_at,omitzero"`
}

func (m *Main) status() statusView {
	d := m.d
	s := d.engine.Stats()
	at, text := d.errs.get()
	return statusView{
		Version: versionString(), Root: m.Root, UpSince: d.started, Config: m.confPath(),
		ConfigLoaded: d.reload.loadedAt(), DryRun: m.DryRun,
		Alerts: s.Alerts.Load(), Malformed: s.Malformed.Load(), Matched: s.Matched.Load(),
		Skipped: s.Skipped.Load(), SkippedBy: s.SkippedBy(), Dispatched: s.Jobs.Load(), Repaired: s.Repaired.Load(),
		HistoryLost: d.engine.HistoryDropped(),
		// Entries, not len(Active()): status must stay cheap with 100,000
		// blocks (Active copies and sorts every entry: 240 B each, 24 MB then).
		Active: d.engine.Entries(), Running: d.engine.Running(), LastError: text, LastErrorAt: at,
	}
}

// entryView is one active response as list shows it.
type entryView struct {
	Key        string    `json:"key"`
	Command    string    `json:"command"`
	Executable string    `json:"executable"`
	Target     string    `json:"target"`
	Since      time.Time `json:"since"`
	Until      time.Time `json:"until"`
	Offences   int       `json:"offences"`
	AlertID    string    `json:"alert_id"`
	RuleID     string    `json:"rule_id"`
	State      string    `json:"state"`
}

func entryViews(active []engine.ActiveEntry) []entryView {
	out := make([]entryView, 0, len(active))
	for _, a := range active {
		state := "active"
		switch {
		case a.Deleting:
			state = "reverting"
		case a.Pending:
			state = "deciding"
		}
		out = append(out, entryView{
			Key: a.Key, Command: a.Command.Name, Executable: a.Command.Executable, Target: target(a.Fields),
			Since: a.Created, Until: a.Expires, Offences: a.Offences, AlertID: a.Fields.AlertID,
			RuleID: a.Fields.RuleID, State: state,
		})
	}
	return out
}

// target is what an entry acts on: its address, else its user.
func target(f engine.Fields) string {
	if f.SrcIP != "-" && f.SrcIP != "" {
		return f.SrcIP
	}
	return f.User
}

// namedBy returns whether an entry, by its key and fields, is the one who
// names: its key, or its target (target) in any spelling of an address
// (2001:DB8::1 is 2001:db8::1, ::ffff:203.0.113.9 is 203.0.113.9; entries
// keep the alert's spelling). It is called under the engine's lock, for
// every entry: an address is parsed only where the strings differ and the
// entry's has a colon.
func namedBy(who string) func(key string, f engine.Fields) bool {
	canon := historyTarget(who) // the canonical form, when who is an address
	_, err := netip.ParseAddr(canon)
	isAddr := err == nil
	return func(key string, f engine.Fields) bool {
		t := target(f)
		switch {
		case key == who || key == canon || t == who || t == canon:
			return true
		case !isAddr || t != f.SrcIP || strings.IndexByte(t, ':') < 0:
			return false
		}
		return historyTarget(t) == canon
	}
}

// unblockResult is one key unblock acted on.
type unblockResult struct {
	Key   string `json:"key"`
	Error string `json:"error,omitempty"`
}

// unblock runs the delete of every active response that the argument
// names (its key, its address or its user; --all: every one), now.
func (m *Main) unblock(ctx context.Context, p control.Peer, r control.Request) ([]unblockResult, error) {
	all := r.Flags["all"] == "true"
	if all == (len(r.Args) == 1) || len(r.Args) > 1 {
		return nil, errors.New("unblock takes one KEY, IP or USER, or --all")
	}
	var names func(string, engine.Fields) bool
	if !all {
		names = namedBy(r.Args[0])
	}
	var keys []string
	for _, a := range m.d.engine.ActiveWhere(func(e *engine.Entry) bool {
		return all || names(e.Key, e.Fields)
	}) {
		keys = append(keys, a.Key)
	}
	if len(keys) == 0 && !all {
		return nil, fmt.Errorf("nothing active for %q", r.Args[0])
	}
	out := make([]unblockResult, 0, len(keys))
	for _, k := range keys {
		m.d.log.With("component", "control").Info("unblock requested", "key", k, "by", p)
		_, err := m.d.engine.Unblock(ctx, k)
		res := unblockResult{Key: k}
		if err != nil {
			res.Error = err.Error()
		}
		out = append(out, res)
	}
	return out, nil
}

// trigger runs a command by hand for an address or a user.
func (m *Main) trigger(ctx context.Context, p control.Peer, r control.Request) (string, error) {
	t := engine.Trigger{Command: r.Flags["command"], SrcIP: r.Flags["srcip"], User: r.Flags["user"], By: p.String(), Force: r.Flags["force"] == "true"}
	if s := r.Flags["timeout"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return "", fmt.Errorf("--timeout %q: seconds, 0 or more", s)
		}
		t.Timeout = time.Duration(n) * time.Second
	}
	m.d.log.With("component", "control").Info("trigger requested", "command", t.Command, "srcip", t.SrcIP, "user", t.User, "timeout", t.Timeout, "force", t.Force, "by", p)
	if err := m.d.engine.Trigger(ctx, t); err != nil {
		return "", err
	}
	return fmt.Sprintf("triggered %s for %s", t.Command, firstOf(t.SrcIP, t.User)), nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
