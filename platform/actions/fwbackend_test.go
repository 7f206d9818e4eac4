package actions

import "testing"

func TestParseBackend(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr bool
	}{
		{nil, BackendAuto, false},
		{[]string{"-v"}, BackendAuto, false},
		{[]string{"backend=iptables"}, BackendIPTables, false},
		{[]string{"x", "backend=nftables"}, BackendNFTables, false},
		{[]string{"backend=iptables", "backend=nftables"}, BackendNFTables, false},
		{[]string{"backend=pf"}, "", true},
		{[]string{"backend="}, "", true},
	}
	for _, tt := range tests {
		got, err := parseBackend(tt.args)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseBackend(%q) = %q, %v", tt.args, got, err)
		}
	}
}
