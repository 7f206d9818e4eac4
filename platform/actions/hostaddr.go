package actions

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrNotConfigured means a firewall lacks what an action needs and the
// action will not create it: npf's table, which only npf.conf can define.
var ErrNotConfigured = errors.New("firewall not configured")

// targetAddr returns the address an address action may put on a command
// line: valid, without zone, IPv4-mapped IPv6 unmapped to IPv4, and neither
// unspecified nor loopback. Its String form holds only [0-9a-f.:].
func targetAddr(t Target) (netip.Addr, error) {
	a := t.Addr
	switch {
	case !a.IsValid():
		return netip.Addr{}, fmt.Errorf("%w: no address", ErrInvalidTarget)
	case a.Zone() != "":
		return netip.Addr{}, fmt.Errorf("%w: address with zone %q", ErrInvalidTarget, a.Zone())
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsLoopback() {
		return netip.Addr{}, fmt.Errorf("%w: %s", ErrInvalidTarget, a)
	}
	return a, nil
}

// hostBits is the prefix length of a single-host prefix of a's family.
func hostBits(a netip.Addr) int {
	if a.Is4() {
		return 32
	}
	return 128
}

// hostPrefix renders a as a host prefix, "203.0.113.5/32" or "2001:db8::1/128",
// the form netsh, ipfw and ipfstat print.
func hostPrefix(a netip.Addr) string {
	return netip.PrefixFrom(a, hostBits(a)).String()
}

// sameHost reports whether s names exactly a, either bare or as a host prefix.
func sameHost(s string, a netip.Addr) bool {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Bits() == hostBits(a) && p.Addr().Unmap() == a
	}
	b, err := netip.ParseAddr(s)
	return err == nil && b.Unmap() == a
}
