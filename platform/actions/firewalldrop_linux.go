package actions

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/google/nftables"
)

// fwBackend is one way firewall-drop blocks addresses on Linux.
type fwBackend interface {
	name() string
	add(ctx context.Context, blocks []Block) error
	del(ctx context.Context, addrs []netip.Addr) error
}

var (
	_ fwBackend = (*nftBackend)(nil)
	_ fwBackend = (*ipTables)(nil)
)

// FirewallDrop is firewall-drop on Linux: it drops all packets from an
// address, IPv4 or IPv6, arriving for this host (input) or passing through
// it (forward). It has two backends:
//
//   - nftables (default when the kernel has nf_tables): elements of the sets
//     of our own table inet threatlockdown, written over netlink in batches,
//     no process per block. Each element gets a kernel timeout a minute past
//     the daemon's revert time, a safety net should the daemon be dead then.
//   - iptables, as Wazuh does it: "iptables -w -I INPUT -s ADDR -j DROP" and
//     the same in FORWARD (ip6tables for IPv6), checked with -C first.
//
// A command picks one with <extra_args>backend=iptables</extra_args> (or
// backend=nftables); without it the choice is made on first use by asking
// the kernel for its nftables tables. Blocks made by one backend are not
// seen by the other.
type FirewallDrop struct {
	args    []string
	exec    Execer
	log     *slog.Logger
	nftOpts []nftables.ConnOption // test namespaces

	mu     sync.Mutex
	fw     fwBackend
	notify func(who string) // set by watch
}

var (
	_ Action    = (*FirewallDrop)(nil)
	_ Batcher   = (*FirewallDrop)(nil)
	_ Refresher = (*FirewallDrop)(nil)
	_ io.Closer = (*FirewallDrop)(nil)
	_ validator = (*FirewallDrop)(nil)
	_ lister    = (*FirewallDrop)(nil)
	_ watcher   = (*FirewallDrop)(nil)
)

// NewFirewallDrop returns firewall-drop with the backend cfg.ExtraArgs ask
// for. It does not touch the system before its first use.
func NewFirewallDrop(cfg Config) *FirewallDrop {
	f := &FirewallDrop{args: cfg.ExtraArgs, exec: cfg.Exec, log: cfg.Logger}
	if f.exec == nil {
		f.exec = OSExec{}
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	return f
}

// validate checks the backend asked for in extra_args.
func (f *FirewallDrop) validate() error {
	_, err := parseBackend(f.args)
	return err
}

// Name is "firewall-drop".
func (f *FirewallDrop) Name() string { return "firewall-drop" }

// Backend returns the name of the backend in use, choosing it if needed.
func (f *FirewallDrop) Backend() (string, error) {
	fw, err := f.backend()
	if err != nil {
		return "", err
	}
	return fw.name(), nil
}

// Add blocks t.Addr; expires, when set, sets the nftables kernel timeout.
func (f *FirewallDrop) Add(ctx context.Context, t Target, expires time.Time) error {
	return f.AddMany(ctx, []Block{{Target: t, Expires: expires}})
}

// Delete lifts the block on t.Addr.
func (f *FirewallDrop) Delete(ctx context.Context, t Target) error {
	return f.DeleteMany(ctx, []Target{t})
}

// AddMany blocks all of blocks, in batches with nftables.
func (f *FirewallDrop) AddMany(ctx context.Context, blocks []Block) error {
	fw, err := f.backend()
	if err != nil {
		return err
	}
	valid := make([]Block, len(blocks))
	for i, b := range blocks {
		a, err := targetAddr(b.Target)
		if err != nil {
			return fmt.Errorf("firewall-drop: %w", err)
		}
		valid[i] = Block{Target: Target{Addr: a}, Expires: b.Expires}
	}
	return fw.add(ctx, valid)
}

// DeleteMany lifts the blocks on all of targets, in batches with nftables.
func (f *FirewallDrop) DeleteMany(ctx context.Context, targets []Target) error {
	fw, err := f.backend()
	if err != nil {
		return err
	}
	addrs := make([]netip.Addr, len(targets))
	for i, t := range targets {
		if addrs[i], err = targetAddr(t); err != nil {
			return fmt.Errorf("firewall-drop: %w", err)
		}
	}
	return fw.del(ctx, addrs)
}

// Refresh moves the kernel timeout of t's block to match expires (nftables);
// with iptables, which has no timeouts, it only makes sure the block is there.
func (f *FirewallDrop) Refresh(ctx context.Context, t Target, expires time.Time) error {
	fw, err := f.backend()
	if err != nil {
		return err
	}
	nft, ok := fw.(*nftBackend)
	if !ok {
		return f.Add(ctx, t, expires)
	}
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("firewall-drop: %w", err)
	}
	if err := nft.refresh(ctx, a, expires); err != nil {
		return fmt.Errorf("firewall-drop: nftables: %w", err)
	}
	return nil
}

