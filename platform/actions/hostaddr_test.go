package actions

import (
	"errors"
	"net/netip"
	"testing"
)

func TestTargetAddr(t *testing.T) {
	good := map[string]string{
		"203.0.113.5":        "203.0.113.5",
		"::ffff:203.0.113.5": "203.0.113.5",
		"2001:db8::1":        "2001:db8::1",
	}
	for in, want := range good {
		a, err := targetAddr(Target{Addr: netip.MustParseAddr(in)})
		if err != nil || a.String() != want {
			t.Errorf("targetAddr(%s) = %v, %v; want %s", in, a, err, want)
		}
	}
	for _, in := range []string{"0.0.0.0", "::", "127.0.0.1", "127.8.9.10", "::1", "fe80::1%eth0"} {
		if _, err := targetAddr(Target{Addr: netip.MustParseAddr(in)}); !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("targetAddr(%s) = %v, want ErrInvalidTarget", in, err)
		}
	}
}

func TestSameHost(t *testing.T) {
	v4, v6 := netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		s    string
		a    netip.Addr
		want bool
	}{
		{"203.0.113.5", v4, true},
		{"203.0.113.5/32", v4, true},
		{"203.0.113.5/24", v4, false},
		{"203.0.113.50", v4, false},
		{"::ffff:203.0.113.5", v4, true},
		{"2001:db8::1/128", v6, true},
		{"2001:0db8:0::1", v6, true},
		{"2001:db8::1/64", v6, false},
		{"Any", v4, false},
	}
	for _, tt := range tests {
		if got := sameHost(tt.s, tt.a); got != tt.want {
			t.Errorf("sameHost(%q, %s) = %v, want %v", tt.s, tt.a, got, tt.want)
		}
	}
}
