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
