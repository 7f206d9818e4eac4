package actions

import "strings"

// builtin returns Windows's built-ins, netsh.exe, route-null.exe,
// restart-wazuh.exe and the notifications (ossec-slack.exe,
// ossec-tweeter.exe), found by name with or without ".exe" and in any case,
// as Windows names files.
// The default OSExec is replaced by WinExec, which passes netsh its quoted
// rule name unescaped.
func builtin(name string, cfg Config) (Action, bool) {
	if _, ok := cfg.Exec.(OSExec); ok {
		cfg.Exec = WinExec{}
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".exe")
	switch name {
	case "netsh":
		return NewNetsh(cfg), true
	case "route-null":
		return NewRouteNullWindows(cfg), true
	case "restart-wazuh":
		return NewRestartWazuh(cfg), true
	}
	return notifyBuiltin(name, cfg)
}
