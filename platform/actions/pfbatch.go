package actions

import (
	"context"
	"net/netip"
)

// pfBatchSize bounds the addresses passed to one pfctl, well inside any
// OS's argument limit (about 40 bytes each).
const pfBatchSize = 1000

// AddMany adds many addresses with one "pfctl -T add" per pfBatchSize, after
// one rules check and one status report. It kills no states: it serves the
// daemon's re-assertion of blocks, whose states were killed when first
// added (or died in the reboot that wiped the table).
func (p *PF) AddMany(ctx context.Context, blocks []Block) error {
	addrs := make([]netip.Addr, 0, len(blocks))
	for _, b := range blocks {
		a, err := targetAddr(b.Target)
		if err != nil {
			return wrapExec("pf", err)
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return nil
	}
	if err := p.ensureRules(ctx); err != nil {
		return wrapExec("pf", err)
	}
	p.reportStatus(ctx)
	return p.tableMany(ctx, "add", addrs)
}

// DeleteMany takes many addresses out of the table, pfBatchSize per pfctl.
func (p *PF) DeleteMany(ctx context.Context, targets []Target) error {
	addrs := make([]netip.Addr, 0, len(targets))
	for _, t := range targets {
		a, err := targetAddr(t)
		if err != nil {
			return wrapExec("pf", err)
		}
		addrs = append(addrs, a)
	}
	return p.tableMany(ctx, "delete", addrs)
}

// tableMany runs "pfctl -t T -T OP ADDR..." in chunks; a missing table
// holds nothing to delete.
func (p *PF) tableMany(ctx context.Context, op string, addrs []netip.Addr) error {
	for len(addrs) > 0 {
		n := min(len(addrs), pfBatchSize)
		out, err := p.exec.Run(ctx, "pfctl", pfTableArgs(p.Table, op, addrs[:n]...)...)
		if err != nil && !(op == "delete" && pfNoTable(out)) {
			return wrapExec("pf", err)
		}
		addrs = addrs[n:]
	}
	return nil
}
