//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
)

// kset names a tool's nftables set of blocked IPv4 addresses.
type kset struct{ table, set string }

var (
	tldSet = kset{"threatlockdown", "blocked4"}
	f2bSet = kset{"f2b-table", "addr-set-sshd"}
)

// count lists the set in namespace ns with the nft command, as a person
// would check it, and returns how many of its elements are in want (the
// attackers of the phase; a warm-up address is not counted); 0 when the
// set does not exist.
func (k kset) count(ns string, want map[netip.Addr]bool) (int, error) {
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-j", "list", "set", "inet", k.table, k.set)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "No such file or directory") {
			return 0, nil
		}
		return 0, fmt.Errorf("nft list set inet %s %s in %s: %w", k.table, k.set, ns, err)
	}
	elems, err := parseNftSet(out)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range elems {
		if want[a] {
			n++
		}
	}
	return n, nil
}

// parseNftSet returns the addresses in the one set of `nft -j list set`
// output: plain "1.2.3.4" elements, or {"elem": {"val": "1.2.3.4", ...}}
// for elements with a timeout.
func parseNftSet(out []byte) ([]netip.Addr, error) {
	var doc struct {
		Nftables []struct {
			Set *struct {
				Elem []json.RawMessage `json:"elem"`
			} `json:"set"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("nft -j output: %w", err)
	}
	for _, o := range doc.Nftables {
		if o.Set == nil {
			continue
		}
		addrs := make([]netip.Addr, 0, len(o.Set.Elem))
		for _, raw := range o.Set.Elem {
			var s string
			var e struct {
				Elem struct{ Val string } `json:"elem"`
			}
			if json.Unmarshal(raw, &s) != nil {
				if err := json.Unmarshal(raw, &e); err != nil {
					return nil, fmt.Errorf("nft -j element %s: %w", raw, err)
				}
				s = e.Elem.Val
			}
			if a, err := netip.ParseAddr(s); err == nil {
				addrs = append(addrs, a)
			}
		}
		return addrs, nil
	}
	return nil, fmt.Errorf("nft -j output has no set")
}

// setOf is addrs as a set.
func setOf(addrs []netip.Addr) map[netip.Addr]bool {
	m := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		m[a] = true
	}
	return m
}
