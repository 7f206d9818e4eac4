package actions

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"
)

// netshRuleName is the name Wazuh's netsh.exe gives every block rule; all
// blocked addresses share it, told apart by remoteip.
const netshRuleName = "WAZUH ACTIVE RESPONSE BLOCKED IP"

// Netsh is netsh.exe on Windows: Windows Firewall block rules named
// "WAZUH ACTIVE RESPONSE BLOCKED IP" with remoteip=ADDR/32 (/128 for IPv6).
// Wazuh blocks inbound traffic only; we add an inbound and an outbound rule.
// Delete removes both with Wazuh's command, which names no direction, so it
// also lifts blocks Wazuh's own netsh.exe added. When a firewall profile is
// off, Add logs Wazuh's "may not have an effect" warning and still adds.
//
// Idempotency comes from state, since netsh happily adds duplicate rules:
// "show rule name=... dir=in|out" is read first and a direction whose
// listing already has ADDR/32 is skipped. The check reads only the address
// token, so it holds on localized Windows. Delete of a missing rule fails in
// netsh ("No rules match the specified criteria."); Delete then shows the
// rules and succeeds if the address is not listed.
type Netsh struct {
	exec Execer
	log  *slog.Logger
}

var _ Action = (*Netsh)(nil)

// NewNetsh returns the netsh.exe action.
func NewNetsh(cfg Config) *Netsh {
	return &Netsh{exec: cfg.Exec, log: cfg.Logger}
}

// Name implements Action.
func (n *Netsh) Name() string { return "netsh.exe" }

// Add reports disabled profiles, then adds each direction's rule if missing.
func (n *Netsh) Add(ctx context.Context, t Target, _ time.Time) error {
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("netsh: %w", err)
	}
	if err := n.reportProfiles(ctx); err != nil {
		return wrapExec("netsh", err)
	}
	for _, dir := range []string{"in", "out"} {
		listed, err := n.listed(ctx, dir, a)
		if err != nil {
			return wrapExec("netsh", err)
		}
		if listed {
			continue
		}
		if _, err := n.exec.Run(ctx, "netsh", netshAddArgs(dir, a)...); err != nil {
			return wrapExec("netsh", err)
		}
	}
	return nil
}

// Delete removes the rules of both directions.
func (n *Netsh) Delete(ctx context.Context, t Target) error {
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("netsh: %w", err)
	}
	_, derr := n.exec.Run(ctx, "netsh", netshDeleteArgs(a)...)
	if derr == nil {
		return nil
	}
	if toolMissing(derr) {
		return wrapExec("netsh", derr)
	}
	if listed, err := n.listed(ctx, "", a); err != nil || !listed {
		return nil // nothing of ours left to delete
	}
	return wrapExec("netsh", derr)
}

// listed reports whether a rule of ours for a exists in direction dir (""
// for both). netsh fails when no rule has the name at all: not listed.
func (n *Netsh) listed(ctx context.Context, dir string, a netip.Addr) (bool, error) {
	out, err := n.exec.Run(ctx, "netsh", netshShowArgs(dir)...)
	if err != nil {
		if toolMissing(err) {
			return false, err
		}
		return false, nil
	}
	return netshListsAddr(out, a), nil
}

// netshName is the name argument exactly as Wazuh passes it, quotes
// included; a Windows Execer must hand it to netsh unescaped.
func netshName() string {
	return `name="` + netshRuleName + `"`
}

// netshAddArgs is "netsh advfirewall firewall add rule name="..."
// interface=any dir=DIR action=block remoteip=ADDR/32", Wazuh's order.
func netshAddArgs(dir string, a netip.Addr) []string {
	return []string{"advfirewall", "firewall", "add", "rule", netshName(),
		"interface=any", "dir=" + dir, "action=block", "remoteip=" + hostPrefix(a)}
}

// netshDeleteArgs is Wazuh's "netsh advfirewall firewall delete rule
// name="..." remoteip=ADDR/32": no dir, so both directions go.
func netshDeleteArgs(a netip.Addr) []string {
	return []string{"advfirewall", "firewall", "delete", "rule", netshName(),
		"remoteip=" + hostPrefix(a)}
}

// netshShowArgs is "netsh advfirewall firewall show rule name="..."
// [dir=DIR]".
func netshShowArgs(dir string) []string {
	args := []string{"advfirewall", "firewall", "show", "rule", netshName()}
	if dir != "" {
		args = append(args, "dir="+dir)
	}
	return args
}

// netshListsAddr reports whether "show rule" output has a as a value
// ("RemoteIP:   203.0.113.5/32"). Field names are localized; addresses are
// not, and our rules' other address field (LocalIP) is "Any".
func netshListsAddr(out []byte, a netip.Addr) bool {
	for line := range strings.Lines(string(out)) {
		_, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, tok := range strings.FieldsFunc(val, func(r rune) bool {
			return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n'
		}) {
			if sameHost(tok, a) {
				return true
			}
		}
	}
	return false
}
