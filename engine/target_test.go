package engine

import (
	"net/netip"
	"testing"
)

func TestFields_Target(t *testing.T) {
	for _, c := range []struct {
		name string
		f    Fields
		want Target
	}{
		{"address", Fields{SrcIP: "203.0.113.7", User: "-"}, Target{Addr: netip.MustParseAddr("203.0.113.7")}},
		{"IPv6 in canonical form", Fields{SrcIP: "2001:DB8:0:0::4", User: "-"}, Target{Addr: netip.MustParseAddr("2001:db8::4")}},
		{"IPv4-mapped is IPv4", Fields{SrcIP: "::ffff:198.51.100.9", User: "-"}, Target{Addr: netip.MustParseAddr("198.51.100.9")}},
		{"user only", Fields{SrcIP: "-", User: "mallory"}, Target{User: "mallory"}},
		{"both", Fields{SrcIP: "203.0.113.7", User: "mallory"}, Target{Addr: netip.MustParseAddr("203.0.113.7"), User: "mallory"}},
		{"zone is not an address", Fields{SrcIP: "fe80::1%eth0", User: "-"}, Target{}},
		{"neither", Fields{SrcIP: "-", User: "-"}, Target{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.f.Target()
			if got != c.want {
				t.Fatalf("Target() = %+v, want %+v", got, c.want)
			}
			if got.IsZero() != (c.want == Target{}) {
				t.Errorf("IsZero() = %v", got.IsZero())
			}
		})
	}
	if k := (Target{Addr: netip.MustParseAddr("2001:db8::4"), User: "x"}).Key(); k != "2001:db8::4" {
		t.Errorf("Key() = %q, want the address", k)
	}
	if k := (Target{User: "x"}).Key(); k != "x" {
		t.Errorf("Key() = %q, want the user", k)
	}
}
