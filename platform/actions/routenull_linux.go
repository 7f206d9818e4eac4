package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// routeProto is the routing protocol number our routes carry, so that
// "ip route show proto 222" lists them and Delete never removes a blackhole
// route somebody else made for the same address.
const routeProto = 222

// RouteNull is route-null on Linux: a blackhole host route for the address
// in the main table ("ip route add blackhole ADDR proto 222"), made over
// rtnetlink without a process. Packets to the address are dropped, so
// connections from it cannot complete. Adding a present route and deleting a
// missing one are not errors. Caveat: if a route for exactly that host
// address already exists (not ours), the kernel refuses ours and Add
// reports success without blocking.
type RouteNull struct {
	netns int // network namespace fd for tests; 0: the process's

	mu   sync.Mutex
	conn *netlink.Conn
}

var (
	_ Action    = (*RouteNull)(nil)
	_ io.Closer = (*RouteNull)(nil)
)

// NewRouteNull returns route-null.
func NewRouteNull(Config) *RouteNull { return &RouteNull{} }

// Name is "route-null".
func (r *RouteNull) Name() string { return "route-null" }

// Add adds the blackhole route for t.Addr.
func (r *RouteNull) Add(ctx context.Context, t Target, _ time.Time) error {
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("route-null: %w", err)
	}
	err = r.execute(ctx, routeMessage(unix.RTM_NEWROUTE, a))
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("route-null: add blackhole %s: %w", a, err)
	}
	return nil
}

// Delete removes our blackhole route for t.Addr.
func (r *RouteNull) Delete(ctx context.Context, t Target) error {
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("route-null: %w", err)
	}
	err = r.execute(ctx, routeMessage(unix.RTM_DELROUTE, a))
	if err != nil && !errors.Is(err, unix.ESRCH) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("route-null: delete blackhole %s: %w", a, err)
	}
	return nil
}

// Close closes the netlink socket.
func (r *RouteNull) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == nil {
		return nil
	}
	err := r.conn.Close()
	r.conn = nil
	return err
}

// execute sends m and waits for the kernel's acknowledgement.
func (r *RouteNull) execute(ctx context.Context, m netlink.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == nil {
		c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: r.netns})
		if err != nil {
			return fmt.Errorf("open rtnetlink: %w", err)
		}
		r.conn = c
	}
	deadline, _ := ctx.Deadline() // zero: none
	if err := r.conn.SetDeadline(deadline); err != nil {
		return err
	}
	_, err := r.conn.Execute(m)
	return err
}

// routeMessage is the rtnetlink request to add (RTM_NEWROUTE, failing if a
// route for the prefix exists) or delete (RTM_DELROUTE, matching only a
// blackhole of our protocol, of any scope) the blackhole host route for a.
func routeMessage(typ netlink.HeaderType, a netip.Addr) netlink.Message {
	family, bits := byte(unix.AF_INET6), byte(128)
	if a.Is4() {
		family, bits = unix.AF_INET, 32
	}
	flags := netlink.Request | netlink.Acknowledge
	scope := byte(unix.RT_SCOPE_UNIVERSE)
	if typ == unix.RTM_NEWROUTE {
		flags |= netlink.Create | netlink.Excl
	} else {
		scope = unix.RT_SCOPE_NOWHERE
	}
	// struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope,
	// type, then 32-bit flags.
	hdr := []byte{family, bits, 0, 0, unix.RT_TABLE_MAIN, routeProto, scope, unix.RTN_BLACKHOLE, 0, 0, 0, 0}
	attrs, _ := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.RTA_DST, Data: a.AsSlice()}})
	return netlink.Message{
		Header: netlink.Header{Type: typ, Flags: flags},
		Data:   append(hdr, attrs...),
	}
}

var _ lister = (*RouteNull)(nil)

// present lists our blackhole host routes (protocol routeProto, main
// table), both families, in one dump each.
func (r *RouteNull) present(ctx context.Context) (func(Target) bool, error) {
	in := make(map[netip.Addr]bool)
	for _, family := range []byte{unix.AF_INET, unix.AF_INET6} {
		msgs, err := r.dump(ctx, family)
		if err != nil {
			return nil, fmt.Errorf("route-null: list routes: %w", err)
		}
		for _, m := range msgs {
			if a, ok := ourBlackhole(m.Data); ok {
				in[a] = true
			}
		}
	}
	return func(t Target) bool { return in[t.Addr.Unmap()] }, nil
}

// dump asks for every route of family.
func (r *RouteNull) dump(ctx context.Context, family byte) ([]netlink.Message, error) {
	req := netlink.Message{
		Header: netlink.Header{Type: unix.RTM_GETROUTE, Flags: netlink.Request | netlink.Dump},
		Data:   []byte{family, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == nil {
		c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: r.netns})
		if err != nil {
			return nil, fmt.Errorf("open rtnetlink: %w", err)
		}
		r.conn = c
	}
	deadline, _ := ctx.Deadline()
	if err := r.conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	return r.conn.Execute(req)
}

// ourBlackhole returns the destination of a route message that is one of
// ours: a blackhole host route of protocol routeProto in the main table.
func ourBlackhole(data []byte) (netip.Addr, bool) {
	if len(data) < 12 || data[5] != routeProto || data[7] != unix.RTN_BLACKHOLE || data[4] != unix.RT_TABLE_MAIN {
		return netip.Addr{}, false
	}
	if bits := data[1]; !(data[0] == unix.AF_INET && bits == 32 || data[0] == unix.AF_INET6 && bits == 128) {
		return netip.Addr{}, false
	}
	ad, err := netlink.NewAttributeDecoder(data[12:])
	if err != nil {
		return netip.Addr{}, false
	}
	var dst netip.Addr
	for ad.Next() {
		if ad.Type() == unix.RTA_DST {
			dst, _ = netip.AddrFromSlice(ad.Bytes())
		}
	}
	return dst, dst.IsValid()
}
