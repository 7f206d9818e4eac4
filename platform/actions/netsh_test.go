package actions

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// newTestNetsh returns Netsh on fake netsh and reg tools.
func newTestNetsh(m *xosNetsh) (*Netsh, *xosFake, *bytes.Buffer) {
	f := newXOSFake()
	f.tools["netsh"], f.tools["reg"] = m.tool, m.reg
	var logBuf bytes.Buffer
	return NewNetsh(Config{Exec: f, Logger: xosLogger(&logBuf)}), f, &logBuf
}

// TestNetsh_FirewallOff checks Wazuh's report of profiles that are off,
// in one log line naming each profile, and that the rules are still added.
func TestNetsh_FirewallOff(t *testing.T) {
	m := &xosNetsh{profiles: map[string]string{"DomainProfile": "0x1", "StandardProfile": "0x0"}}
	n, f, logBuf := newTestNetsh(m)
	xosGolden(t, "netsh-firewall-off", xosRun(t, n, f, logBuf, m.state, xosSteps[:1]))
}

// TestNetsh_WazuhRule checks that an inbound rule made by Wazuh's own
// netsh.exe is kept and only the outbound one added, and that Delete
// removes both.
func TestNetsh_WazuhRule(t *testing.T) {
	m := &xosNetsh{rules: []xosNetshRule{{"in", "203.0.113.5/32"}},
		profiles: map[string]string{"DomainProfile": "0x1", "StandardProfile": "0x1", "PublicProfile": "0x1"}}
	n, _, _ := newTestNetsh(m)
	tgt := Target{Addr: netip.MustParseAddr("203.0.113.5")}
	if err := n.Add(context.Background(), tgt, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, want := m.state(), `["in 203.0.113.5/32" "out 203.0.113.5/32"]`; got != want {
		t.Errorf("rules %s, want %s", got, want)
	}
	if err := n.Delete(context.Background(), tgt); err != nil || len(m.rules) != 0 {
		t.Errorf("Delete: %v, rules left %s", err, m.state())
	}
}

// TestNetsh_DeleteFails checks that a failed delete is reported when the
// rule is still listed afterwards.
func TestNetsh_DeleteFails(t *testing.T) {
	m := &xosNetsh{rules: []xosNetshRule{{"in", "203.0.113.5/32"}}}
	n, f, _ := newTestNetsh(m)
	show := f.tools["netsh"]
	f.tools["netsh"] = func(args []string, stdin string) (string, error) {
		if args[2] == "delete" {
			return "The requested operation requires elevation (Run as administrator).\n", errXOSExit1
		}
		return show(args, stdin)
	}
	err := n.Delete(context.Background(), Target{Addr: netip.MustParseAddr("203.0.113.5")})
	if err == nil || !strings.Contains(err.Error(), "elevation") {
		t.Errorf("got %v, want the elevation error", err)
	}
}

func TestNetshListsAddr(t *testing.T) {
	a := netip.MustParseAddr("203.0.113.5")
	for out, want := range map[string]bool{
		"RemoteIP:                             203.0.113.5/32\r\n":                    true,
		"Remote-IP:                            203.0.113.5/32\r\n":                    true, // German
		"RemoteIP:                             198.51.100.7/32,203.0.113.5/32\n":      true,
		"RemoteIP:                             203.0.113.50/32\n":                     false,
		"RemoteIP:                             203.0.113.0/24\n":                      false,
		"LocalIP:                              Any\nRemoteIP:                  Any\n": false,
		"No rules match the specified criteria.\n":                                    false,
	} {
		if got := netshListsAddr([]byte(out), a); got != want {
			t.Errorf("netshListsAddr(%q) = %v, want %v", out, got, want)
		}
	}
	if !netshListsAddr([]byte("RemoteIP:    2001:db8::1/128\n"), netip.MustParseAddr("2001:db8::1")) {
		t.Error("IPv6 rule not found")
	}
}

func TestRegFirewallState(t *testing.T) {
	key := `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\PublicProfile`
	for out, want := range map[string]string{
		"\r\n" + key + "\r\n    EnableFirewall    REG_DWORD    0x1\r\n\r\n":             "active",
		"\r\n" + key + "\r\n    EnableFirewall    REG_DWORD    0x0\r\n\r\n":             "inactive",
		"ERROR: The system was unable to find the specified registry key or value.\r\n": "unknown",
	} {
		if got := regFirewallState([]byte(out)); got != want {
			t.Errorf("regFirewallState(%q) = %s, want %s", out, got, want)
		}
	}
}
