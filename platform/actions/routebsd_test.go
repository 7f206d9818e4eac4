package actions

import (
	"net/netip"
	"testing"
)

func TestRouteIsBlackhole(t *testing.T) {
	v4, v6 := netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		out  string
		a    netip.Addr
		want bool
	}{
		{"   route to: 203.0.113.5\ndestination: 203.0.113.5\n    gateway: 127.0.0.1\n  interface: lo0\n" +
			"      flags: <UP,GATEWAY,HOST,DONE,STATIC,BLACKHOLE>\n recvpipe  sendpipe\n", v4, true},
		{"   route to: 203.0.113.5\ndestination: default\n       mask: default\n    gateway: 198.51.100.1\n" +
			"      flags: <UP,GATEWAY,DONE,STATIC>\n", v4, false},
		{"   route to: 203.0.113.5\ndestination: 203.0.113.5\n    gateway: 198.51.100.1\n" +
			"      flags: <UP,GATEWAY,HOST,DONE,STATIC>\n", v4, false},
		{"   route to: 203.0.113.5\ndestination: 203.0.113.0\n       mask: 255.255.255.0\n" +
			"      flags: <UP,DONE,STATIC,BLACKHOLE>\n", v4, false},
		{"   route to: 2001:db8::1\ndestination: 2001:db8::1\n    gateway: ::1\n" +
			"      flags: <UP,GATEWAY,HOST,DONE,STATIC,BLACKHOLE>\n", v6, true},
		{"route: route has not been found\n", v4, false},
	}
	for _, tt := range tests {
		if got := routeIsBlackhole([]byte(tt.out), tt.a); got != tt.want {
			t.Errorf("routeIsBlackhole(%q, %s) = %v, want %v", tt.out, tt.a, got, tt.want)
		}
	}
}
