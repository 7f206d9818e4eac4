package actions

import (
	"context"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/threatlockdown/threatlockdown/engine"
)

// nsFirewallDrop is firewall-drop working inside n's host namespace.
func nsFirewallDrop(t *testing.T, n *testNetns, extraArgs ...string) *FirewallDrop {
	f := NewFirewallDrop(Config{Exec: n.exec(), ExtraArgs: extraArgs})
	f.nftOpts = []nftables.ConnOption{nftables.WithNetNSFd(n.fd)}
	t.Cleanup(func() { f.Close() })
	return f
}

// nftElements returns the elements of our sets in n, with their timeouts.
func nftElements(t *testing.T, n *testNetns) map[netip.Addr]time.Duration {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(n.fd))
	if err != nil {
		t.Fatal(err)
	}
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: nftTableName}
	m := make(map[netip.Addr]time.Duration)
	for _, name := range []string{nftSet4Name, nftSet6Name} {
		elems, err := c.GetSetElements(&nftables.Set{Table: table, Name: name})
		if err != nil {
			t.Fatalf("list %s: %v", name, err)
		}
		for _, e := range elems {
			a, _ := netip.AddrFromSlice(e.Key)
			if _, dup := m[a]; dup {
				t.Errorf("%s twice in %s", a, name)
			}
			m[a] = e.Timeout
		}
	}
	return m
}

// blockCycle blocks b's addresses in a twice, checks ping, unblocks twice
// and checks again; count reports how many rules or elements block addr.
func blockCycle(t *testing.T, n *testNetns, act Action, expires time.Time, count func(netip.Addr) int) {
	t.Helper()
	ctx := context.Background()
	if !n.reachable(n.a4) || !n.reachable(n.a6) {
		t.Fatal("no connectivity between the test namespaces before any block")
	}
	peers := []netip.Addr{n.b4, n.b6}
	for range 2 {
		for _, p := range peers {
			if err := act.Add(ctx, Target{Addr: p}, expires); err != nil {
				t.Fatalf("add %s: %v", p, err)
			}
		}
	}
	for _, p := range peers {
		if got := count(p); got != 1 {
			t.Errorf("%s blocked by %d rules after two adds, want 1", p, got)
		}
	}
	n.assertBlocked(t, n.a4, true)
	n.assertBlocked(t, n.a6, true)
	for range 2 {
		for _, p := range peers {
			if err := act.Delete(ctx, Target{Addr: p}); err != nil {
				t.Fatalf("delete %s: %v", p, err)
			}
		}
	}
	for _, p := range peers {
		if got := count(p); got != 0 {
			t.Errorf("%s still blocked by %d rules after delete", p, got)
		}
	}
	n.assertBlocked(t, n.a4, false)
	n.assertBlocked(t, n.a6, false)
}

func TestFirewallDrop_NFTables(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	f := nsFirewallDrop(t, n, "backend=nftables")
	expires := time.Now().Add(time.Hour)
	blockCycle(t, n, f, expires, func(a netip.Addr) int {
		timeout, ok := nftElements(t, n)[a]
		if ok && (timeout < time.Hour+nftMargin-time.Minute || timeout > time.Hour+nftMargin) {
			t.Errorf("%s has kernel timeout %v, want about %v", a, timeout, time.Hour+nftMargin)
		}
		if ok {
			return 1
		}
		return 0
	})
	if _, err := exec.LookPath("nft"); err == nil {
		out := n.run(t, "nft", "list", "table", "inet", nftTableName)
		for _, want := range []string{
			"hook input priority filter - 10; policy accept;",
			"hook forward priority filter - 10; policy accept;",
			"ip saddr @blocked4 counter packets",
			"ip6 saddr @blocked6 counter packets",
		} {
			if strings.Count(out, want) == 0 {
				t.Errorf("nft list table lacks %q:\n%s", want, out)
			}
		}
	}
}

