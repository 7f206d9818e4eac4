package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"time"
)

// FirewalldDrop is Wazuh's firewalld-drop: a runtime (not --permanent) rich
// rule "rule family=ipv4 source address=ADDR drop" (ipv6 for IPv6) added and
// removed with firewall-cmd. firewall-cmd itself is idempotent: adding a
// present rule and removing a missing one only warn. A stopped firewalld
// gives ErrFirewallInactive, a missing firewall-cmd ErrToolMissing.
type FirewalldDrop struct {
	exec Execer
}

var _ Action = (*FirewalldDrop)(nil)

// NewFirewalldDrop returns firewalld-drop running firewall-cmd through cfg.Exec.
func NewFirewalldDrop(cfg Config) *FirewalldDrop {
	return &FirewalldDrop{exec: cfg.Exec}
}

// Name is "firewalld-drop".
func (f *FirewalldDrop) Name() string { return "firewalld-drop" }

// Add adds the drop rule for t.Addr.
func (f *FirewalldDrop) Add(ctx context.Context, t Target, _ time.Time) error {
	return f.run(ctx, "add", t)
}

// Delete removes the drop rule for t.Addr.
func (f *FirewalldDrop) Delete(ctx context.Context, t Target) error {
	return f.run(ctx, "remove", t)
}

func (f *FirewalldDrop) run(ctx context.Context, op string, t Target) error {
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("firewalld-drop: %w", err)
	}
	out, err := f.exec.Run(ctx, "firewall-cmd", firewalldArgs(op, a)...)
	switch {
	case err == nil, firewalldAlready(out):
		return nil
	case firewalldStopped(out, err):
		return fmt.Errorf("firewalld-drop: %w: firewalld is not running", ErrFirewallInactive)
	}
	return wrapExec("firewalld-drop", err)
}

// firewalldRule is the rich rule that drops a's traffic.
func firewalldRule(a netip.Addr) string {
	family := "ipv4"
	if a.Is6() {
		family = "ipv6"
	}
	return "rule family=" + family + " source address=" + a.String() + " drop"
}

// firewalldArgs is firewall-cmd's argv for op ("add" or "remove"), one
// argument as Wazuh passes it.
func firewalldArgs(op string, a netip.Addr) []string {
	return []string{"--" + op + "-rich-rule=" + firewalldRule(a)}
}

// firewalldAlready reports whether out says the rule was already in the
// wanted state (older firewall-cmd exit non-zero for it).
func firewalldAlready(out []byte) bool {
	return bytes.Contains(out, []byte("ALREADY_ENABLED")) || bytes.Contains(out, []byte("NOT_ENABLED"))
}

// firewalldStopped reports whether firewall-cmd failed because firewalld is
// not running: it says so and exits 252.
func firewalldStopped(out []byte, err error) bool {
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 252 {
		return true
	}
	return bytes.Contains(out, []byte("not running"))
}
