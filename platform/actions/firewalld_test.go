package actions

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFirewalldDrop_States checks add against each answer firewall-cmd can
// give: the rule already there (a warning today, an error before 0.4.4),
// firewalld stopped, firewall-cmd missing. Exact command lines, and add and
// delete of both families, are in testdata/firewalld-drop.golden.
func TestFirewalldDrop_States(t *testing.T) {
	present := `rule family="ipv4" source address="203.0.113.7" drop`
	tests := []struct {
		name string
		m    *xosFirewalld
		want error
	}{
		{"already", &xosFirewalld{rules: map[string]bool{present: true}}, nil},
		{"old already", &xosFirewalld{old: true, rules: map[string]bool{present: true}}, nil},
		{"stopped", &xosFirewalld{stopped: true, rules: map[string]bool{}}, ErrFirewallInactive},
		{"missing", nil, ErrToolMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newXOSFake()
			if tt.m != nil {
				f.tools["firewall-cmd"] = tt.m.tool
			}
			tgt := Target{Addr: netip.MustParseAddr("203.0.113.7")}
			err := NewFirewalldDrop(Config{Exec: f}).Add(context.Background(), tgt, noExpiry)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			want := []string{"$ firewall-cmd --add-rich-rule=rule family=ipv4 source address=203.0.113.7 drop"}
			if diff := cmp.Diff(want, f.take()); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
			if tt.m != nil && !tt.m.stopped && (len(tt.m.rules) != 1 || !tt.m.rules[present]) {
				t.Errorf("state %s, want the one rule", tt.m.state())
			}
		})
	}
}
