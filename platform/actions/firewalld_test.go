package actions

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFirewalldDrop_Argv(t *testing.T) {
	ctx := context.Background()
	fake := new(argvExec)
	f := NewFirewalldDrop(Config{Exec: fake})
	for _, s := range []string{"203.0.113.7", "2001:db8::7"} {
		tgt := Target{Addr: netip.MustParseAddr(s)}
		if err := f.Add(ctx, tgt, noExpiry); err != nil {
			t.Fatal(err)
		}
		if err := f.Delete(ctx, tgt); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"firewall-cmd --add-rich-rule=rule family=ipv4 source address=203.0.113.7 drop",
		"firewall-cmd --remove-rich-rule=rule family=ipv4 source address=203.0.113.7 drop",
		"firewall-cmd --add-rich-rule=rule family=ipv6 source address=2001:db8::7 drop",
		"firewall-cmd --remove-rich-rule=rule family=ipv6 source address=2001:db8::7 drop",
	}
	if diff := cmp.Diff(want, fake.lines()); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
}

func TestFirewalldDrop_States(t *testing.T) {
	tgt := Target{Addr: netip.MustParseAddr("203.0.113.7")}
	tests := []struct {
		name string
		fake *argvExec
		want error
	}{
		{"already", new(argvExec).on("firewall-cmd", "Warning: ALREADY_ENABLED: rule", nil), nil},
		{"old already", new(argvExec).on("firewall-cmd", "Error: ALREADY_ENABLED: rule", errExit1), nil},
		{"stopped", new(argvExec).on("firewall-cmd", "FirewallD is not running", errExit1), ErrFirewallInactive},
		{"missing", new(argvExec).on("firewall-cmd", "", errNotFound), ErrToolMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewFirewalldDrop(Config{Exec: tt.fake}).Add(context.Background(), tgt, noExpiry)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	err := NewFirewalldDrop(Config{Exec: new(argvExec)}).Add(context.Background(), Target{}, noExpiry)
	if !errors.Is(err, ErrInvalidTarget) {
		t.Errorf("no address: %v", err)
	}
}
