// Package service installs and runs the daemon as a system service through
// github.com/kardianos/service: systemd on Linux (SysV init scripts where
// PID 1 is not systemd), launchd on macOS, the Service Control Manager on
// Windows.
//
// The systemd unit and the launchd plist are rendered here, as plain text
// (SystemdUnit, LaunchdPlist), and handed to the library as its templates:
// what is installed is exactly what the golden files show, and the packages
// ship the same text. The Windows settings (Windows) are the options the
// library passes to the SCM.
//
// The service runs `threatlockdown run --root ROOT` and nothing else; a stop
// is SIGTERM (systemd, launchd) or the SCM's stop, which the daemon obeys
// within a few seconds, leaving blocks and pending reverts in place.
package service

import (
	"fmt"
	"strings"
)

// Name is the service's name everywhere.
const Name = "threatlockdown"

// Spec is what a service runs.
type Spec struct {
	Exec string   // the binary, an absolute path
	Args []string // its arguments: run --root ROOT ...
	Root string   // the install root, for the unit's paths
}

// RunArgs are the arguments the service passes for root and run's extra
// flags.
func RunArgs(root string, extra ...string) []string {
	return append([]string{"run", "--root", root}, extra...)
}

const (
	displayName = "ThreatLockDown active response"
	description = "Wazuh active response on this host: runs the responses ossec.conf asks for and lifts every block on time"
)

// SystemdUnit is the unit file: started after the network, restarted on
// failure, stopped by SIGTERM within TimeoutStopSec, with the capabilities
// the built-ins need (CAP_NET_ADMIN and CAP_NET_RAW for netlink and
// iptables; CAP_DAC_OVERRIDE, CAP_CHOWN, CAP_FOWNER, CAP_SETUID/SETGID and
// CAP_AUDIT_WRITE for host-deny and disable-account, which edit /etc) and
// the rest hardened. /etc stays writable (ProtectSystem=true, not full),
// since hosts.deny and the account database live there.
func SystemdUnit(s Spec) string {
	var b strings.Builder
	fmt.Fprintf(&b, `[Unit]
Description=%s
Documentation=https://github.com/threatlockdown/threatlockdown
Wants=network-online.target
After=network-online.target
ConditionFileIsExecutable=%s

[Service]
Type=simple
ExecStart=%s
ExecReload=%s
Restart=on-failure
RestartSec=5
TimeoutStopSec=15
KillMode=mixed
UMask=0027
`, displayName, strings.ReplaceAll(s.Exec, "%", "%%"), systemdCommand(s.Exec, s.Args), systemdCommand(s.Exec, []string{"reload", "--root", s.Root}))
	b.WriteString(`CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_CHOWN CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETUID CAP_SETGID CAP_AUDIT_WRITE
AmbientCapabilities=
NoNewPrivileges=yes
ProtectSystem=true
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`)
	return b.String()
}

// systemdCommand is a command line for Exec*=: each argument quoted when
// it needs to be, % doubled (systemd expands specifiers).
func systemdCommand(exec string, args []string) string {
	parts := []string{systemdEscape(exec)}
	for _, a := range args {
		parts = append(parts, systemdEscape(a))
	}
	return strings.Join(parts, " ")
}

func systemdEscape(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;$") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", "$$")
	return `"` + r.Replace(s) + `"`
}

// LaunchdPlist is the launchd job: started at boot, kept alive when it
// exits with an error, its output in ROOT/logs/threatlockdown.log.
func LaunchdPlist(s Spec) string {
	var args strings.Builder
	for _, a := range append([]string{s.Exec}, s.Args...) {
		fmt.Fprintf(&args, "\t\t<string>%s</string>\n", xmlEscape(a))
	}
	logFile := xmlEscape(s.Root + "/logs/threatlockdown.log")
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>%s</string>
	<key>ProgramArguments</key>
	<array>
%s	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ThrottleInterval</key>
	<integer>5</integer>
	<key>ExitTimeOut</key>
	<integer>15</integer>
	<key>ProcessType</key>
	<string>Interactive</string>
	<key>StandardOutPath</key>
	<string>%s</string>
	<key>StandardErrorPath</key>
	<string>%s</string>
</dict>
</plist>
`, Name, args.String(), logFile, logFile)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

// WindowsSettings are the SCM settings of the Windows service.
type WindowsSettings struct {
	Name             string   `json:"name"`
	DisplayName      string   `json:"display_name"`
	Description      string   `json:"description"`
	Exec             string   `json:"exec"`
	Args             []string `json:"args"`
	StartType        string   `json:"start_type"`
	DelayedAutoStart bool     `json:"delayed_auto_start"`
	OnFailure        string   `json:"on_failure"`
	OnFailureDelay   string   `json:"on_failure_delay"`
	OnFailureReset   int      `json:"on_failure_reset_seconds"`
}

// Windows is the Windows service: automatic start, after the network
// stack is up (delayed), restarted 5 s after a failure.
func Windows(s Spec) WindowsSettings {
	return WindowsSettings{
		Name: Name, DisplayName: displayName, Description: description, Exec: s.Exec, Args: s.Args,
		StartType: "automatic", DelayedAutoStart: true,
		OnFailure: "restart", OnFailureDelay: "5s", OnFailureReset: 86400,
	}
}
