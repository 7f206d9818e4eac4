package actions

import (
	"context"
	"net/netip"
	"strings"
	"time"
)

// RouteBlackhole is route-null on macOS and FreeBSD: a host route to the
// loopback address with the blackhole flag, as Wazuh's route-null does:
//
//	route -q add 203.0.113.5 127.0.0.1 -blackhole
//	route -q add -inet6 2001:db8::1 ::1 -blackhole
//
// Wazuh passes an IPv6 address with the IPv4 gateway 127.0.0.1, which route
// rejects; we give IPv6 the family flag and the gateway ::1.
//
// Idempotency comes from state: "route -n get ADDR" is read first, so a
// present blackhole route is not added again (route fails with "File
// exists") and a missing one is not deleted (route fails with "not in
// table").
type RouteBlackhole struct {
	exec Execer
}

var _ Action = (*RouteBlackhole)(nil)

// NewRouteBlackhole returns the BSD and macOS route-null.
func NewRouteBlackhole(cfg Config) *RouteBlackhole {
	return &RouteBlackhole{exec: cfg.Exec}
}

// Name implements Action.
func (r *RouteBlackhole) Name() string { return "route-null" }

// Add adds the blackhole route unless it is there.
func (r *RouteBlackhole) Add(ctx context.Context, t Target, _ time.Time) error {
	return r.change(ctx, t, "add", false)
}

// Delete removes the blackhole route if it is there.
func (r *RouteBlackhole) Delete(ctx context.Context, t Target) error {
	return r.change(ctx, t, "delete", true)
}

// change runs "route -q OP ..." when the route's presence equals ifPresent.
func (r *RouteBlackhole) change(ctx context.Context, t Target, op string, ifPresent bool) error {
	a, err := targetAddr(t)
	if err != nil {
		return wrapExec("route-null", err)
	}
	out, err := r.exec.Run(ctx, "route", routeGetArgs(a)...)
	if err != nil && toolMissing(err) {
		return wrapExec("route-null", err)
	}
	// A failed get means no route at all: not even a default one.
	present := err == nil && routeIsBlackhole(out, a)
	if present != ifPresent {
		return nil
	}
	if _, err := r.exec.Run(ctx, "route", routeBlackholeArgs(op, a)...); err != nil {
		return wrapExec("route-null", err)
	}
	return nil
}

// routeBlackholeArgs is "route -q add|delete [-inet6] ADDR GW -blackhole".
func routeBlackholeArgs(op string, a netip.Addr) []string {
	if a.Is4() {
		return []string{"-q", op, a.String(), "127.0.0.1", "-blackhole"}
	}
	return []string{"-q", op, "-inet6", a.String(), "::1", "-blackhole"}
}

// routeGetArgs is "route -n get [-inet6] ADDR".
func routeGetArgs(a netip.Addr) []string {
	if a.Is4() {
		return []string{"-n", "get", a.String()}
	}
	return []string{"-n", "get", "-inet6", a.String()}
}

// routeIsBlackhole reads "route -n get": the route found must be for
// exactly a ("destination: 203.0.113.5", not "default") and carry the
// BLACKHOLE flag ("flags: <UP,GATEWAY,HOST,DONE,STATIC,BLACKHOLE>").
func routeIsBlackhole(out []byte, a netip.Addr) bool {
	var dest, blackhole bool
	for line := range strings.Lines(string(out)) {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "destination":
			dest = sameHost(val, a)
		case "flags":
			blackhole = strings.Contains(val, "BLACKHOLE")
		}
	}
	return dest && blackhole
}
