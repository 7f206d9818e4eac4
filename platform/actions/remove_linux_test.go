package actions

import (
	"context"
	"strings"
	"testing"
	"time"
)

// nftTables lists the tables in n's host namespace with nft, as an admin
// would check.
func nftTables(t *testing.T, n *testNetns) string {
	t.Helper()
	return n.run(t, "nft", "list", "tables")
}

// TestFirewallDrop_RemoveAll: after blocks were made (and one left in the
// set, as a block nobody lifted would be), RemoveAll deletes our table with
// its sets and chains: nft lists no threatlockdown table, the peer gets
// through, and a second call finds nothing. The same action still works
// afterwards (it sets the table up again), and RemoveAll on a command
// configured for iptables removes the table too: it is ours whatever the
// backend.
func TestFirewallDrop_RemoveAll(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	requireRoot(t, "lists the namespace's tables", "nft")
	f := nsFirewallDrop(t, n)
	ctx := context.Background()
	if err := f.Add(ctx, Target{Addr: n.b4}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(nftTables(t, n), "table inet "+nftTableName) {
		t.Fatalf("no table after a block:\n%s", nftTables(t, n))
	}
	n.assertBlocked(t, n.a4, true)

	removed, err := f.RemoveAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := "nftables table inet threatlockdown (1 blocks left in it)"; len(removed) != 1 || removed[0] != want {
		t.Errorf("removed %q, want %q", removed, want)
	}
	if out := nftTables(t, n); strings.Contains(out, nftTableName) {
		t.Errorf("table left after RemoveAll:\n%s", out)
	}
	n.assertBlocked(t, n.a4, false)
	if removed, err := f.RemoveAll(ctx); err != nil || removed != nil {
		t.Errorf("second RemoveAll: %q, %v", removed, err)
	}

	if err := f.Add(ctx, Target{Addr: n.b4}, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("add after RemoveAll: %v", err)
	}
	n.assertBlocked(t, n.a4, true)
	ipt := nsFirewallDrop(t, n, "backend=iptables")
	if removed, err := ipt.RemoveAll(ctx); err != nil || len(removed) != 1 {
		t.Errorf("RemoveAll with backend=iptables: %q, %v", removed, err)
	}
	if out := nftTables(t, n); strings.Contains(out, nftTableName) {
		t.Errorf("table left after RemoveAll:\n%s", out)
	}
	n.assertBlocked(t, n.a4, false)
}
