// Command threatlockdown is ThreatLockDown active response: Wazuh's active
// response on one host, as one daemon.
//
//	threatlockdown run   [--root DIR] [--alerts FILE]... [--agent-id ID] [--dry-run] [--allow-any-owner]
//	threatlockdown check [--root DIR]
//	threatlockdown ar NAME            (a built-in action speaking Wazuh's protocol)
//
// main stays thin: it parses the command line into a Main and runs it, so
// tests can run the whole daemon in-process.
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
	"strings"
	"syscall"

	"github.com/threatlockdown/threatlockdown/engine/ossecconf"
	"github.com/threatlockdown/threatlockdown/platform"
)

const usage = `usage:
  threatlockdown run   [--root DIR] [--alerts FILE]... [--agent-id ID] [--dry-run] [--allow-any-owner] [--log-level LEVEL]
  threatlockdown check [--root DIR]
  threatlockdown ar NAME   run built-in action NAME as a Wazuh active-response script
`

// errUsage is a command-line mistake; main prints the usage for it.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		var confErr *ossecconf.Error
		if errors.As(err, &confErr) {
			for _, line := range errorLines(err) {
				fmt.Fprintln(os.Stderr, line) // PATH:LINE: what is wrong
			}
		} else {
			fmt.Fprintln(os.Stderr, "threatlockdown:", err)
		}
		os.Exit(1)
	}
}

// run dispatches on the subcommand, or on argv[0] when the binary is
// installed under a built-in action's name.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if name := filepath.Base(args[0]); isStandaloneName(name) {
		return runAction(ctx, name, stdin, stdout)
	}
	if len(args) < 2 {
		return errUsage
	}
	switch args[1] {
	case "run":
		m, err := ParseFlags(args[2:], stderr)
		if err != nil {
			return err
		}
		return m.Run(ctx)
	case "check":
		m, err := ParseFlags(args[2:], stderr)
		if err != nil {
			return err
		}
		return m.Check(stdout)
	case "ar":
		if len(args) != 3 {
			return errUsage
		}
		return runAction(ctx, args[2], stdin, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return errUsage
}

// Main is the daemon's configuration, filled from flags; tests fill it directly.
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

	// Ready, when set, is closed once the daemon is tailing.
	Ready chan struct{}
}

// ParseFlags reads the flags of run and check.
func ParseFlags(args []string, stderr io.Writer) (*Main, error) {
	m := &Main{Stderr: stderr}
	fs := flag.NewFlagSet("threatlockdown", flag.ContinueOnError)
	fs.SetOutput(stderr)
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
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, strings.Join(fs.Args(), " "))
	}
	return m, nil
}