// RefreshMany is Refresh for many blocks, in batches with nftables.
func (f *FirewallDrop) RefreshMany(ctx context.Context, blocks []Block) error {
	fw, err := f.backend()
	if err != nil {
		return err
	}
	nft, ok := fw.(*nftBackend)
	if !ok {
		return f.AddMany(ctx, blocks)
	}
	valid := make([]Block, len(blocks))
	for i, b := range blocks {
		a, err := targetAddr(b.Target)
		if err != nil {
			return fmt.Errorf("firewall-drop: %w", err)
		}
		valid[i] = Block{Target: Target{Addr: a}, Expires: b.Expires}
	}
	return nft.refreshMany(ctx, valid)
}

// kernelTimeouts reports whether blocks carry a kernel timeout: with the
// nftables backend they do.
func (f *FirewallDrop) kernelTimeouts() bool {
	fw, err := f.backend()
	return err == nil && fw.name() == BackendNFTables
}

// present reports which addresses are blocked. With nftables it first sets
// up the table, sets and rules again (in one transaction, so there is no
// moment without them): whoever removed a chain or a rule is undone too.
// With iptables an address counts when both its rules (INPUT and FORWARD)
// are there.
func (f *FirewallDrop) present(ctx context.Context) (func(Target) bool, error) {
	fw, err := f.backend()
	if err != nil {
		return nil, err
	}
	var in map[netip.Addr]bool
	switch b := fw.(type) {
	case *nftBackend:
		in, err = b.holding()
	case *ipTables:
		in, err = b.present(ctx)
	default:
		return func(Target) bool { return true }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("firewall-drop: %s: %w", fw.name(), err)
	}
	return func(t Target) bool { return in[t.Addr.Unmap()] }, nil
}

// prepare chooses the backend and, with nftables, sets the table up.
func (f *FirewallDrop) prepare(context.Context) error {
	fw, err := f.backend()
	if err != nil {
		return fmt.Errorf("firewall-drop: %w", err)
	}
	if nft, ok := fw.(*nftBackend); ok {
		if err := nft.prepare(); err != nil {
			return fmt.Errorf("firewall-drop: nftables: %w", err)
		}
	}
	return nil
}

// watch reports changes that other processes make to our nftables table.
func (f *FirewallDrop) watch(notify func(who string)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notify = notify
	if nft, ok := f.fw.(*nftBackend); ok {
		nft.setNotify(notify)
	}
	return nil
}

// Close releases the netlink socket of the nftables backend.
func (f *FirewallDrop) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if nft, ok := f.fw.(*nftBackend); ok {
		return nft.Close()
	}
	return nil
}

// backend returns the backend, choosing it on first use.
func (f *FirewallDrop) backend() (fwBackend, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fw != nil {
		return f.fw, nil
	}
	want, err := parseBackend(f.args)
	if err != nil {
		return nil, err
	}
	if want == BackendAuto {
		want = BackendNFTables
		if err := probeNFT(f.nftOpts...); err != nil {
			f.log.Info("firewall-drop: nftables unavailable, using iptables", "err", err)
			want = BackendIPTables
		}
	}
	if want == BackendNFTables {
		nft := newNFT(f.nftOpts...)
		nft.notify = f.notify
		f.fw = nft
	} else {
		f.fw = &ipTables{exec: f.exec}
	}
	return f.fw, nil
}
