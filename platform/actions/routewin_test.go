package actions

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func xosSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseWinRoutes reads captured "route print" output (CRLF, headers,
// interface list, a wrapped IPv6 row, persistent routes).
func TestParseWinRoutes(t *testing.T) {
	r4 := parseWinRoutes(xosSample(t, "route-print-4.txt"))
	if len(r4) != 12 {
		t.Errorf("IPv4: %d routes, want 10 active and 2 persistent: %+v", len(r4), r4)
	}
	gw, ok := winDefaultGateway(r4, true)
	if !ok || gw.Addr != netip.MustParseAddr("198.51.100.1") || gw.If != "" {
		t.Errorf("IPv4 default gateway %+v, %v; want 198.51.100.1 (metric 25 beats 50)", gw, ok)
	}
	for addr, want := range map[string]bool{"203.0.113.5": true, "203.0.113.200": true, "203.0.113.6": false, "198.51.100.0": false} {
		if got := winHasHostRoute(r4, netip.MustParseAddr(addr)); got != want {
			t.Errorf("host route %s: %v, want %v", addr, got, want)
		}
	}

	r6 := parseWinRoutes(xosSample(t, "route-print-6.txt"))
	if len(r6) != 8 {
		t.Errorf("IPv6: %d routes, want 7 active and 1 persistent: %+v", len(r6), r6)
	}
	gw, ok = winDefaultGateway(r6, false)
	if !ok || gw.Addr != netip.MustParseAddr("fe80::1") || gw.If != "12" {
		t.Errorf("IPv6 default gateway %+v, %v; want fe80::1 on 12", gw, ok)
	}
	for addr, want := range map[string]bool{"2001:db8::1": true, "2001:db8:abcd:1234:5678:9abc:def0:1234": true, "2001:db8::2": false} {
		if got := winHasHostRoute(r6, netip.MustParseAddr(addr)); got != want {
			t.Errorf("host route %s: %v, want %v", addr, got, want)
		}
	}
}

// TestIPConfigDefaultGateway reads captured ipconfig output the way
// Wazuh's route-null.exe does: the last "Default Gateway" line with an
// IPv4 address (the Ethernet adapter's sits on a continuation line, which
// Wazuh's findstr does not see either).
func TestIPConfigDefaultGateway(t *testing.T) {
	gw, ok := ipconfigDefaultGateway(xosSample(t, "ipconfig.txt"))
	if !ok || gw != netip.MustParseAddr("203.0.113.1") {
		t.Errorf("got %v, %v; want 203.0.113.1", gw, ok)
	}
	if _, ok := ipconfigDefaultGateway([]byte("   Default Gateway . . . . . . . . . :\r\n")); ok {
		t.Error("found a gateway in an empty line")
	}
}

// TestRouteNullWindows_Gateways checks the fallback to ipconfig when route
// print shows no default route, and ErrNoGateway when neither has one.
func TestRouteNullWindows_Gateways(t *testing.T) {
	noDefault := strings.ReplaceAll(string(xosSample(t, "route-print-4.txt")), "          0.0.0.0 ", "       10.0.0.0 ")
	f := newXOSFake()
	f.tools["route"] = func(args []string, _ string) (string, error) {
		if args[0] == "print" {
			return noDefault, nil
		}
		return " OK!\r\n", nil
	}
	f.tools["ipconfig"] = func([]string, string) (string, error) { return string(xosSample(t, "ipconfig.txt")), nil }
	r := NewRouteNullWindows(Config{Exec: f, Logger: xosLogger(nil)})
	tgt := Target{Addr: netip.MustParseAddr("203.0.113.8")}
	if err := r.Add(context.Background(), tgt, time.Time{}); err != nil {
		t.Fatal(err)
	}
	want := "$ route print -4|$ ipconfig|$ route -p ADD 203.0.113.8 MASK 255.255.255.255 203.0.113.1"
	if got := strings.Join(f.take(), "|"); got != want {
		t.Errorf("ran %s\nwant %s", got, want)
	}
	delete(f.tools, "ipconfig")
	if err := r.Add(context.Background(), tgt, time.Time{}); !errors.Is(err, ErrNoGateway) {
		t.Errorf("got %v, want ErrNoGateway", err)
	}
}
