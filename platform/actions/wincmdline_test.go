package actions

import (
	"net/netip"
	"testing"
)

// TestWinCmdLine checks that netsh gets Wazuh's command line: the rule name
// in quotes inside one argument, nothing escaped.
func TestWinCmdLine(t *testing.T) {
	got := winCmdLine(`C:\Windows\system32\netsh.exe`, netshAddArgs("in", netip.MustParseAddr("203.0.113.5")))
	want := `"C:\Windows\system32\netsh.exe" advfirewall firewall add rule ` +
		`name="WAZUH ACTIVE RESPONSE BLOCKED IP" interface=any dir=in action=block remoteip=203.0.113.5/32`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
