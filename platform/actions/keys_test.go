package actions

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// TestAlertTarget_Addr: the stand-alone path reads the address Wazuh
// 4.14.7's programs read (a Windows event's ipAddress, then destinationIp,
// then data.srcip) with the engine's decoder, in canonical form.
func TestAlertTarget_Addr(t *testing.T) {
	tests := []struct {
		name, alert, want string
	}{
		{"ipv4", `{"data":{"srcip":"203.0.113.7"}}`, "203.0.113.7"},
		{"ipv6 canonical", `{"data":{"srcip":"2001:DB8:0:0::7"}}`, "2001:db8::7"},
		{"mapped is ipv4", `{"data":{"srcip":"::ffff:203.0.113.7"}}`, "203.0.113.7"},
		{"windows first", `{"data":{"srcip":"203.0.113.1","win":{"eventdata":{"ipAddress":"198.51.100.9"}}}}`, "198.51.100.9"},
		{"windows dash", `{"data":{"srcip":"203.0.113.1","win":{"eventdata":{"ipAddress":"-"}}}}`, "203.0.113.1"},
		{"windows only", `{"data":{"win":{"eventdata":{"ipAddress":"198.51.100.9"}}}}`, "198.51.100.9"},
		{"sysmon destination only", `{"data":{"win":{"eventdata":{"destinationIp":"198.51.100.10"}}}}`, "198.51.100.10"},
		{"ipAddress before destinationIp", `{"data":{"win":{"eventdata":{"destinationIp":"198.51.100.10","ipAddress":"198.51.100.9"}}}}`, "198.51.100.9"},
		{"other fields", `{"rule":{"level":10},"data":{"dstuser":"bob","srcip":"203.0.113.7"}}`, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			et, own := alertTarget([]byte(tt.alert), nil)
			got, keys, err := targetOf(KeyAddr, et)
			if err != nil || own != "" {
				t.Fatal(err, own)
			}
			if got.Addr.String() != tt.want || got.User != "" || !slices.Equal(keys, []string{tt.want}) {
				t.Errorf("got %+v %q, want %s", got, keys, tt.want)
			}
		})
	}
}

// TestAlertTarget_Refused: values that are not a remote address never come
// out; the host's own address is named for its log line.
func TestAlertTarget_Refused(t *testing.T) {
	// The host's own address (192.0.2.0/24 is this machine's subnet; the
	// only test address outside the attacker ranges, and it is refused).
	host := hostAddrs{netip.MustParseAddr("192.0.2.10"): true}
	tests := []struct {
		name, alert, own string
	}{
		{"shell", `{"data":{"srcip":"1.2.3.4;rm -rf /"}}`, ""},
		{"option", `{"data":{"srcip":"-j ACCEPT"}}`, ""},
		{"subshell", `{"data":{"srcip":"$(reboot)"}}`, ""},
		{"space", `{"data":{"srcip":"1.2.3.4 "}}`, ""},
		{"newline", `{"data":{"srcip":"1.2.3.4\n"}}`, ""},
		{"cidr", `{"data":{"srcip":"1.2.3.0/24"}}`, ""},
		{"zone", `{"data":{"srcip":"fe80::1%eth0"}}`, ""},
		{"number", `{"data":{"srcip":1234}}`, ""},
		{"missing", `{"data":{"dstuser":"bob"}}`, ""},
		{"no data", `{"rule":{}}`, ""},
		{"not json", `not json`, ""},
		{"not an object", `"203.0.113.7"`, ""},
		{"unspecified", `{"data":{"srcip":"0.0.0.0"}}`, "0.0.0.0"},
		{"loopback", `{"data":{"srcip":"::1"}}`, "::1"},
		{"mapped loopback", `{"data":{"srcip":"::ffff:127.0.0.1"}}`, "::ffff:127.0.0.1"},
		{"link-local", `{"data":{"srcip":"fe80::1"}}`, "fe80::1"},
		{"the host's own", `{"data":{"srcip":"192.0.2.10"}}`, "192.0.2.10"},
		{"the host's own, windows", `{"data":{"srcip":"203.0.113.7","win":{"eventdata":{"ipAddress":"192.0.2.10"}}}}`, "192.0.2.10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			et, own := alertTarget([]byte(tt.alert), host)
			got, keys, err := targetOf(KeyAddr, et)
			if !errors.Is(err, errNoSrcIP) || got.Addr.IsValid() || keys != nil {
				t.Errorf("passed on %v %q (%v)", got, keys, err)
			}
			if own != tt.own {
				t.Errorf("own address %q, want %q", own, tt.own)
			}
		})
	}
}

