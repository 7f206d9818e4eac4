package actions

import (
	"context"
	"slices"
	"strings"
)

// firewallPolicyKey is where Windows keeps each firewall profile's switch.
const firewallPolicyKey = `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\`

// netshProfiles are the registry keys of the three firewall profiles and
// the names our log line gives them (Wazuh's FIREWALL_DOMAIN, ...).
var netshProfiles = []struct{ key, name string }{
	{"DomainProfile", "domain"},
	{"StandardProfile", "private"},
	{"PublicProfile", "public"},
}

// reportProfiles reads each profile's EnableFirewall value, as Wazuh's
// netsh.exe does, and logs one warning naming every profile when any is
// not on. A profile whose value cannot be read counts as "unknown"; only a
// missing reg.exe is an error.
func (n *Netsh) reportProfiles(ctx context.Context) error {
	attrs := []any{"script", "netsh", "status", "inactive"}
	allOn := true
	for _, p := range netshProfiles {
		out, err := n.exec.Run(ctx, "reg", regQueryArgs(p.key)...)
		state := "unknown"
		switch {
		case err != nil && toolMissing(err):
			return err
		case err == nil:
			state = regFirewallState(out)
		}
		allOn = allOn && state == "active"
		attrs = append(attrs, p.name, state)
	}
	if !allOn {
		n.log.Warn("active response may not have an effect", attrs...)
	}
	return nil
}

// regQueryArgs is "reg query HKLM\...\FirewallPolicy\PROFILE /v EnableFirewall".
func regQueryArgs(profile string) []string {
	return []string{"query", firewallPolicyKey + profile, "/v", "EnableFirewall"}
}

// regFirewallState reads "reg query ... /v EnableFirewall" output:
//
//	EnableFirewall    REG_DWORD    0x1
//
// "active" for 0x1, "inactive" for another value, "unknown" without one.
// Wazuh's isEnabledFromPattern(buf, "REG_DWORD", "0x1") reads it the same.
func regFirewallState(out []byte) string {
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		i := slices.Index(f, "REG_DWORD")
		if i < 0 || i+1 >= len(f) {
			continue
		}
		if f[i+1] == "0x1" {
			return "active"
		}
		return "inactive"
	}
	return "unknown"
}
