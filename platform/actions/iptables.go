package actions

import (
	"bytes"
	"context"
	"net/netip"
	"sync"
)

// ipTables is firewall-drop's iptables backend, as Wazuh does it: for each
// address "-I INPUT -s ADDR -j DROP" and the same in FORWARD, with ip6tables
// for IPv6 and -w to wait for the xtables lock. Two fixes over Wazuh: Add
// checks each rule with -C first, so blocking twice leaves one rule, and
// Delete of a missing rule is not an error. It costs processes: two or four
// per address and operation, each 7-80 ms.
type ipTables struct {
	exec Execer
	mu   sync.Mutex // -C then -I must not interleave
}

// iptablesChains are the chains Wazuh's firewall-drop blocks in, in order.
var iptablesChains = []string{"INPUT", "FORWARD"}

// iptablesCmd is the tool for a's family.
func iptablesCmd(a netip.Addr) string {
	if a.Is4() {
		return "iptables"
	}
	return "ip6tables"
}

// iptablesArgs is the argv after the tool for op (-C, -I or -D) on chain.
func iptablesArgs(op, chain string, a netip.Addr) []string {
	return []string{"-w", op, chain, "-s", a.String(), "-j", "DROP"}
}

// iptablesNoRule reports whether output of -C or -D says the rule is not
// there (iptables-legacy and iptables-nft word it differently).
func iptablesNoRule(out []byte) bool {
	for _, s := range []string{
		"does a matching rule exist",
		"Bad rule",
		"No chain/target/match by that name",
	} {
		if bytes.Contains(out, []byte(s)) {
			return true
		}
	}
	return false
}

func (p *ipTables) name() string { return "iptables" }

func (p *ipTables) add(ctx context.Context, blocks []Block) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range blocks {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.addOne(ctx, b.Target.Addr); err != nil {
			return err
		}
	}
	return nil
}

func (p *ipTables) del(ctx context.Context, addrs []netip.Addr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range addrs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.delOne(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// addOne inserts the rules for a that -C does not find.
func (p *ipTables) addOne(ctx context.Context, a netip.Addr) error {
	cmd := iptablesCmd(a)
	for _, chain := range iptablesChains {
		_, err := p.exec.Run(ctx, cmd, iptablesArgs("-C", chain, a)...)
		if err == nil {
			continue
		}
		if toolMissing(err) {
			return wrapExec("firewall-drop", err)
		}
		if _, err := p.exec.Run(ctx, cmd, iptablesArgs("-I", chain, a)...); err != nil {
			return wrapExec("firewall-drop", err)
		}
	}
	return nil
}

// delOne deletes the rules for a; a rule already gone is fine.
func (p *ipTables) delOne(ctx context.Context, a netip.Addr) error {
	cmd := iptablesCmd(a)
	for _, chain := range iptablesChains {
		out, err := p.exec.Run(ctx, cmd, iptablesArgs("-D", chain, a)...)
		if err != nil && (toolMissing(err) || !iptablesNoRule(out)) {
			return wrapExec("firewall-drop", err)
		}
	}
	return nil
}

// present returns the addresses with a DROP rule of ours in every chain
// (iptables -S, and ip6tables -S: one process per tool and chain).
func (p *ipTables) present(ctx context.Context) (map[netip.Addr]bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	count := make(map[netip.Addr]int)
	for _, cmd := range []string{"iptables", "ip6tables"} {
		for _, chain := range iptablesChains {
			out, err := p.exec.Run(ctx, cmd, "-w", "-S", chain)
			if err != nil {
				return nil, wrapExec("firewall-drop", err)
			}
			for a := range iptablesDrops(out, chain) {
				count[a]++
			}
		}
	}
	in := make(map[netip.Addr]bool, len(count))
	for a, n := range count {
		in[a] = n == len(iptablesChains)
	}
	return in, nil
}

// iptablesDrops yields the host addresses of the rules
// "-A CHAIN -s ADDR/32 -j DROP" (or /128) in iptables -S output.
func iptablesDrops(out []byte, chain string) func(yield func(netip.Addr) bool) {
	return func(yield func(netip.Addr) bool) {
		for line := range bytes.Lines(out) {
			f := bytes.Fields(line)
			if len(f) != 6 || string(f[0]) != "-A" || string(f[1]) != chain || string(f[2]) != "-s" ||
				string(f[4]) != "-j" || string(f[5]) != "DROP" {
				continue
			}
			pfx, err := netip.ParsePrefix(string(f[3]))
			if err != nil || !pfx.IsSingleIP() {
				continue
			}
			if !yield(pfx.Addr()) {
				return
			}
		}
	}
}
