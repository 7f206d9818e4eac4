package actions

import (
	"errors"
	"slices"
	"testing"
)

func TestTargetFromAlert_Addr(t *testing.T) {
	tests := []struct {
		name, alert, want string
	}{
		{"ipv4", `{"data":{"srcip":"203.0.113.7"}}`, "203.0.113.7"},
		{"ipv6", `{"data":{"srcip":"2001:DB8::0:7"}}`, "2001:db8::7"},
		{"mapped", `{"data":{"srcip":"::ffff:203.0.113.7"}}`, "203.0.113.7"},
		{"windows first", `{"data":{"srcip":"203.0.113.1","win":{"eventdata":{"ipAddress":"198.51.100.9"}}}}`, "198.51.100.9"},
		{"windows dash", `{"data":{"srcip":"203.0.113.1","win":{"eventdata":{"ipAddress":"-"}}}}`, "203.0.113.1"},
		{"windows only", `{"data":{"win":{"eventdata":{"ipAddress":"198.51.100.9"}}}}`, "198.51.100.9"},
		{"other fields", `{"rule":{"level":10},"data":{"dstuser":"bob","srcip":"203.0.113.7"}}`, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, keys, err := TargetFromAlert(KeyAddr, []byte(tt.alert))
			if err != nil {
				t.Fatal(err)
			}
			if got.Addr.String() != tt.want || !slices.Equal(keys, []string{tt.want}) {
				t.Errorf("got %v %q, want %s", got.Addr, keys, tt.want)
			}
		})
	}
}

func TestTargetFromAlert_Hostile(t *testing.T) {
	tests := []struct {
		name, alert string
		want        error
	}{
		{"shell", `{"data":{"srcip":"1.2.3.4;rm -rf /"}}`, ErrInvalidTarget},
		{"option", `{"data":{"srcip":"-j ACCEPT"}}`, ErrInvalidTarget},
		{"subshell", `{"data":{"srcip":"$(reboot)"}}`, ErrInvalidTarget},
		{"space", `{"data":{"srcip":"1.2.3.4 "}}`, ErrInvalidTarget},
		{"newline", `{"data":{"srcip":"1.2.3.4\n"}}`, ErrInvalidTarget},
		{"cidr", `{"data":{"srcip":"1.2.3.0/24"}}`, ErrInvalidTarget},
		{"zone", `{"data":{"srcip":"fe80::1%eth0"}}`, ErrInvalidTarget},
		{"unspecified", `{"data":{"srcip":"0.0.0.0"}}`, ErrInvalidTarget},
		{"loopback", `{"data":{"srcip":"::1"}}`, ErrInvalidTarget},
		{"number", `{"data":{"srcip":1234}}`, ErrInvalidTarget},
		{"missing", `{"data":{"dstuser":"bob"}}`, errNoSrcIP},
		{"no data", `{"rule":{}}`, errNoSrcIP},
		{"not json", `not json`, errNoSrcIP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, keys, err := TargetFromAlert(KeyAddr, []byte(tt.alert))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got.Addr.IsValid() || keys != nil {
				t.Errorf("passed on %v %q", got, keys)
			}
		})
	}
}

func TestTargetFromAlert_User(t *testing.T) {
	tests := []struct {
		name, user string
		want       error
	}{
		{"plain", "bob", nil},
		{"wazuh chars", "svc.backup@corp-1?", nil},
		{"root", "root", ErrRefused},
		{"option", "-rf", ErrInvalidTarget},
		{"dash only", "-", ErrInvalidTarget},
		{"space", "bob smith", ErrInvalidTarget},
		{"subshell", "$(reboot)", ErrInvalidTarget},
		{"semicolon", "bob;id", ErrInvalidTarget},
		{"empty", "", ErrInvalidTarget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alert := `{"data":{"dstuser":` + quoteAll([]string{tt.user}) + `}}`
			got, keys, err := TargetFromAlert(KeyUser, []byte(alert))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (got.User != tt.user || !slices.Equal(keys, []string{tt.user})) {
				t.Errorf("got %+v %q", got, keys)
			}
		})
	}
	if _, _, err := TargetFromAlert(KeyUser, []byte(`{"data":{}}`)); !errors.Is(err, errNoDstUser) {
		t.Errorf("missing dstuser: %v", err)
	}
}

func TestTargetFromAlert_None(t *testing.T) {
	got, keys, err := TargetFromAlert(KindOf("restart-wazuh"), []byte(`{}`))
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
