package actions

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestNPF_Refuses checks Wazuh's checks: inactive filtering and a missing
// table stop Add with one clear error; Delete without the table has
// nothing to do.
func TestNPF_Refuses(t *testing.T) {
	tgt := Target{Addr: netip.MustParseAddr("203.0.113.5")}
	tests := []struct {
		name    string
		m       *xosNPF
		wantAdd error
	}{
		{"inactive", &xosNPF{hasTable: true, table: map[netip.Addr]bool{}}, ErrFirewallInactive},
		{"no table", &xosNPF{active: true}, ErrNotConfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newXOSFake()
			f.tools["npfctl"] = tt.m.tool
			n := NewNPF(Config{Exec: f, Logger: xosLogger(nil)})
			if err := n.Add(context.Background(), tgt, time.Time{}); !errors.Is(err, tt.wantAdd) {
				t.Errorf("Add: got %v, want %v", err, tt.wantAdd)
			}
			if err := n.Delete(context.Background(), tgt); err != nil {
				t.Errorf("Delete: %v", err)
			}
		})
	}
}

func TestNPFFiltering(t *testing.T) {
	tests := []struct {
		out           string
		active, found bool
	}{
		{"# filtering:\tactive\n# config:\tloaded\n", true, true},
		{"# filtering:\tinactive\n# config:\tempty\n", false, true},
		{"# filtering:\n", false, true},
		{"# config:\tloaded\n", false, false},
	}
	for _, tt := range tests {
		active, found := npfFiltering([]byte(tt.out))
		if active != tt.active || found != tt.found {
			t.Errorf("npfFiltering(%q) = %v, %v, want %v, %v", tt.out, active, found, tt.active, tt.found)
		}
	}
}

func TestNPFTestResult(t *testing.T) {
	tests := []struct {
		out     string
		err     error
		present bool
		wantErr bool
	}{
		{"npfctl: matching entry found\n", nil, true, false},
		{"npfctl: no matching entry was not found\n", errXOSExit1, false, false},
		{"npfctl: invalid address, mask or table ID\n", errXOSExit1, false, true},
	}
	for _, tt := range tests {
		present, err := npfTestResult([]byte(tt.out), tt.err)
		if present != tt.present || (err != nil) != tt.wantErr {
			t.Errorf("npfTestResult(%q) = %v, %v", tt.out, present, err)
		}
	}
}
