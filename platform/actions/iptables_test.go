package actions

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// iptablesOS is a fake OS with iptables and ip6tables.
type iptablesOS struct {
	*xosFake
	v4, v6 *xosIPTables
}

func newIPTablesOS() *iptablesOS {
	o := &iptablesOS{newXOSFake(), newXOSIPTables("iptables"), newXOSIPTables("ip6tables")}
	o.tools["iptables"], o.tools["ip6tables"] = o.v4.run, o.v6.run
	return o
}

func (o *iptablesOS) state() string { return o.v4.state() + " " + o.v6.state() }

const (
	drop7  = "-s 203.0.113.7/32 -j DROP"
	drop76 = "-s 2001:db8::7/128 -j DROP"
)

func TestIPTables_Add(t *testing.T) {
	v4, v6 := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::7")
	tests := []struct {
		name   string
		before map[string][]string // iptables' chains before
		addr   netip.Addr
		want   []string
		state  string
	}{
		{"new", nil, v4, []string{
			"$ iptables -w -C INPUT -s 203.0.113.7 -j DROP",
			"$ iptables -w -I INPUT -s 203.0.113.7 -j DROP",
			"$ iptables -w -C FORWARD -s 203.0.113.7 -j DROP",
			"$ iptables -w -I FORWARD -s 203.0.113.7 -j DROP",
		}, "iptables[FORWARD: " + drop7 + "; INPUT: " + drop7 + "] ip6tables[]"},
		{"present", map[string][]string{"INPUT": {drop7}, "FORWARD": {drop7}}, v4, []string{
			"$ iptables -w -C INPUT -s 203.0.113.7 -j DROP",
			"$ iptables -w -C FORWARD -s 203.0.113.7 -j DROP",
		}, "iptables[FORWARD: " + drop7 + "; INPUT: " + drop7 + "] ip6tables[]"},
		{"half present", map[string][]string{"INPUT": {"-s 198.51.100.1/32 -j DROP", drop7}}, v4, []string{
			"$ iptables -w -C INPUT -s 203.0.113.7 -j DROP",
			"$ iptables -w -C FORWARD -s 203.0.113.7 -j DROP",
			"$ iptables -w -I FORWARD -s 203.0.113.7 -j DROP",
		}, "iptables[FORWARD: " + drop7 + "; INPUT: -s 198.51.100.1/32 -j DROP, " + drop7 + "] ip6tables[]"},
		{"ipv6", nil, v6, []string{
			"$ ip6tables -w -C INPUT -s 2001:db8::7 -j DROP",
			"$ ip6tables -w -I INPUT -s 2001:db8::7 -j DROP",
			"$ ip6tables -w -C FORWARD -s 2001:db8::7 -j DROP",
			"$ ip6tables -w -I FORWARD -s 2001:db8::7 -j DROP",
		}, "iptables[] ip6tables[FORWARD: " + drop76 + "; INPUT: " + drop76 + "]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newIPTablesOS()
			for c, rules := range tt.before {
				o.v4.chains[c] = rules
			}
			p := &ipTables{exec: o}
			if err := p.add(context.Background(), []Block{{Target: Target{Addr: tt.addr}}}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, o.take()); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
			if got := o.state(); got != tt.state {
				t.Errorf("state %s, want %s", got, tt.state)
			}
		})
	}
}

// TestIPTables_Delete checks that delete removes one rule per chain and
// that a missing rule is no error, in both wordings iptables has for it.
func TestIPTables_Delete(t *testing.T) {
	a := netip.MustParseAddr("203.0.113.7")
	want := []string{
		"$ iptables -w -D INPUT -s 203.0.113.7 -j DROP",
		"$ iptables -w -D FORWARD -s 203.0.113.7 -j DROP",
	}
	for _, tt := range []struct {
		name   string
		before []string // each chain's rules
		old    bool
		state  string
	}{
		{"present", []string{drop7}, false, "iptables[] ip6tables[]"},
		{"added twice by someone", []string{drop7, drop7}, false,
			"iptables[FORWARD: " + drop7 + "; INPUT: " + drop7 + "] ip6tables[]"},
		{"missing", nil, false, "iptables[] ip6tables[]"},
		{"missing, iptables 1.4", nil, true, "iptables[] ip6tables[]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := newIPTablesOS()
			o.v4.chains["INPUT"], o.v4.chains["FORWARD"], o.v4.old = slices.Clone(tt.before), slices.Clone(tt.before), tt.old
			p := &ipTables{exec: o}
			if err := p.del(context.Background(), []netip.Addr{a}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, o.take()); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
			if got := o.state(); got != tt.state {
				t.Errorf("state %s, want %s", got, tt.state)
			}
		})
	}
}

// TestIPTables_Present checks that an address counts as blocked only with
// both its rules, read with -S from each tool and chain.
func TestIPTables_Present(t *testing.T) {
	o := newIPTablesOS()
	o.v4.chains["INPUT"] = []string{drop7, "-s 198.51.100.1/32 -j DROP", "-s 198.51.100.0/24 -j DROP"}
	o.v4.chains["FORWARD"] = []string{drop7}
	o.v6.chains["INPUT"], o.v6.chains["FORWARD"] = []string{drop76}, []string{drop76}
	in, err := (&ipTables{exec: o}).present(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.Addr]bool{
		netip.MustParseAddr("203.0.113.7"): true, netip.MustParseAddr("2001:db8::7"): true,
		netip.MustParseAddr("198.51.100.1"): false,
	}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("present (-want +got):\n%s", diff)
	}
	if got := len(o.take()); got != 4 {
		t.Errorf("ran %d commands, want 4 (-S per tool and chain)", got)
	}
}

func TestIPTables_Errors(t *testing.T) {
	ctx := context.Background()
	a := netip.MustParseAddr("203.0.113.7")
	missing := &ipTables{exec: newXOSFake()}
	if err := missing.add(ctx, []Block{{Target: Target{Addr: a}}}); !errors.Is(err, ErrToolMissing) {
		t.Errorf("add without iptables: %v", err)
	}
	if err := missing.del(ctx, []netip.Addr{a}); !errors.Is(err, ErrToolMissing) {
		t.Errorf("delete without iptables: %v", err)
	}
	o := newIPTablesOS()
	o.v4.denied = true
	broken := &ipTables{exec: o}
	if err := broken.add(ctx, []Block{{Target: Target{Addr: a}}}); err == nil {
		t.Error("add hid a failure")
	}
	if err := broken.del(ctx, []netip.Addr{a}); err == nil {
		t.Error("delete hid a failure")
	}
	if _, err := broken.present(ctx); err == nil {
		t.Error("present hid a failure")
	}
}
