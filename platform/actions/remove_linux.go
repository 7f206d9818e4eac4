package actions

import (
	"context"
	"fmt"
)

var _ Remover = (*FirewallDrop)(nil)

// RemoveAll deletes our nftables table, whichever backend the command
// uses (an earlier configuration may have used the other). The iptables
// backend makes no chain of its own: its rules sit in INPUT and FORWARD,
// one per address, and its deletes remove them. A kernel without
// nf_tables has no table of ours.
func (f *FirewallDrop) RemoveAll(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if nft, ok := f.fw.(*nftBackend); ok {
		// Its monitor would report the removal as drift, and it believes
		// the table is there: a later use sets it up again.
		nft.Close()
	}
	if probeNFT(f.nftOpts...) != nil {
		return nil, nil
	}
	found, left, err := removeNFTTable(f.nftOpts...)
	if err != nil {
		return nil, fmt.Errorf("firewall-drop: nftables: %w", err)
	}
	if !found {
		return nil, nil
	}
	return []string{fmt.Sprintf("nftables table inet %s (%d blocks left in it)", nftTableName, left)}, nil
}
