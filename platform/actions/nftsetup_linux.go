package actions

import (
	"errors"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// ensure sets up the table, sets, chains and rules unless done, in one
// transaction. Every step is idempotent: an existing table, set or chain is
// kept (with its elements), and the chains are flushed and given exactly
// our two rules again.
func (b *nftBackend) ensure() error {
	if b.ready {
		return nil
	}
	if b.conn == nil {
		c, err := nftables.New(append(b.opts, nftables.AsLasting())...)
		if err != nil {
			return fmt.Errorf("open netlink: %w", err)
		}
		b.conn = c
	}
	c := b.conn
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: nftTableName})
	// Fixed IDs keep nftables' package-wide ID counter out of it: IDs only
	// name a set within one transaction.
	s4 := &nftables.Set{Table: t, ID: 1, Name: nftSet4Name, KeyType: nftables.TypeIPAddr, HasTimeout: true}
	s6 := &nftables.Set{Table: t, ID: 2, Name: nftSet6Name, KeyType: nftables.TypeIP6Addr, HasTimeout: true}
	for _, s := range []*nftables.Set{s4, s6} {
		if err := c.AddSet(s, nil); err != nil {
			return fmt.Errorf("set %s: %w", s.Name, err)
		}
	}
	for _, h := range []struct {
		name string
		hook *nftables.ChainHook
	}{{"input", nftables.ChainHookInput}, {"forward", nftables.ChainHookForward}} {
		ch := c.AddChain(&nftables.Chain{
			Name:     h.name,
			Table:    t,
			Type:     nftables.ChainTypeFilter,
			Hooknum:  h.hook,
			Priority: nftables.ChainPriorityRef(nftPriority),
			Policy:   new(nftables.ChainPolicyAccept),
		})
		c.FlushChain(ch)
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: nftDropFrom(unix.NFPROTO_IPV4, 12, s4)})
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: nftDropFrom(unix.NFPROTO_IPV6, 8, s6)})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("set up table inet %s: %w", nftTableName, err)
	}
	b.set4, b.set6, b.ready = s4, s6, true
	b.startMonitor()
	return nil
}

// prepare sets the table up unless done.
func (b *nftBackend) prepare() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ensure()
}

// nftDropFrom is "meta nfproto P PAYLOAD-saddr @set counter drop": the
// source address sits at offset off of the network header and is as long as
// the set's key.
func nftDropFrom(proto byte, off uint32, s *nftables.Set) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{
			DestRegister: 1,
			Base:         expr.PayloadBaseNetworkHeader,
			Offset:       off,
			Len:          s.KeyType.Bytes,
		},
		&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID},
		&expr.Counter{},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}
}

// removeNFTTable deletes table inet threatlockdown with its sets, chains
// and rules, in one transaction. It reports whether the table was there
// and how many blocks its sets still held.
func removeNFTTable(opts ...nftables.ConnOption) (found bool, left int, err error) {
	c, err := nftables.New(opts...)
	if err != nil {
		return false, 0, fmt.Errorf("open netlink: %w", err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return false, 0, fmt.Errorf("list tables: %w", err)
	}
	var t *nftables.Table
	for _, x := range tables {
		if x.Name == nftTableName {
			t = x
		}
	}
	if t == nil {
		return false, 0, nil
	}
	for _, name := range []string{nftSet4Name, nftSet6Name} {
		// A set that is missing or unreadable only makes the count low.
		elems, err := c.GetSetElements(&nftables.Set{Table: t, Name: name})
		if err == nil {
			left += len(elems)
		}
	}
	c.DelTable(t)
	if err := c.Flush(); err != nil {
		if errors.Is(err, unix.ENOENT) { // removed by someone else meanwhile
			return false, 0, nil
		}
		return false, 0, fmt.Errorf("delete table inet %s: %w", nftTableName, err)
	}
	return true, left, nil
}
