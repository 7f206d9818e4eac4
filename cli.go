package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform"
	"github.com/threatlockdown/threatlockdown/platform/control"
	"github.com/threatlockdown/threatlockdown/store"
)

// callTimeout bounds a control request that acts: an unblock of many keys
// runs their deletes, each within its own time limit, a trigger its add, a
// reload its config's checks. askTimeouts bound the questions, which a
// daemon answers from memory: a monitor polling status learns of a daemon
// that is stuck (stopped with SIGSTOP, wedged) in seconds, not minutes.
var (
	callTimeout = 5 * time.Minute
	askTimeouts = map[string]time.Duration{"status": 30 * time.Second, "list": 30 * time.Second, "explain": 30 * time.Second}
)

// client is a control command's command line: the root, --json, and the
// request it makes.
type client struct {
	Main
	json bool
	req  control.Request
	s    stdio
}

// newClient parses a control command's flags (before or after its
// arguments); extra declares the command's own.
func newClient(name string, args []string, s stdio, extra func(fs *flag.FlagSet, c *client)) (*client, error) {
	c := &client{s: s, req: control.Request{Command: name, Flags: map[string]string{}}}
	c.AgentID = "000"
	fs := flag.NewFlagSet("threatlockdown "+name, flag.ContinueOnError)
	fs.SetOutput(s.err)
	fs.StringVar(&c.Root, "root", platform.DefaultRoot(), "install root (Wazuh's layout)")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	if extra != nil {
		extra(fs, c)
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			return c, nil
		}
		c.req.Args = append(c.req.Args, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// flagString declares a string flag that goes into the request when set.
func (c *client) flagString(fs *flag.FlagSet, name, usage string) {
	fs.Func(name, usage, func(v string) error { c.req.Flags[name] = v; return nil })
}

// call sends the request and decodes the answer into out.
func (c *client) call(ctx context.Context, out any) error {
	within, ok := askTimeouts[c.req.Command]
	if !ok {
		within = callTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	err := control.Call(ctx, c.sockPath(), c.req, out)
	switch {
	case errors.Is(err, control.ErrNotRunning):
		return fmt.Errorf("%w (root %s)", errNotRunning, c.Root)
	case errors.Is(err, os.ErrDeadlineExceeded) || err != nil && ctx.Err() != nil:
		return fmt.Errorf("the daemon did not answer %s within %v (root %s): %w", c.req.Command, within, c.Root, err)
	}
	return err
}

// print writes v as JSON, or with text for a person.
func (c *client) print(v any, text func(w io.Writer)) error {
	if c.json {
		enc := json.NewEncoder(c.s.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(c.s.out, 2, 8, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

func cmdStatus(ctx context.Context, args []string, s stdio) error {
	c, err := newClient("status", args, s, nil)
	if err != nil {
		return err
	}
	var st statusView
	if err := c.call(ctx, &st); err != nil {
		return err
	}
	return c.print(st, func(w io.Writer) { printStatus(w, st) })
}

// printStatus writes status as text, one "what:<TAB>value" line each.
func printStatus(w io.Writer, st statusView) {
	fmt.Fprintf(w, "version:\t%s\nroot:\t%s\nup since:\t%s (%s)\n", st.Version, st.Root, stamp(st.UpSince), ago(st.UpSince))
	fmt.Fprintf(w, "config:\t%s, loaded %s\n", st.Config, stamp(st.ConfigLoaded))
	if st.DryRun {
		fmt.Fprintln(w, "dry run:\tyes, nothing is run")
	}
	fmt.Fprintf(w, "alerts:\t%d read, %d malformed\n", st.Alerts, st.Malformed)
	fmt.Fprintf(w, "responses:\t%d matched, %d skipped, %d commands dispatched\n", st.Matched, st.Skipped, st.Dispatched)
	fmt.Fprintf(w, "skipped by reason:\t%s\n", skipReasons(st.SkippedBy))
	fmt.Fprintf(w, "active responses:\t%d\ncommands running:\t%d\nblocks repaired:\t%d\n", st.Active, st.Running, st.Repaired)
	if st.HistoryLost > 0 {
		fmt.Fprintf(w, "history dropped:\t%d events (explain misses them: more waited for one commit than it takes)\n", st.HistoryLost)
	}
	if st.LastError != "" {
		fmt.Fprintf(w, "last error:\t%s: %s\n", stamp(st.LastErrorAt), st.LastError)
	}
}

func cmdList(ctx context.Context, args []string, s stdio) error {
	c, err := newClient("list", args, s, nil)
	if err != nil {
		return err
	}
	var list []entryView
	err = c.call(ctx, &list)
	if errors.Is(err, errNotRunning) {
		list, err = c.offlineList()
	}
	if err != nil {
		return err
	}
	return c.print(list, func(w io.Writer) { printEntries(w, list) })
}

func printEntries(w io.Writer, list []entryView) {
	fmt.Fprintln(w, "KEY\tCOMMAND\tTARGET\tSINCE\tUNTIL\tOFFENCES\tALERT\tRULE\tSTATE")
	for _, e := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", e.Key, e.Command, e.Target, stamp(e.Since),
			stamp(e.Until), e.Offences, e.AlertID, e.RuleID, e.State)
	}
}

// offlineList reads the active responses from the store when no daemon
// runs. (The store has no read-only open: it is opened, read and closed,
// and a daemon starting meanwhile waits for it a moment.)
func (c *client) offlineList() ([]entryView, error) {
	st, err := c.loadStore()
	if err != nil {
		return nil, err
	}
	active := make([]engine.ActiveEntry, len(st.Entries))
	for i, e := range st.Entries {
		active[i] = engine.ActiveEntry{Entry: e}
	}
	fmt.Fprintf(c.s.err, "threatlockdown: the daemon is not running; read from %s\n", c.dbPath())
	return entryViews(active), nil
}

func (c *client) loadStore() (*engine.State, error) {
	if _, err := os.Stat(c.dbPath()); errors.Is(err, fs.ErrNotExist) {
		return &engine.State{}, nil // never ran: nothing active
	}
	db, err := store.Open(c.dbPath(), store.WithReadOnly(), store.WithLockTimeout(200*time.Millisecond))
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("the daemon holds %s but does not answer on %s", c.dbPath(), c.sockPath())
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Load()
}

func cmdExplain(ctx context.Context, args []string, s stdio) error {
	c, err := newClient("explain", args, s, func(fs *flag.FlagSet, c *client) {
		c.flagString(fs, "alert", "explain this alerts.json line (- reads it from stdin)")
	})
	if err != nil {
		return err
	}
	if c.req.Flags["alert"] == "-" {
		raw, err := io.ReadAll(io.LimitReader(s.in, control.MaxRequest/2))
		if err != nil {
			return err
		}
		c.req.Flags["alert"] = strings.TrimSpace(string(raw))
	}
	var x explainView
	err = c.call(ctx, &x)
	if errors.Is(err, errNotRunning) {
		x, err = c.offlineExplain()
	}
	if err != nil {
		return err
	}
	return c.print(x, func(w io.Writer) { printExplain(w, x) })
}

// offlineExplain explains with ossec.conf as it is on disk and the store's
// active responses and history, when no daemon runs.
func (c *client) offlineExplain() (explainView, error) {
	cfg, _, err := c.loadConfig()
	if err != nil {
		return explainView{}, err
	}
	var active []engine.ActiveEntry
	var hist engine.HistoryReader
	if len(c.req.Args) == 1 {
		if active, hist, err = c.offlineStore(c.req.Args[0]); err != nil {
			return explainView{}, err
		}
	}
	host := platform.NewHostAddrs(slog.New(slog.DiscardHandler))
	host.Refresh()
	fmt.Fprintf(c.s.err, "threatlockdown: the daemon is not running; explained with %s as it is now (agent id %s)\n",
		c.confPath(), c.AgentID)
	return c.explainRequest(c.req, func(a []byte) (engine.Explanation, error) {
		return engine.ExplainConfig(cfg, c.AgentID, host, a)
	}, active, hist, 0)
}

func printExplain(w io.Writer, x explainView) {
	if x.Target != "" {
		if len(x.Active) == 0 {
			fmt.Fprintf(w, "%s: nothing active\n", x.Target)
		} else {
			fmt.Fprintf(w, "%s: active\n", x.Target)
			printEntries(w, x.Active)
		}
		printHistory(w, x.History)
		fmt.Fprintf(w, "\n%s\n", x.Note)
	}
	for _, a := range x.Alerts {
		fmt.Fprintf(w, "\nalert %s rule %s level %d groups %s srcip %s user %s agent %s\n", a.ID, a.RuleID, a.Level,
			a.Groups, dash(a.SrcIP), dash(a.User), dash(a.AgentID))
		for _, r := range a.Responses {
			verdict := "runs"
			if !r.Runs {
				verdict = "skipped: " + r.Reason
			}
			fmt.Fprintf(w, "  ossec.conf line %d\t%s\t%s\n", r.Line, r.Command, verdict)
		}
	}
}

func cmdUnblock(ctx context.Context, args []string, s stdio) error {
	c, err := newClient("unblock", args, s, func(fs *flag.FlagSet, c *client) {
		fs.BoolFunc("all", "unblock every active response", func(string) error { c.req.Flags["all"] = "true"; return nil })
	})
	if err != nil {
		return err
	}
	var res []unblockResult
	if err := c.call(ctx, &res); err != nil {
		return err
	}
	failed := 0
	err = c.print(res, func(w io.Writer) {
		for _, r := range res {
			if r.Error != "" {
				failed++
				fmt.Fprintf(w, "%s\tnot unblocked: %s\n", r.Key, r.Error)
			} else {
				fmt.Fprintf(w, "%s\tunblocked\n", r.Key)
			}
		}
		if len(res) == 0 {
			fmt.Fprintln(w, "nothing active")
		}
	})
	if err == nil && failed > 0 {
		err = fmt.Errorf("%d of %d not unblocked", failed, len(res))
	}
	return err
}

func cmdTrigger(ctx context.Context, args []string, s stdio) error {
	c, err := newClient("trigger", args, s, func(fs *flag.FlagSet, c *client) {
		c.flagString(fs, "command", "the <command> name to run")
		c.flagString(fs, "srcip", "the address it acts on")
		c.flagString(fs, "user", "the user it acts on (data.dstuser)")
		c.flagString(fs, "timeout", "seconds until the revert (0: none)")
		fs.BoolFunc("force", "run it for an address on the white list too", func(string) error {
			c.req.Flags["force"] = "true"
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(c.req.Args) > 0 || c.req.Flags["command"] == "" {
		return fmt.Errorf("%w: trigger --command NAME --srcip IP [--user U] [--timeout S] [--force]", errUsage)
	}
	var msg string
	if err := c.call(ctx, &msg); err != nil {
		return err
	}
	return c.print(msg, func(w io.Writer) { fmt.Fprintln(w, msg) })
}

func cmdReload(ctx context.Context, args []string, s stdio) error {
	c, err := newClient("reload", args, s, nil)
	if err != nil {
		return err
	}
	var changes []string
	if err := c.call(ctx, &changes); err != nil {
		return err
	}
	return c.print(changes, func(w io.Writer) {
		for _, ch := range changes {
			fmt.Fprintln(w, ch)
		}
	})
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func ago(t time.Time) string { return time.Since(t).Round(time.Second).String() + " ago" }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// skipReasons renders counts by reason in the engine's order, the zero
// ones left out ("-" when all are).
func skipReasons(by map[string]uint64) string {
	var parts []string
	for _, r := range engine.SkipReasons {
		if n := by[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r, n))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
