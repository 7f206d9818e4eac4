package actions

import "log/slog"

// Config is what every action may need from the daemon.
type Config struct {
	Exec      Execer       // OS command seam; OSExec when nil
	ExtraArgs []string     // the command's <extra_args>, e.g. backend selection
	Logger    *slog.Logger // never nil after New
	// Restart restarts or reloads the daemon, for restart-wazuh. When nil,
	// restart-wazuh runs Wazuh's "bin/wazuh-control restart" from the
	// working directory (the install root when started by execd).
	Restart func() error
	// Root is the install root, where the notifications read their settings
	// file (etc/notify.conf). When "", the working directory, which execd
	// sets to the root.
	Root string
}

// New returns the built-in action called name on this OS, or false when
// this OS has none of that name.
func New(name string, cfg Config) (Action, bool) {
	if cfg.Exec == nil {
		cfg.Exec = OSExec{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return builtin(name, cfg)
}
