// Command threatlockdown is ThreatLockDown active response: Wazuh's active
// response on one host, as one daemon.
//
//	threatlockdown run   [--root DIR] [--alerts FILE]... [--agent-id ID] [--dry-run] [--allow-any-owner]
//	threatlockdown check [--root DIR]
//	threatlockdown ar NAME            (a built-in action speaking Wazuh's protocol)
//
// and the commands of the control socket and the service (see usage).
//
// main stays thin: it parses the command line into a Main and runs it, so
// tests can run the whole daemon in-process (Open, Run, Close).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/threatlockdown/threatlockdown/engine/ossecconf"
	"github.com/threatlockdown/threatlockdown/platform"
	"github.com/threatlockdown/threatlockdown/platform/service"
)

// stdio is where a command reads and writes.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand: its name, its usage line and what runs it.
type command struct {
	name, usage string
	run         func(ctx context.Context, args []string, s stdio) error
}

// commands are the subcommands, in the order usage lists them. One line
// adds a command.
var commands = []command{
	{"run", "[--root DIR] [--alerts FILE]... [--agent-id ID] [--dry-run] [--allow-any-owner] [--log-level LEVEL] [--metrics ADDR] [--history DURATION]", cmdRun},
	{"check", "[--root DIR]", cmdCheck},
	{"replay", "FILE... [--root DIR] [--config FILE] [--agent-id ID] [--json] [--since T] [--until T]", cmdReplay},
	{"status", "[--root DIR] [--json]", cmdStatus},
	{"list", "[--root DIR] [--json]", cmdList},
	{"explain", "[--root DIR] [--json] IP|USER  |  --alert JSON|-", cmdExplain},
	{"unblock", "[--root DIR] [--json] KEY|IP|USER|--all", cmdUnblock},
	{"trigger", "[--root DIR] [--json] --command NAME --srcip IP [--user U] [--timeout S] [--force]", cmdTrigger},
	{"reload", "[--root DIR] [--json]", cmdReload},
	{"service", "install|uninstall|start|stop|restart|status [--root DIR] [run's flags]", cmdService},
	{"purge", "[--root DIR]   lift every active response and delete our state (the package's purge)", cmdPurge},
	{"ar", "NAME   run built-in action NAME as a Wazuh active-response script", cmdAR},
}

func usage() string {
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  threatlockdown %-8s %s\n", c.name, c.usage)
	}
	return b.String()
}

// Errors that choose main's exit code.
var (
	// errUsage is a command-line mistake; main prints the usage for it (exit 2).
	errUsage = errors.New("usage")
	// errNotRunning is a control command with no daemon to answer it (exit
	// 3, as systemctl status says a unit is not running).
	errNotRunning = errors.New("the daemon is not running")
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, stdio{os.Stdin, os.Stdout, os.Stderr})
	stop()
	os.Exit(report(err, os.Stderr))
}

// report prints err for a person and returns the exit code.
func report(err error, stderr io.Writer) int {
	var confErr *ossecconf.Error
	var status exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status): // a stand-alone built-in: its log says why
		return int(status)
	case errors.Is(err, errUsage):
		fmt.Fprint(stderr, usage())
		return 2
	case errors.Is(err, errNotRunning):
		fmt.Fprintln(stderr, "threatlockdown:", err)
		return 3
	case errors.As(err, &confErr):
		for _, line := range errorLines(err) {
			fmt.Fprintln(stderr, line) // PATH:LINE: what is wrong
		}
		return 1
	}
	fmt.Fprintln(stderr, "threatlockdown:", err)
	return 1
}

// run dispatches on the subcommand, or on argv[0] when the binary is
// installed under a built-in action's name.
func run(ctx context.Context, args []string, s stdio) error {
	if name := filepath.Base(args[0]); isStandaloneName(name) {
		return runAction(ctx, name, s.in, s.out)
	}
	if len(args) < 2 {
		return errUsage
	}
	if h := args[1]; h == "help" || h == "-h" || h == "--help" {
		fmt.Fprint(s.out, usage())
		return nil
	}
	for _, c := range commands {
		if c.name == args[1] {
			return c.run(ctx, args[2:], s)
		}
	}
	return errUsage
}

func cmdRun(ctx context.Context, args []string, s stdio) error {
	m, err := ParseFlags(args, s.err)
	if err != nil {
		return err
	}
	if runtime.GOOS == "windows" && !service.Interactive() {
		return m.serveWindows(args)
	}
	return m.Serve(ctx)
}

func cmdCheck(_ context.Context, args []string, s stdio) error {
	m, err := ParseFlags(args, s.err)
	if err != nil {
		return err
	}
	return m.Check(s.out)
}

func cmdAR(ctx context.Context, args []string, s stdio) error {
	if len(args) != 1 {
		return errUsage
	}
	return runAction(ctx, args[0], s.in, s.out)
}

// Main is the daemon's configuration, filled from flags; tests fill it
// directly. Open, Run and Close run it; Serve does all three.
type Main struct {
	Root     string   // install root; platform.DefaultRoot() when empty
	Alerts   []string // alerts files; Root/logs/alerts/alerts.json when empty
	AgentID  string   // this host's agent id
	DryRun   bool     // log commands instead of running them
	LogLevel slog.Level
	Stderr   io.Writer // logs go here

	// AnyOwner runs scripts whoever owns them (containers, where files
	// belong to a build user); writable ones are refused all the same.
	AnyOwner bool

	// Metrics is the loopback address of the Prometheus endpoint; "" for none.
	Metrics string

	// History is how long the store keeps explain's history: 0 the
	// default (7 days), negative none (--history 0).
	History time.Duration

	// Ready, when set, is closed once the daemon is tailing.
	Ready chan struct{}

	d        *daemonState // set by Open
	hooks    testHooks    // tests and benchmarks only
	eventLog eventLogger  // Windows service: the Event Log, besides Stderr
}

// ParseFlags reads the flags of run and check.
func ParseFlags(args []string, stderr io.Writer) (*Main, error) {
	m := &Main{Stderr: stderr}
	fs := flag.NewFlagSet("threatlockdown", flag.ContinueOnError)
	fs.SetOutput(stderr)
	m.flags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, strings.Join(fs.Args(), " "))
	}
	return m, nil
}

// flags declares run's flags on fs (the service takes them too).
func (m *Main) flags(fs *flag.FlagSet) {
	fs.StringVar(&m.Root, "root", platform.DefaultRoot(), "install root (Wazuh's layout)")
	fs.Func("alerts", "alerts file to tail (repeatable; .log files are read as alerts.log text)", func(s string) error {
		m.Alerts = append(m.Alerts, s)
		return nil
	})
	fs.StringVar(&m.AgentID, "agent-id", "000", "this host's agent id (000: the all-in-one server)")
	fs.BoolVar(&m.DryRun, "dry-run", false, "log every command with its message and run nothing")
	fs.BoolVar(&m.AnyOwner, "allow-any-owner", false,
		"run scripts in active-response/bin whoever owns them, not only root's and ours (for containers); "+
			"scripts writable by group or others are still refused")
	fs.TextVar(&m.LogLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn, error")
	fs.StringVar(&m.Metrics, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics; ADDR must be loopback, e.g. 127.0.0.1:9101")
	fs.Func("history", "how long explain's history is kept, e.g. 7d or 36h (default 7d; 0 keeps none)", func(s string) error {
		d, err := parseHistory(s)
		m.History = d
		return err
	})
}
