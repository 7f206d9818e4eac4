package engine

import (
	"net/netip"
	"strings"
)

// Target is what a command acts upon, decoded from the alert and validated
// once, here: the alert's source address in canonical form (an IPv4-mapped
// address is the IPv4 address it carries), or, when it has none, the user
// it names. Actions receive it typed and never read the alert for it again.
// The zero Target is an alert with neither.
type Target struct {
	Addr netip.Addr // valid when the alert has a source address
	User string     // data.dstuser; "" when absent
}

// IsZero reports whether t names nothing to act upon.
func (t Target) IsZero() bool { return !t.Addr.IsValid() && t.User == "" }

// Key is the check_keys key a Wazuh stock script sends for t: the address,
// else the user; "" for the zero Target.
func (t Target) Key() string {
	if t.Addr.IsValid() {
		return t.Addr.String()
	}
	return t.User
}

// Target returns the target of the alert values in f: they were validated
// when the alert matched (see validate), so a value that no longer parses
// (a store written by an older version) counts as absent.
func (f Fields) Target() Target {
	var t Target
	if f.SrcIP != "" && f.SrcIP != "-" {
		if a, err := netip.ParseAddr(strings.TrimPrefix(f.SrcIP, "::ffff:")); err == nil && a.Zone() == "" {
			t.Addr = a.Unmap()
		}
	}
	if f.User != "-" {
		t.User = f.User
	}
	return t
}
