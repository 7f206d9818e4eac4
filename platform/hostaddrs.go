package platform

import (
	"context"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// DefaultAddrInterval is how often HostAddrs reads the addresses again.
const DefaultAddrInterval = 10 * time.Second

// HostAddrs are the addresses of this host's interfaces, as the engine needs
// them to never act on the host itself. It reads them with Refresh (call it
// once at start) and keeps them current while Run runs: every Interval, and
// on Linux as soon as the kernel reports an address added or removed.
// Own may be called concurrently with all of it.
type HostAddrs struct {
	Interval time.Duration // DefaultAddrInterval when 0

	log   *slog.Logger
	read  func() ([]net.Addr, error)                                  // net.InterfaceAddrs
	watch func(ctx context.Context, log *slog.Logger) <-chan struct{} // watchAddrs; closed when it stops, nil: none
	set   atomic.Pointer[map[netip.Addr]struct{}]
	mu    sync.Mutex // serialises Refresh
}

var _ engine.HostAddrs = (*HostAddrs)(nil)

// NewHostAddrs returns a HostAddrs that has read nothing yet.
func NewHostAddrs(log *slog.Logger) *HostAddrs {
	if log == nil {
		log = slog.Default()
	}
	return &HostAddrs{log: log, read: net.InterfaceAddrs, watch: watchAddrs}
}

// Own reports whether a is one of the host's addresses (an IPv4-mapped IPv6
// address counts as its IPv4 address).
func (h *HostAddrs) Own(a netip.Addr) bool {
	set := h.set.Load()
	if set == nil {
		return false
	}
	_, ok := (*set)[a.Unmap().WithZone("")]
	return ok
}

// Refresh reads the addresses again and logs what changed. On error the
// addresses it had stay.
func (h *HostAddrs) Refresh() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	ifaddrs, err := h.read()
	if err != nil {
		h.log.Warn("cannot read the host's addresses; keeping those known", "err", err)
		return err
	}
	cur := make(map[netip.Addr]struct{}, len(ifaddrs))
	for _, a := range ifaddrs {
		if addr, ok := addrOf(a); ok {
			cur[addr] = struct{}{}
		}
	}
	old := h.set.Swap(&cur)
	switch {
	case old == nil:
		h.log.Info("host addresses", "addrs", joinAddrs(cur, nil))
	case !maps.Equal(*old, cur):
		h.log.Info("host addresses changed", "added", joinAddrs(cur, *old), "removed", joinAddrs(*old, cur))
	}
	return nil
}

// Run keeps the addresses current until ctx ends. It reads them at once.
func (h *HostAddrs) Run(ctx context.Context) {
	var changed <-chan struct{}
	if h.watch != nil {
		changed = h.watch(ctx, h.log)
	}
	tick := time.NewTicker(h.interval())
	defer tick.Stop()
	for {
		h.Refresh()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case _, ok := <-changed:
			if !ok {
				changed = nil // no more notifications: the ticker goes on
			}
		}
	}
}

func (h *HostAddrs) interval() time.Duration {
	return orDefault(h.Interval, DefaultAddrInterval)
}

// addrOf is the address of one interface address as net gives it.
func addrOf(a net.Addr) (netip.Addr, bool) {
	var ip net.IP
	switch v := a.(type) {
	case *net.IPNet:
		ip = v.IP
	case *net.IPAddr:
		ip = v.IP
	default:
		return netip.Addr{}, false
	}
	addr, ok := netip.AddrFromSlice(ip)
	return addr.Unmap(), ok
}

// joinAddrs lists, sorted, the addresses of set that are not in minus.
func joinAddrs(set, minus map[netip.Addr]struct{}) string {
	var out []string
	for _, a := range slices.SortedFunc(maps.Keys(set), netip.Addr.Compare) {
		if _, ok := minus[a]; !ok {
			out = append(out, a.String())
		}
	}
	return strings.Join(out, ",")
}