func TestFirewallDrop_NFTablesRecreatesTable(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	f := nsFirewallDrop(t, n)
	ctx := context.Background()
	if name, err := f.Backend(); err != nil || name != BackendNFTables {
		t.Fatalf("auto backend = %q, %v; want nftables on this kernel", name, err)
	}
	if err := f.Add(ctx, Target{Addr: n.b4}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	c, _ := nftables.New(nftables.WithNetNSFd(n.fd))
	c.DelTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: nftTableName})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, Target{Addr: n.b4}); err != nil {
		t.Errorf("delete after the table vanished: %v", err)
	}
	if err := f.Add(ctx, Target{Addr: n.b4}, time.Time{}); err != nil {
		t.Fatalf("add after the table vanished: %v", err)
	}
	if got := nftElements(t, n); got[n.b4] != 0 || len(got) != 1 {
		t.Errorf("elements %v, want %s without timeout", got, n.b4)
	}
	n.assertBlocked(t, n.a4, true)
}

func TestFirewallDrop_NFTablesKernelTimeout(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	f := nsFirewallDrop(t, n, "backend=nftables")
	fw, _ := f.backend()
	fw.(*nftBackend).margin = 0 // the kernel drops the element at the revert time
	if !n.reachable(n.a4) {
		t.Fatal("no connectivity before the block")
	}
	start := time.Now()
	if err := f.Add(context.Background(), Target{Addr: n.b4}, start.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	n.assertBlocked(t, n.a4, true)
	for !n.ping(n.a4, 500*time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the element never expired")
		}
	}
	if el := time.Since(start); el < 1500*time.Millisecond {
		t.Errorf("unblocked after %v, before its 2 s timeout", el)
	}
	if got := nftElements(t, n); len(got) != 0 {
		t.Errorf("elements left: %v", got)
	}
}

