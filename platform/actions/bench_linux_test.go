package actions

// Benchmarks of firewall-drop inside a test network namespace, as root:
//
//	go test -run '^$' -bench . -benchtime 1x ./platform/actions/
//
// Each reports s/10k-block and s/10k-unblock. The per-process baselines run
// on fewer addresses (procCap) and are extrapolated linearly to 10,000,
// which flatters iptables: its -C and -D get slower as rules accumulate.

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/threatlockdown/threatlockdown/engine"
	"golang.org/x/sys/unix"
)

const (
	benchBlocks = 10_000
	procCap     = 1_000 // addresses for the one-process-per-address baselines
)

// benchAddrs returns n distinct addresses of 198.18.0.0/15.
func benchAddrs(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{198, 18 + byte(i>>16&1), byte(i >> 8), byte(i)})
	}
	return out
}

// inNetns runs f on an OS thread moved into the network namespace fd, so
// that processes f starts live there too. The thread is discarded after.
func inNetns(fd int, f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		done <- f()
	}()
	return <-done
}

// benchCycle times block and unblock of addrs, b.N times, and reports the
// time per 10,000 addresses.
func benchCycle(b *testing.B, addrs []netip.Addr, block, unblock func([]netip.Addr) error) {
	var tb, tu time.Duration
	for b.Loop() {
		start := time.Now()
		if err := block(addrs); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := unblock(addrs); err != nil {
			b.Fatal(err)
		}
		tb, tu = tb+mid.Sub(start), tu+time.Since(mid)
	}
	scale := float64(benchBlocks) / float64(len(addrs)) / float64(b.N)
	b.ReportMetric(tb.Seconds()*scale, "s/10k-block")
	b.ReportMetric(tu.Seconds()*scale, "s/10k-unblock")
}

func BenchmarkBlock10k(b *testing.B) {
	ctx := context.Background()
	expires := time.Now().Add(time.Hour)
	b.Run("nftables-batched", func(b *testing.B) {
		n := newTestNetns(b)
		nft := newNFT(nftables.WithNetNSFd(n.fd))
		b.Cleanup(func() { nft.Close() })
		benchCycle(b, benchAddrs(benchBlocks),
			func(as []netip.Addr) error { return nft.add(ctx, blocksOf(as, expires)) },
			func(as []netip.Addr) error { return nft.del(ctx, as) })
	})
	b.Run("nftables-each", func(b *testing.B) {
		n := newTestNetns(b)
		nft := newNFT(nftables.WithNetNSFd(n.fd))
		b.Cleanup(func() { nft.Close() })
		benchCycle(b, benchAddrs(benchBlocks),
			func(as []netip.Addr) error {
				return eachAddr(as, func(bl []Block) error { return nft.add(ctx, bl) }, expires)
			},
			func(as []netip.Addr) error {
				return eachAddr(as, func(bl []Block) error { return nft.del(ctx, []netip.Addr{bl[0].Target.Addr}) }, expires)
			})
	})
	b.Run("iptables-process", func(b *testing.B) {
		requireRoot(b, "runs iptables in a network namespace", "iptables")
		n := newTestNetns(b)
		ipt := &ipTables{exec: OSExec{}}
		benchCycle(b, benchAddrs(procCap),
			func(as []netip.Addr) error {
				return inNetns(n.fd, func() error { return ipt.add(ctx, blocksOf(as, expires)) })
			},
			func(as []netip.Addr) error { return inNetns(n.fd, func() error { return ipt.del(ctx, as) }) })
	})
	b.Run("nft-process", func(b *testing.B) {
		requireRoot(b, "runs nft in a network namespace", "nft")
		n := newTestNetns(b)
		nft := newNFT(nftables.WithNetNSFd(n.fd))
		if err := nft.ensure(); err != nil {
			b.Fatal(err)
		}
		nft.Close()
		benchCycle(b, benchAddrs(procCap),
			func(as []netip.Addr) error {
				return inNetns(n.fd, func() error { return nftEach(as, "add", "timeout 3660s ") })
			},
			func(as []netip.Addr) error { return inNetns(n.fd, func() error { return nftEach(as, "delete", "") }) })
	})
}

func blocksOf(addrs []netip.Addr, expires time.Time) []Block {
	out := make([]Block, len(addrs))
	for i, a := range addrs {
		out[i] = Block{Target: Target{Addr: a}, Expires: expires}
	}
	return out
}

// eachAddr calls f once per address: one netlink transaction each.
func eachAddr(addrs []netip.Addr, f func([]Block) error, expires time.Time) error {
	for _, a := range addrs {
		if err := f([]Block{{Target: Target{Addr: a}, Expires: expires}}); err != nil {
			return err
		}
	}
	return nil
}

// nftEach runs one nft process per address, as a script would.
func nftEach(addrs []netip.Addr, op, opts string) error {
	for _, a := range addrs {
		elem := fmt.Sprintf("{ %s %s}", a, opts)
		if out, err := exec.Command("nft", op, "element", "inet", nftTableName, nftSet4Name, elem).CombinedOutput(); err != nil {
			return fmt.Errorf("nft %s %s: %v: %s", op, a, err, out)
		}
	}
	return nil
}

// BenchmarkReassert100k re-applies 100,000 blocks into an empty set, as
// after a reboot: straight through the batch API, and through
// Runner.Reassert from the engine's stored entries.
func BenchmarkReassert100k(b *testing.B) {
	const count = 100_000
	ctx := context.Background()
	expires := time.Now().Add(time.Hour)
	addrs := benchAddrs(count)
	b.Run("AddMany", func(b *testing.B) {
		n := newTestNetns(b)
		f := &FirewallDrop{args: []string{"backend=nftables"}, nftOpts: []nftables.ConnOption{nftables.WithNetNSFd(n.fd)}}
		b.Cleanup(func() { f.Close() })
		blocks := blocksOf(addrs, expires)
		benchReboots(b, n, f, func() error { return f.AddMany(ctx, blocks) })
	})
	b.Run("Runner", func(b *testing.B) {
		n := newTestNetns(b)
		f := &FirewallDrop{args: []string{"backend=nftables"}, nftOpts: []nftables.ConnOption{nftables.WithNetNSFd(n.fd)}}
		b.Cleanup(func() { f.Close() })
		r := NewRunner(Config{}, nil)
		r.newAction = func(string, Config) (Action, bool) { return f, true }
		entries := make([]engine.Entry, count)
		for i, a := range addrs {
			params := `{"extra_args":[],"alert":{"rule":{"level":10},"data":{"srcip":"` + a.String() + `"}},"program":"active-response/bin/firewall-drop"}`
			entries[i] = engine.Entry{Command: &engine.Command{Executable: "firewall-drop"}, Params: []byte(params),
				Fields: engine.Fields{SrcIP: a.String(), User: "-"}, Expires: expires}
		}
		benchReboots(b, n, f, func() error { _, err := r.Reassert(ctx, entries); return err })
	})
}

// benchReboots times reassert after wiping n's ruleset ("reboot") each time.
func benchReboots(b *testing.B, n *testNetns, f *FirewallDrop, reassert func() error) {
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		wipeRuleset(b, n)
		f.Close() // forget the table, as a new process would
		b.StartTimer()
		start := time.Now()
		if err := reassert(); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/100k")
}

func wipeRuleset(b *testing.B, n *testNetns) {
	c, err := nftables.New(nftables.WithNetNSFd(n.fd))
	if err != nil {
		b.Fatal(err)
	}
	c.FlushRuleset()
	if err := c.Flush(); err != nil {
		b.Fatal(err)
	}
}
