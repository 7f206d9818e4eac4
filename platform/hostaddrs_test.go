package platform

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

var _ engine.HostAddrs = (*HostAddrs)(nil)

// fakeIfaces stands in for net.InterfaceAddrs.
type fakeIfaces struct {
	mu    sync.Mutex
	addrs []net.Addr
	err   error
}

func (f *fakeIfaces) set(err error, cidrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addrs, f.err = nil, err
	for _, c := range cidrs {
		ip, n, e := net.ParseCIDR(c)
		if e != nil {
			panic(e)
		}
		n.IP = ip
		f.addrs = append(f.addrs, n)
	}
}

func (f *fakeIfaces) read() ([]net.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addrs, f.err
}

func newTestHostAddrs(f *fakeIfaces, logs *syncBuffer) *HostAddrs {
	h := NewHostAddrs(slog.New(slog.NewTextHandler(logs, nil)))
	h.read = f.read
	h.watch = nil
	return h
}

func TestHostAddrs_Own(t *testing.T) {
	// The fake interfaces hold this host's own addresses: 192.0.2.0/24 is
	// the real machine's subnet, used in tests only for the host itself
	// (192.0.2.11, a neighbour on it, is only asked about, never blocked).
	f, logs := &fakeIfaces{}, &syncBuffer{}
	f.set(nil, "127.0.0.1/8", "192.0.2.10/24", "2001:db8::10/64", "fe80::1/64")
	h := newTestHostAddrs(f, logs)
	if h.Own(netip.MustParseAddr("192.0.2.10")) {
		t.Error("Own before the first Refresh")
	}
	if err := h.Refresh(); err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"192.0.2.10": true, "::ffff:192.0.2.10": true, "2001:db8::10": true, "fe80::1": true,
		"192.0.2.11": false, "203.0.113.7": false, "2001:db8::11": false,
	} {
		if got := h.Own(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Own(%s) = %v, want %v", addr, got, want)
		}
	}
	if !strings.Contains(logs.String(), `msg="host addresses" addrs=127.0.0.1,192.0.2.10,2001:db8::10,fe80::1`) {
		t.Errorf("first read not logged:\n%s", logs)
	}

	f.set(nil, "127.0.0.1/8", "198.51.100.20/24", "2001:db8::10/64")
	if err := h.Refresh(); err != nil {
		t.Fatal(err)
	}
	if h.Own(netip.MustParseAddr("192.0.2.10")) || !h.Own(netip.MustParseAddr("198.51.100.20")) {
		t.Error("Refresh did not replace the set")
	}
	if !strings.Contains(logs.String(), `msg="host addresses changed" added=198.51.100.20 removed=192.0.2.10,fe80::1`) {
		t.Errorf("change not logged:\n%s", logs)
	}

	f.set(errors.New("netlink: permission denied"))
	if err := h.Refresh(); err == nil {
		t.Error("Refresh hid the read error")
	}
	if !h.Own(netip.MustParseAddr("198.51.100.20")) {
		t.Error("a failed read dropped the addresses it had")
	}
}

// TestHostAddrs_Run: Run reads the addresses again every Interval and when
// the watcher reports a change, and returns when its context ends.
func TestHostAddrs_Run(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, logs := &fakeIfaces{}, &syncBuffer{}
		f.set(nil, "192.0.2.10/24") // this host's own, as in TestHostAddrs_Own
		h := newTestHostAddrs(f, logs)
		h.Interval = 10 * time.Second
		changed := make(chan struct{})
		h.watch = func(ctx context.Context, _ *slog.Logger) <-chan struct{} { return changed }
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.Run(ctx); close(done) }()
		synctest.Wait()
		if !h.Own(netip.MustParseAddr("192.0.2.10")) {
			t.Fatal("Run did not read the addresses at once")
		}

		f.set(nil, "192.0.2.10/24", "203.0.113.99/32")
		changed <- struct{}{}
		synctest.Wait()
		if !h.Own(netip.MustParseAddr("203.0.113.99")) {
			t.Error("a reported change was not read")
		}

		f.set(nil, "198.51.100.7/24")
		time.Sleep(9 * time.Second) // fake clock: not yet
		synctest.Wait()
		if h.Own(netip.MustParseAddr("198.51.100.7")) {
			t.Error("read again before the interval")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if !h.Own(netip.MustParseAddr("198.51.100.7")) {
			t.Error("not read again after the interval")
		}
		cancel()
		<-done
	})
}
