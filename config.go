package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/engine/ossecconf"
	"github.com/threatlockdown/threatlockdown/metrics"
)

// reloader applies a changed ossec.conf: a valid one is swapped in whole, an
// invalid one is reported with its lines and the running config stays.
type reloader struct {
	path   string
	engine *engine.Engine
	log    *slog.Logger
	check  func(*engine.Config) // reports commands whose scripts will be refused
	stats  *metrics.Metrics     // counts reloads by outcome; nil for none

	mu     sync.Mutex
	last   []byte
	loaded time.Time // when the running config was loaded
}

// force re-reads ossec.conf even when its bytes did not change: the
// built-in restart-wazuh, Wazuh's way to apply a configuration, and the
// control socket's reload. It returns what changed, or the problems of an
// invalid file (whose lines read PATH:LINE: what is wrong).
func (r *reloader) force() ([]string, error) {
	r.mu.Lock()
	r.last = nil
	r.mu.Unlock()
	return r.apply()
}

// reload is the config watcher's: a change of the file's bytes applies.
func (r *reloader) reload() { r.apply() }

func (r *reloader) apply() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	raw, err := os.ReadFile(r.path)
	if err != nil {
		r.log.Error("config reload failed; keeping the running config", "path", r.path, "err", err)
		r.stats.Reloaded(metrics.ReloadFailed)
		return nil, err
	}
	if bytes.Equal(raw, r.last) {
		return nil, nil
	}
	cfg, err := ossecconf.Parse(bytes.NewReader(raw), r.path)
	if err != nil {
		for _, line := range errorLines(err) {
			r.log.Error("config invalid; keeping the running config", "problem", line)
		}
		r.stats.Reloaded(metrics.ReloadInvalid)
		return nil, err
	}
	old := r.engine.Config()
	r.engine.SetConfig(cfg)
	r.last, r.loaded = raw, time.Now()
	r.stats.Reloaded(metrics.ReloadApplied)
	changes := ossecconf.Diff(old, cfg)
	if len(changes) == 0 {
		changes = []string{"no change to active response"}
	}
	r.log.Info("config reloaded", "path", r.path, "changes", strings.Join(changes, "; "))
	if r.check != nil {
		r.check(cfg)
	}
	if len(cfg.Responses) == 0 && old != nil && len(old.Responses) > 0 {
		// Applied because the file says so (it has an <ossec_config> root;
		// an empty file is refused), but worth a line of its own.
		r.log.Warn("no active response left: the new config runs nothing", "path", r.path)
	}
	return changes, nil
}

// loadedAt is when the running config was loaded.
func (r *reloader) loadedAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loaded
}

// errorLines splits joined config errors into one line each.
func errorLines(err error) []string {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		var lines []string
		for _, e := range joined.Unwrap() {
			lines = append(lines, e.Error())
		}
		return lines
	}
	return []string{err.Error()}
}

// Check validates ossec.conf and prints what it loaded. An invalid file
// returns an error whose lines read PATH:LINE: what is wrong.
func (m *Main) Check(w io.Writer) error {
	cfg, _, err := m.loadConfig()
	if err != nil {
		return err
	}
	describe(w, m.confPath(), cfg)
	return nil
}

func describe(w io.Writer, path string, cfg *engine.Config) {
	fmt.Fprintf(w, "%s: OK\n", path)
	if cfg.Disabled {
		fmt.Fprintln(w, "active response: disabled")
	}
	fmt.Fprintf(w, "commands (%d):\n", len(cfg.Commands))
	for _, c := range cfg.Commands {
		fmt.Fprintf(w, "  %-20s executable=%s timeout_allowed=%v protocol=%s", c.Name, c.Executable, c.TimeoutAllowed, c.Protocol)
		if len(c.ExtraArgs) > 0 {
			fmt.Fprintf(w, " extra_args=%q", c.ExtraArgs)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "active responses (%d):\n", len(cfg.Responses))
	for _, r := range cfg.Responses {
		fmt.Fprintf(w, "  line %d: %s location=%s%s timeout=%s%s\n", r.Line, r.Command.Name, r.Location,
			trigger(r), r.Timeout, disabled(r.Disabled))
	}
	fmt.Fprintf(w, "white list (%d):", len(cfg.WhiteList))
	for _, e := range cfg.WhiteList {
		if e.Prefix.IsValid() {
			fmt.Fprintf(w, " %s", e.Prefix)
		} else {
			fmt.Fprintf(w, " ~%s", e.Pattern)
		}
	}
	fmt.Fprintln(w)
}

func trigger(r *engine.Response) string {
	var s strings.Builder
	if r.AgentID != "" {
		fmt.Fprintf(&s, " agent_id=%s", r.AgentID)
	}
	if r.Level > 0 {
		fmt.Fprintf(&s, " level>=%d", r.Level)
	}
	if len(r.RulesID) > 0 {
		fmt.Fprintf(&s, " rules_id=%s", strings.Join(r.RulesID, ","))
	}
	if len(r.RulesGroup) > 0 {
		fmt.Fprintf(&s, " rules_group=%s", strings.Join(r.RulesGroup, "|"))
	}
	if len(r.RepeatedOffenders) > 0 {
		fmt.Fprintf(&s, " repeated_offenders=%v", r.RepeatedOffenders)
	}
	return s.String()
}

func disabled(d bool) string {
	if d {
		return " (disabled)"
	}
	return ""
}