// hostAddrs is an engine.HostAddrs of fixed addresses.
type hostAddrs map[netip.Addr]bool

func (h hostAddrs) Own(a netip.Addr) bool { return h[a] }

func TestTargetOf_User(t *testing.T) {
	tests := []struct {
		name, user string
		want       error
	}{
		{"plain", "bob", nil},
		{"wazuh chars", "svc.backup@corp-1?", nil},
		{"root", "root", ErrRefused},
		{"option", "-rf", ErrInvalidTarget},
		{"dash only", "-", ErrInvalidTarget},
		{"dot dot", "a..b", ErrInvalidTarget},
		{"too long", strings.Repeat("a", 257), ErrInvalidTarget},
		{"space", "bob smith", ErrInvalidTarget},
		{"subshell", "$(reboot)", ErrInvalidTarget},
		{"semicolon", "bob;id", ErrInvalidTarget},
		{"empty", "", errNoDstUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, keys, err := targetOf(KeyUser, engine.Target{Addr: netip.MustParseAddr("203.0.113.7"), User: tt.user})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (got != Target{User: tt.user} || !slices.Equal(keys, []string{tt.user})) {
				t.Errorf("got %+v %q", got, keys)
			}
			if tt.want != nil && (got != Target{} || keys != nil) {
				t.Errorf("passed on %+v %q", got, keys)
			}
		})
	}
}

// TestTargetOf_Addr: an address action gets only the address, and refuses
// loopback and unspecified addresses even when handed them.
func TestTargetOf_Addr(t *testing.T) {
	both := engine.Target{Addr: netip.MustParseAddr("2001:db8::7"), User: "bob"}
	got, keys, err := targetOf(KeyAddr, both)
	if err != nil || got != (Target{Addr: both.Addr}) || !slices.Equal(keys, []string{"2001:db8::7"}) {
		t.Errorf("got %+v %q %v", got, keys, err)
	}
	for _, a := range []string{"127.0.0.1", "::1", "0.0.0.0", "::"} {
		if _, keys, err := targetOf(KeyAddr, engine.Target{Addr: netip.MustParseAddr(a)}); !errors.Is(err, ErrInvalidTarget) || keys != nil {
			t.Errorf("%s: keys %q, err %v", a, keys, err)
		}
	}
	if _, _, err := targetOf(KeyAddr, engine.Target{User: "bob"}); !errors.Is(err, errNoSrcIP) {
		t.Errorf("no address: %v", err)
	}
}

func TestTargetOf_None(t *testing.T) {
	got, keys, err := targetOf(KindOf("restart-wazuh"), engine.Target{Addr: netip.MustParseAddr("203.0.113.7")})
	if err != nil || keys != nil || got != (Target{}) {
		t.Errorf("got %+v %q %v", got, keys, err)
	}
}

func TestKindOf(t *testing.T) {
	for name, want := range map[string]KeyKind{
		"firewall-drop": KeyAddr, "host-deny": KeyAddr, "route-null": KeyAddr,
		"disable-account": KeyUser, "restart-wazuh": KeyNone,
	} {
		if got := KindOf(name); got != want {
			t.Errorf("KindOf(%s) = %v, want %v", name, got, want)
		}
	}
}