func TestFirewallDrop_NFTablesRefresh(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	f := nsFirewallDrop(t, n, "backend=nftables")
	ctx := context.Background()
	now := time.Now()
	if err := f.Add(ctx, Target{Addr: n.b6}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{time.Hour, 10 * time.Minute} { // longer, then shorter
		if err := f.Refresh(ctx, Target{Addr: n.b6}, now.Add(d)); err != nil {
			t.Fatal(err)
		}
		got := nftElements(t, n)[n.b6]
		if want := d + nftMargin; got < want-time.Minute || got > want {
			t.Errorf("after refresh to %v: kernel timeout %v, want about %v", d, got, want)
		}
	}
	if err := f.Refresh(ctx, Target{Addr: n.b4}, now.Add(time.Hour)); err != nil {
		t.Fatalf("refresh of a missing element: %v", err)
	}
	if got := nftElements(t, n); len(got) != 2 {
		t.Errorf("elements %v, want both", got)
	}
}

// TestFirewallDrop_NFTablesRefreshMany moves the timeouts of several
// elements in one batch, both families, one of them missing before.
func TestFirewallDrop_NFTablesRefreshMany(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	f := nsFirewallDrop(t, n, "backend=nftables")
	ctx := context.Background()
	now := time.Now()
	if err := f.Add(ctx, Target{Addr: n.b6}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	f.nftChunk(1) // every element in a transaction of its own, as a long batch would be split
	blocks := []Block{{Target{Addr: n.b6}, now.Add(time.Hour)}, {Target{Addr: n.b4}, now.Add(2 * time.Hour)}}
	if err := f.RefreshMany(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	got := nftElements(t, n)
	for _, b := range blocks {
		want := b.Expires.Sub(now) + nftMargin
		if el := got[b.Target.Addr]; el < want-time.Minute || el > want {
			t.Errorf("%v: kernel timeout %v, want about %v", b.Target.Addr, el, want)
		}
	}
	if len(got) != 2 {
		t.Errorf("elements %v, want both", got)
	}
}

func TestFirewallDrop_IPTables(t *testing.T) {
	t.Parallel()
	requireRoot(t, "runs iptables in a network namespace", "iptables", "ip6tables")
	n := newTestNetns(t)
	f := nsFirewallDrop(t, n, "backend=iptables")
	blockCycle(t, n, f, time.Now().Add(time.Hour), func(a netip.Addr) int {
		total := 0
		for _, chain := range iptablesChains {
			out := n.run(t, iptablesCmd(a), "-w", "-S", chain)
			c := countLines(out, "-A "+chain+" -s "+netip.PrefixFrom(a, a.BitLen()).String()+" -j DROP")
			if c > 1 {
				t.Errorf("%s: %d rules for %s", chain, c, a)
			}
			total += c
		}
		return total / len(iptablesChains)
	})
}

// TestFirewallDrop_IPTablesPresent lists the iptables blocks: an address
// counts only with its rules in both chains, IPv4 and IPv6.
func TestFirewallDrop_IPTablesPresent(t *testing.T) {
	t.Parallel()
	requireRoot(t, "runs iptables in a network namespace", "iptables", "ip6tables")
	n := newTestNetns(t)
	f := nsFirewallDrop(t, n, "backend=iptables")
	ctx := context.Background()
	if err := f.AddMany(ctx, []Block{{Target: Target{Addr: n.b4}}, {Target: Target{Addr: n.b6}}}); err != nil {
		t.Fatal(err)
	}
	n.run(t, "iptables", "-w", "-A", "INPUT", "-s", "198.51.100.77", "-j", "ACCEPT") // not ours
	has, err := f.present(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !has(Target{Addr: n.b4}) || !has(Target{Addr: n.b6}) || has(Target{Addr: netip.MustParseAddr("198.51.100.77")}) {
		t.Errorf("present: b4 %v, b6 %v; want both, and not the ACCEPT rule", has(Target{Addr: n.b4}), has(Target{Addr: n.b6}))
	}
	n.run(t, "iptables", "-w", "-D", "FORWARD", "-s", n.b4.String(), "-j", "DROP") // half removed
	if has, _ = f.present(ctx); has(Target{Addr: n.b4}) {
		t.Error("an address with one of its two rules gone counts as present")
	}
}

func TestFirewallDrop_ManyAndMissing(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	f := nsFirewallDrop(t, n, "backend=nftables")
	ctx := context.Background()
	var blocks []Block
	var targets []Target
	for i := range 2500 { // three transactions
		a := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		blocks = append(blocks, Block{Target: Target{Addr: a}, Expires: time.Now().Add(time.Hour)})
		targets = append(targets, Target{Addr: a})
	}
	if err := f.AddMany(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	if got := len(nftElements(t, n)); got != 2500 {
		t.Fatalf("%d elements, want 2500", got)
	}
	// Delete a batch where most elements are gone already.
	if err := f.DeleteMany(ctx, targets[:2000]); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteMany(ctx, targets); err != nil {
		t.Fatalf("delete with missing elements: %v", err)
	}
	if got := len(nftElements(t, n)); got != 0 {
		t.Errorf("%d elements left", got)
	}
}

// nftChunk sets how many elements go in one transaction.
func (f *FirewallDrop) nftChunk(n int) {
	fw, _ := f.backend()
	fw.(*nftBackend).chunk = n
}

// TestFirewallDrop_PresentAndWatch: present lists the blocked addresses and
// puts back a rule someone flushed; a delete by another process (here nft)
// is reported with its name, our own changes are not.
func TestFirewallDrop_PresentAndWatch(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	f := nsFirewallDrop(t, n, "backend=nftables")
	seen := make(chan string, 16)
	if err := f.watch(func(who string) { seen <- who }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := f.AddMany(ctx, []Block{{Target{Addr: n.b4}, time.Now().Add(time.Hour)}, {Target{Addr: n.b6}, time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	n.assertBlocked(t, n.a4, true)

	n.run(t, "nft", "flush", "chain", "inet", "threatlockdown", "input")
	select {
	case who := <-seen:
		if !strings.HasPrefix(who, "nft[") {
			t.Errorf("reported remover %q, want nft[PID]", who)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the flush by nft was not reported")
	}
	has, err := f.present(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !has(Target{Addr: n.b4}) || !has(Target{Addr: n.b6}) || has(Target{Addr: n.a4}) {
		t.Errorf("present: b4 %v, b6 %v, a4 %v; want true, true, false", has(Target{Addr: n.b4}), has(Target{Addr: n.b6}), has(Target{Addr: n.a4}))
	}
	n.assertBlocked(t, n.a4, true) // the flushed rule is back

	if err := f.Delete(ctx, Target{Addr: n.b6}); err != nil { // our own delete: not reported
		t.Fatal(err)
	}
	if err := f.Add(ctx, Target{Addr: n.b6}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Notifications arrive in order: the next one reported must be nft's.
	n.run(t, "nft", "delete", "element", "inet", "threatlockdown", "blocked6", "{ "+n.b6.String()+" }")
	select {
	case who := <-seen:
		if !strings.HasPrefix(who, "nft[") {
			t.Errorf("reported %q for our own changes", who)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the delete by nft was not reported")
	}
}

// TestRunner_PrepareSetsTheTableUp: the daemon prepares firewall-drop at
// start, so that the first block does not pay for setting the table up;
// preparing again changes nothing in the kernel.
func TestRunner_PrepareSetsTheTableUp(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	r := NewRunner(Config{Exec: n.exec()}, nil)
	r.newAction = func(name string, cfg Config) (Action, bool) {
		a, ok := New(name, cfg)
		if f, isFD := a.(*FirewallDrop); isFD {
			f.nftOpts = []nftables.ConnOption{nftables.WithNetNSFd(n.fd)}
		}
		return a, ok
	}
	t.Cleanup(func() { r.Close() })
	c, err := nftables.New(nftables.WithNetNSFd(n.fd))
	if err != nil {
		t.Fatal(err)
	}
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: nftTableName}
	handles := func() []uint64 {
		t.Helper()
		var hs []uint64
		for _, chain := range []string{"input", "forward"} {
			rules, err := c.GetRules(table, &nftables.Chain{Name: chain, Table: table})
			if err != nil {
				t.Fatalf("rules of chain %s: %v", chain, err)
			}
			for _, rule := range rules {
				hs = append(hs, rule.Handle)
			}
		}
		return hs
	}
	if _, err := c.ListTableOfFamily(nftTableName, nftables.TableFamilyINet); err == nil {
		t.Fatal("the table is there before anything ran")
	}

	cmds := []engine.Command{
		{Name: "firewall-drop", Executable: "firewall-drop"},
		{Name: "host-deny", Executable: "host-deny"},
		{Name: "no-such-builtin", Executable: "no-such-builtin"},
	}
	if err := r.Prepare(context.Background(), cmds); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	first := handles()
	if len(first) != 4 {
		t.Fatalf("after prepare the chains hold %d rules, want 4 (input and forward, v4 and v6)", len(first))
	}
	if got := nftElements(t, n); len(got) != 0 {
		t.Errorf("prepare blocked %v", got)
	}
	if err := r.Prepare(context.Background(), cmds); err != nil {
		t.Fatalf("prepare again: %v", err)
	}
	if again := handles(); !slices.Equal(first, again) {
		t.Errorf("preparing again rewrote the rules: handles %v, then %v", first, again)
	}
	a, err := r.action("firewall-drop", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Add(context.Background(), Target{Addr: n.b4}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if again := handles(); !slices.Equal(first, again) {
		t.Errorf("the first block after prepare set the table up again: handles %v, then %v", first, again)
	}
	n.assertBlocked(t, n.a4, true)
}
