package actions

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// IPFW blocks addresses with FreeBSD's ipfw through a lookup table, as
// Wazuh's ipfw does: two deny rules, from the table and to it, and the
// addresses in the table. Add creates whichever rule is missing first.
//
// Wazuh's own setup never works: it runs "ipfw -q 00001 add deny ..." (rule
// number before "add") and looks for "table(00001)" where ipfw prints
// "table(1)". We run "ipfw -q add 1 deny ip from table(1) to any".
//
// Idempotency comes from the tool: with -q, ipfw treats adding a present
// entry and deleting a missing one as success and auto-creates the table on
// add (FreeBSD sbin/ipfw/tables.c, table_modify_record: "do not yell on
// duplicate keys or failed deletions"). Delete on a table that does not
// exist ("Table 1 does not exist") is also a success. The rules are read
// with "ipfw list" first, so a second Add adds no rule.
type IPFW struct {
	Table string // lookup table; "1"
	Rule  string // number of the two deny rules; "1", evaluated first

	exec Execer
	mu   sync.Mutex // one rules check and setup at a time
}

var _ Action = (*IPFW)(nil)

// NewIPFW returns the ipfw action on table 1 with rules numbered 1.
func NewIPFW(cfg Config) *IPFW {
	return &IPFW{Table: "1", Rule: "1", exec: cfg.Exec}
}

// Name implements Action.
func (w *IPFW) Name() string { return "ipfw" }

// Add ensures the deny rules and adds the address to the table.
func (w *IPFW) Add(ctx context.Context, t Target, _ time.Time) error {
	a, err := targetAddr(t)
	if err != nil {
		return wrapExec("ipfw", err)
	}
	if err := w.ensureRules(ctx); err != nil {
		return wrapExec("ipfw", err)
	}
	if _, err := w.exec.Run(ctx, "ipfw", ipfwEntryArgs(w.Table, "add", a)...); err != nil {
		return wrapExec("ipfw", err)
	}
	return nil
}

// Delete removes the address from the table.
func (w *IPFW) Delete(ctx context.Context, t Target) error {
	a, err := targetAddr(t)
	if err != nil {
		return wrapExec("ipfw", err)
	}
	out, err := w.exec.Run(ctx, "ipfw", ipfwEntryArgs(w.Table, "delete", a)...)
	if err != nil && (toolMissing(err) || !ipfwNoTable(out)) {
		return wrapExec("ipfw", err)
	}
	return nil
}

// ensureRules adds each of the two deny rules that "ipfw list" lacks.
func (w *IPFW) ensureRules(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	out, err := w.exec.Run(ctx, "ipfw", "list")
	if err != nil {
		return err
	}
	from, to := ipfwHasRules(out, w.Table)
	if !from {
		if _, err := w.exec.Run(ctx, "ipfw", ipfwRuleArgs(w.Rule, w.Table, true)...); err != nil {
			return err
		}
	}
	if !to {
		if _, err := w.exec.Run(ctx, "ipfw", ipfwRuleArgs(w.Rule, w.Table, false)...); err != nil {
			return err
		}
	}
	return nil
}

// ipfwEntryArgs is "ipfw -q table TABLE add|delete ADDR".
func ipfwEntryArgs(table, op string, a netip.Addr) []string {
	return []string{"-q", "table", table, op, a.String()}
}

// ipfwRuleArgs is "ipfw -q add RULE deny ip from table(T) to any", or with
// from=false "... from any to table(T)".
func ipfwRuleArgs(rule, table string, from bool) []string {
	ref := "table(" + table + ")"
	src, dst := ref, "any"
	if !from {
		src, dst = "any", ref
	}
	return []string{"-q", "add", rule, "deny", "ip", "from", src, "to", dst}
}

// ipfwHasRules reads "ipfw list" ("00001 deny ip from table(1) to any") and
// reports whether the from-table and the to-table deny rules exist.
func ipfwHasRules(out []byte, table string) (from, to bool) {
	ref := "table(" + table + ")"
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		i := slices.Index(f, "from")
		if len(f) < 2 || f[1] != "deny" || i < 0 || i+3 >= len(f) || f[i+2] != "to" {
			continue
		}
		from = from || (f[i+1] == ref && f[i+3] == "any")
		to = to || (f[i+1] == "any" && f[i+3] == ref)
	}
	return from, to
}

// ipfwNoTable reports whether ipfw said the table does not exist:
// "ipfw: Table 1 does not exist".
func ipfwNoTable(out []byte) bool {
	return strings.Contains(string(out), "does not exist")
}
