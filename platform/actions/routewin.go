package actions

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ErrNoGateway means route-null.exe found no default gateway to route
// through (Wazuh: "Couldn't get default gateway").
var ErrNoGateway = errors.New("no default gateway")

// RouteNullWindows is route-null.exe: a persistent host route, as Wazuh's
// route-null.exe adds it:
//
//	route -p ADD 203.0.113.5 MASK 255.255.255.255 GATEWAY
//	route DELETE 203.0.113.5
//
// Wazuh finds the gateway in "ipconfig" output by its English label
// "Default Gateway" and takes the last match. We read it from "route print"
// (the 0.0.0.0/0 route with the lowest metric), whose rows are not
// localized, and fall back to Wazuh's ipconfig reading. IPv6, which Wazuh
// does not handle, gets "route -p ADD ADDR/128 GATEWAY IF N" with the ::/0
// route's gateway and interface.
//
// Caveat, kept from Wazuh for compatibility: a host route through the
// default gateway sends the address's traffic where it went before. It drops
// nothing; netsh.exe is the Windows action that blocks.
//
// Idempotency comes from state: the same "route print" shows whether the
// host route exists (active or persistent), so Add skips a present route and
// Delete a missing one.
type RouteNullWindows struct {
	exec Execer
}

var _ Action = (*RouteNullWindows)(nil)

// NewRouteNullWindows returns the route-null.exe action.
func NewRouteNullWindows(cfg Config) *RouteNullWindows {
	return &RouteNullWindows{exec: cfg.Exec}
}

// Name implements Action.
func (r *RouteNullWindows) Name() string { return "route-null.exe" }

// Add routes the address through the default gateway unless routed so.
func (r *RouteNullWindows) Add(ctx context.Context, t Target, _ time.Time) error {
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("route-null.exe: %w", err)
	}
	routes, err := r.routes(ctx, a)
	if err != nil {
		return err
	}
	if winHasHostRoute(routes, a) {
		return nil
	}
	gw, ok := winDefaultGateway(routes, a.Is4())
	if !ok && a.Is4() {
		gw, ok = r.ipconfigGateway(ctx)
	}
	if !ok {
		return fmt.Errorf("route-null.exe: %w", ErrNoGateway)
	}
	if _, err := r.exec.Run(ctx, "route", winRouteAddArgs(a, gw)...); err != nil {
		return wrapExec("route-null.exe", err)
	}
	return nil
}

// Delete removes the host route if present.
func (r *RouteNullWindows) Delete(ctx context.Context, t Target) error {
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("route-null.exe: %w", err)
	}
	routes, err := r.routes(ctx, a)
	if err != nil || !winHasHostRoute(routes, a) {
		return err
	}
	if _, err := r.exec.Run(ctx, "route", winRouteDeleteArgs(a)...); err != nil {
		return wrapExec("route-null.exe", err)
	}
	return nil
}

// routes reads the routing table of a's family.
func (r *RouteNullWindows) routes(ctx context.Context, a netip.Addr) ([]winRoute, error) {
	out, err := r.exec.Run(ctx, "route", winRoutePrintArgs(a)...)
	if err != nil {
		return nil, wrapExec("route-null.exe", err)
	}
	return parseWinRoutes(out), nil
}

// ipconfigGateway is Wazuh's way: the last "Default Gateway" in ipconfig.
func (r *RouteNullWindows) ipconfigGateway(ctx context.Context) (winGateway, bool) {
	out, err := r.exec.Run(ctx, "ipconfig")
	if err != nil {
		return winGateway{}, false
	}
	gw, ok := ipconfigDefaultGateway(out)
	return winGateway{Addr: gw}, ok
}

// winRoutePrintArgs is "route print -4" or "route print -6".
func winRoutePrintArgs(a netip.Addr) []string {
	if a.Is4() {
		return []string{"print", "-4"}
	}
	return []string{"print", "-6"}
}

// winRouteAddArgs is "route -p ADD ADDR MASK 255.255.255.255 GW" for IPv4
// and "route -p ADD ADDR/128 GW IF N" for IPv6.
func winRouteAddArgs(a netip.Addr, gw winGateway) []string {
	if a.Is4() {
		return []string{"-p", "ADD", a.String(), "MASK", "255.255.255.255", gw.Addr.String()}
	}
	args := []string{"-p", "ADD", hostPrefix(a), gw.Addr.String()}
	if gw.If != "" {
		args = append(args, "IF", gw.If)
	}
	return args
}

// winRouteDeleteArgs is "route DELETE ADDR" ("ADDR/128" for IPv6).
func winRouteDeleteArgs(a netip.Addr) []string {
	if a.Is4() {
		return []string{"DELETE", a.String()}
	}
	return []string{"DELETE", hostPrefix(a)}
}
