package actions

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// NPF blocks addresses with NetBSD's npf through the table wazuh_blacklist,
// as Wazuh's npf does. The table and the rules that use it live in
// /etc/npf.conf, written by the administrator; like Wazuh, Add refuses to act
// when "npfctl show" says filtering is inactive or lacks the table.
//
// Idempotency comes from state: "npfctl table T test ADDR" is asked first,
// so a present address is not added again and a missing one not deleted
// (npfctl itself fails on both with "entry already exists" / "no matching
// entry").
type NPF struct {
	Table string // npf table; Wazuh's "wazuh_blacklist"

	exec Execer
}

var _ Action = (*NPF)(nil)

// NewNPF returns the npf action on Wazuh's table.
func NewNPF(cfg Config) *NPF {
	return &NPF{Table: "wazuh_blacklist", exec: cfg.Exec}
}

// Name implements Action.
func (n *NPF) Name() string { return "npf" }

// Add checks that npf filters and has the table, then adds the address.
func (n *NPF) Add(ctx context.Context, t Target, _ time.Time) error {
	a, err := targetAddr(t)
	if err != nil {
		return wrapExec("npf", err)
	}
	active, table, err := n.show(ctx)
	switch {
	case err != nil:
		return err
	case !active:
		return fmt.Errorf("npf: %w: npfctl show: filtering is not active", ErrFirewallInactive)
	case !table:
		return fmt.Errorf("npf: %w: npfctl show: no table <%s>", ErrNotConfigured, n.Table)
	}
	return n.apply(ctx, a, "add", false)
}

// Delete removes the address; without the table there is nothing to remove,
// and an inactive npf still lets its table be edited.
func (n *NPF) Delete(ctx context.Context, t Target) error {
	a, err := targetAddr(t)
	if err != nil {
		return wrapExec("npf", err)
	}
	_, table, err := n.show(ctx)
	if err != nil || !table {
		return err
	}
	return n.apply(ctx, a, "del", true)
}

// apply runs "npfctl table T OP ADDR" only when "test" finds the entry's
// presence equal to ifPresent: add when absent, del when present.
func (n *NPF) apply(ctx context.Context, a netip.Addr, op string, ifPresent bool) error {
	out, err := n.exec.Run(ctx, "npfctl", npfTableArgs(n.Table, "test", a)...)
	present, err := npfTestResult(out, err)
	if err != nil {
		return wrapExec("npf", err)
	}
	if present != ifPresent {
		return nil
	}
	if _, err := n.exec.Run(ctx, "npfctl", npfTableArgs(n.Table, op, a)...); err != nil {
		return wrapExec("npf", err)
	}
	return nil
}

// show runs "npfctl show" and reads whether filtering is active and whether
// the table is configured.
func (n *NPF) show(ctx context.Context) (active, table bool, err error) {
	out, err := n.exec.Run(ctx, "npfctl", "show")
	if err != nil {
		return false, false, wrapExec("npf", err)
	}
	active, found := npfFiltering(out)
	if !found {
		return false, false, fmt.Errorf("npf: npfctl show: no 'filtering:' line")
	}
	return active, npfHasTable(out, n.Table), nil
}

// npfTableArgs is "npfctl table TABLE add|del|test ADDR".
func npfTableArgs(table, op string, a netip.Addr) []string {
	return []string{"table", table, op, a.String()}
}

// npfFiltering reads "# filtering:	active" from "npfctl show", as Wazuh's
// npf does (the word after "filtering:" must be "active").
func npfFiltering(out []byte) (active, found bool) {
	for line := range strings.Lines(string(out)) {
		_, rest, ok := strings.Cut(line, "filtering:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		return len(f) > 0 && f[0] == "active", true
	}
	return false, false
}

// npfHasTable reports whether "npfctl show" lists "table <TABLE>".
func npfHasTable(out []byte, table string) bool {
	return strings.Contains(string(out), "table <"+table+">")
}

// npfTestResult reads "npfctl table T test ADDR": exit 0 with "matching
// entry found", or a failure saying "no matching entry was not found" (sic).
// Any other failure is returned.
func npfTestResult(out []byte, err error) (bool, error) {
	switch {
	case err == nil:
		return strings.Contains(string(out), "matching entry found"), nil
	case !toolMissing(err) && strings.Contains(string(out), "no matching entry"):
		return false, nil
	}
	return false, err
}
