//go:build linux

package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestE2E_PurgeRemovesOurTable: the daemon blocks with the built-in
// firewall-drop inside a network namespace of its own and is stopped (the
// block stays, as on any stop); purge then lifts the block and removes the
// nftables table the built-in made, so nft lists no threatlockdown table.
// A second purge finds nothing to lift or remove.
func TestE2E_PurgeRemovesOurTable(t *testing.T) {
	ns := newNetns(t, "tld-purge")
	root := newRoot(t, confFor("firewall-drop", 3600))
	inNS := func(args ...string) (string, error) {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
		return string(out), err
	}
	d := launch(t, root, exec.Command("ip", "netns", "exec", ns, binary, "run", "--root", root))
	d.alert("203.0.113.78", "8.1")
	waitFor(t, d, "203.0.113.78 in the nftables set", func() bool {
		out, _ := inNS("nft", "list", "set", "inet", "threatlockdown", "blocked4")
		return strings.Contains(out, "203.0.113.78")
	})
	waitLog(t, d, `msg="active responses decided in group"`) // its entry is stored
	d.sigterm(10 * time.Second)
	if out, _ := inNS("nft", "list", "tables"); !strings.Contains(out, "table inet threatlockdown") {
		t.Fatalf("no table after the stop:\n%s", out)
	}

	out, err := inNS(binary, "purge", "--root", root)
	if err != nil {
		t.Fatalf("purge: %v\n%s", err, out)
	}
	for _, want := range []string{
		"removed nftables table inet threatlockdown (0 blocks left in it)",
		"lifted 1 active responses",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("purge says %q, want %q in it", out, want)
		}
	}
	if tables, err := inNS("nft", "list", "tables"); err != nil || strings.Contains(tables, "threatlockdown") {
		t.Errorf("nft list tables after purge (%v):\n%s", err, tables)
	}

	out, err = inNS(binary, "purge", "--root", root)
	if err != nil || !strings.Contains(out, "nothing to lift") || strings.Contains(out, "removed") {
		t.Errorf("second purge: %v\n%s", err, out)
	}
}
