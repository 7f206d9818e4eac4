package actions

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const badRule = "iptables: Bad rule (does a matching rule exist in that chain?)."

func TestIPTables_Add(t *testing.T) {
	v4, v6 := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::7")
	tests := []struct {
		name string
		fake *argvExec
		addr netip.Addr
		want []string
	}{
		{"new", new(argvExec).on("iptables -w -C", badRule, errExit1), v4, []string{
			"iptables -w -C INPUT -s 203.0.113.7 -j DROP",
			"iptables -w -I INPUT -s 203.0.113.7 -j DROP",
			"iptables -w -C FORWARD -s 203.0.113.7 -j DROP",
			"iptables -w -I FORWARD -s 203.0.113.7 -j DROP",
		}},
		{"present", new(argvExec), v4, []string{
			"iptables -w -C INPUT -s 203.0.113.7 -j DROP",
			"iptables -w -C FORWARD -s 203.0.113.7 -j DROP",
		}},
		{"half present", new(argvExec).on("iptables -w -C FORWARD", badRule, errExit1), v4, []string{
			"iptables -w -C INPUT -s 203.0.113.7 -j DROP",
			"iptables -w -C FORWARD -s 203.0.113.7 -j DROP",
			"iptables -w -I FORWARD -s 203.0.113.7 -j DROP",
		}},
		{"ipv6", new(argvExec).on("ip6tables -w -C", badRule, errExit1), v6, []string{
			"ip6tables -w -C INPUT -s 2001:db8::7 -j DROP",
			"ip6tables -w -I INPUT -s 2001:db8::7 -j DROP",
			"ip6tables -w -C FORWARD -s 2001:db8::7 -j DROP",
			"ip6tables -w -I FORWARD -s 2001:db8::7 -j DROP",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &ipTables{exec: tt.fake}
			if err := p.add(context.Background(), []Block{{Target: Target{Addr: tt.addr}}}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, tt.fake.lines()); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIPTables_Delete(t *testing.T) {
	a := netip.MustParseAddr("203.0.113.7")
	want := []string{
		"iptables -w -D INPUT -s 203.0.113.7 -j DROP",
		"iptables -w -D FORWARD -s 203.0.113.7 -j DROP",
	}
	for name, fake := range map[string]*argvExec{
		"present": new(argvExec),
		"missing": new(argvExec).on("iptables -w -D", badRule, errExit1),
		"legacy":  new(argvExec).on("iptables -w -D", "iptables: No chain/target/match by that name.", errExit1),
	} {
		t.Run(name, func(t *testing.T) {
			p := &ipTables{exec: fake}
			if err := p.del(context.Background(), []netip.Addr{a}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, fake.lines()); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIPTables_Errors(t *testing.T) {
	ctx := context.Background()
	a := netip.MustParseAddr("203.0.113.7")
	missing := &ipTables{exec: new(argvExec).on("iptables", "", errNotFound)}
	if err := missing.add(ctx, []Block{{Target: Target{Addr: a}}}); !errors.Is(err, ErrToolMissing) {
		t.Errorf("add without iptables: %v", err)
	}
	if err := missing.del(ctx, []netip.Addr{a}); !errors.Is(err, ErrToolMissing) {
		t.Errorf("delete without iptables: %v", err)
	}
	broken := &ipTables{exec: new(argvExec).on("iptables", "Permission denied (you must be root)", errExit1)}
	if err := broken.add(ctx, []Block{{Target: Target{Addr: a}}}); err == nil {
		t.Error("add hid a failure")
	}
	if err := broken.del(ctx, []netip.Addr{a}); err == nil {
		t.Error("delete hid a failure")
	}
}
