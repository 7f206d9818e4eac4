package actions

import (
	"fmt"
	"strings"
)

// Backends of firewall-drop on Linux, chosen with the command's
// <extra_args>backend=NAME</extra_args>; without it, nftables when the
// kernel answers nf_tables requests, else iptables.
const (
	BackendAuto     = ""
	BackendNFTables = "nftables"
	BackendIPTables = "iptables"
)

// parseBackend returns the backend that extra_args ask for: the value of
// the last "backend=NAME" argument, BackendAuto when there is none. Other
// arguments are ignored, as Wazuh's scripts ignore theirs.
func parseBackend(extraArgs []string) (string, error) {
	want := BackendAuto
	for _, arg := range extraArgs {
		v, ok := strings.CutPrefix(arg, "backend=")
		if !ok {
			continue
		}
		switch v {
		case BackendNFTables, BackendIPTables:
			want = v
		default:
			return "", fmt.Errorf("firewall-drop: unknown backend %q in extra_args (want %s or %s)",
				v, BackendNFTables, BackendIPTables)
		}
	}
	return want, nil
}
