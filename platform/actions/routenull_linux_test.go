package actions

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestRouteNull(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	r := &RouteNull{netns: n.fd}
	t.Cleanup(func() { r.Close() })
	blockCycle(t, n, r, time.Time{}, func(a netip.Addr) int {
		fam := "-4"
		if a.Is6() {
			fam = "-6"
		}
		c := 0
		for l := range strings.Lines(n.run(t, "ip", fam, "route", "show", "proto", "222")) {
			// "blackhole 198.51.100.2", "blackhole 2001:db8:5::2 dev lo metric 1024 pref medium"
			if f := strings.Fields(l); len(f) > 1 && f[0] == "blackhole" && f[1] == a.String() {
				c++
			}
		}
		return c
	})
}

func TestRouteNull_LeavesOthersRoutes(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	r := &RouteNull{netns: n.fd}
	t.Cleanup(func() { r.Close() })
	n.run(t, "ip", "route", "add", "blackhole", "198.51.100.9")
	if err := r.Delete(context.Background(), Target{Addr: netip.MustParseAddr("198.51.100.9")}); err != nil {
		t.Fatal(err)
	}
	if out := n.run(t, "ip", "route", "show", "198.51.100.9"); !strings.Contains(out, "blackhole") {
		t.Errorf("Delete removed an administrator's blackhole: %q", out)
	}
}

// TestRouteNull_Present lists our blackholes, both families, and not an
// administrator's blackhole for another address.
func TestRouteNull_Present(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	r := &RouteNull{netns: n.fd}
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()
	ours := []netip.Addr{netip.MustParseAddr("198.51.100.21"), netip.MustParseAddr("2001:db8::21")}
	for _, a := range ours {
		if err := r.Add(ctx, Target{Addr: a}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	n.run(t, "ip", "route", "add", "blackhole", "198.51.100.22")
	has, err := r.present(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ours {
		if !has(Target{Addr: a}) {
			t.Errorf("%v not listed", a)
		}
	}
	if has(Target{Addr: netip.MustParseAddr("198.51.100.22")}) {
		t.Error("an administrator's blackhole listed as ours")
	}
	n.run(t, "ip", "route", "del", "blackhole", "198.51.100.21")
	if has, _ = r.present(ctx); has(Target{Addr: ours[0]}) {
		t.Error("a removed route still listed")
	}
}
