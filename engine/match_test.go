package engine

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func decoded(t *testing.T, line string) *Alert {
	t.Helper()
	a := new(Alert)
	if err := a.Decode([]byte(line)); err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	return a
}

func TestCompiled_Triggers(t *testing.T) {
	sshd := `{"rule":{"level":10,"id":"5712","groups":["syslog","sshd","authentication_failures"],"pci_dss":["11.4"]}}`
	low := `{"rule":{"level":3,"id":"5402","groups":["syslog","sudo"]}}`
	zero := `{"rule":{"level":0,"id":"5712","groups":["sshd"]}}`
	tests := []struct {
		name  string
		r     Response
		alert string
		want  bool
	}{
		{"level is a minimum: equal", Response{Level: 10}, sshd, true},
		{"level is a minimum: below", Response{Level: 11}, sshd, false},
		{"level 0 alert never triggers, even by rule id", Response{RulesID: []string{"5712"}}, zero, false},
		{"rule id alone", Response{RulesID: []string{"1", "5712"}}, sshd, true},
		{"rule id not listed", Response{RulesID: []string{"5713"}}, sshd, false},
		{"rule id is an OR over level", Response{Level: 15, RulesID: []string{"5712"}}, sshd, true},
		{"rule id is an OR over group", Response{RulesGroup: []string{"web"}, RulesID: []string{"5712"}}, sshd, true},
		{"group alone", Response{RulesGroup: []string{"sshd"}}, sshd, true},
		{"group is a substring", Response{RulesGroup: []string{"authentication_fail"}}, sshd, true},
		{"group with trailing comma avoids partial match", Response{RulesGroup: []string{"ssh,"}}, sshd, false},
		{"group alternatives", Response{RulesGroup: []string{"web,", "sshd,"}}, sshd, true},
		{"group alternatives in one expression", Response{RulesGroup: []string{"web,|sshd,"}}, sshd, true},
		{"group anchored at start", Response{RulesGroup: []string{"^syslog,"}}, sshd, true},
		{"group anchored at start fails", Response{RulesGroup: []string{"^sshd"}}, sshd, false},
		{"group anchored at end", Response{RulesGroup: []string{"pci_dss_11.4,$"}}, sshd, true},
		{"group case-insensitive", Response{RulesGroup: []string{"SSHD"}}, sshd, true},
		{"compliance group rebuilt", Response{RulesGroup: []string{"pci_dss_11.4,"}}, sshd, true},
		{"level and group both hold", Response{Level: 5, RulesGroup: []string{"sshd"}}, sshd, true},
		{"level and group: level fails", Response{Level: 12, RulesGroup: []string{"sshd"}}, sshd, false},
		{"level and group: group fails", Response{Level: 5, RulesGroup: []string{"web"}}, sshd, false},
		{"none of the three triggers nothing", Response{}, sshd, false},
		{"low level alert", Response{Level: 5}, low, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			r.Command = &Command{Name: "c", Executable: "c"}
			m := compile(&Config{Responses: []*Response{&r}})
			if got := m.responses[0].triggers(decoded(t, tt.alert)); got != tt.want {
				t.Errorf("triggers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompile_SkipsDisabled(t *testing.T) {
	c := &Command{Name: "c", Executable: "c"}
	cfg := &Config{Responses: []*Response{{Command: c, Level: 1, Disabled: true}, {Command: c, Level: 2}}}
	if n := len(compile(cfg).responses); n != 1 {
		t.Errorf("%d responses compiled, want 1", n)
	}
	cfg.Disabled = true
	if n := len(compile(cfg).responses); n != 0 {
		t.Errorf("globally disabled: %d responses compiled, want 0", n)
	}
}

func TestCompiled_RunsHere(t *testing.T) {
	ours := `{"rule":{"level":5},"agent":{"id":"000"}}`
	theirs := `{"rule":{"level":5},"agent":{"id":"004"}}`
	none := `{"rule":{"level":5}}`
	tests := []struct {
		loc   Location
		agent string
		alert string
		want  bool
	}{
		{LocationServer, "", theirs, true},
		{LocationAll, "", theirs, true},
		{LocationLocal, "", ours, true},
		{LocationLocal, "", none, true},
		{LocationLocal, "", theirs, false},
		{LocationDefinedAgent, "000", theirs, true},
		{LocationDefinedAgent, "004", ours, false},
	}
	for _, tt := range tests {
		r := &compiled{Response: &Response{Location: tt.loc, AgentID: tt.agent}}
		if got := r.runsHere(decoded(t, tt.alert), "000"); got != tt.want {
			t.Errorf("%v agent_id=%q alert=%s: runsHere = %v, want %v", tt.loc, tt.agent, tt.alert, got, tt.want)
		}
	}
}

func TestWhiteListed(t *testing.T) {
	list := []WhiteListEntry{
		{Prefix: netip.MustParsePrefix("10.0.0.0/8")},
		{Prefix: netip.MustParsePrefix("127.0.0.1/32")},
		{Prefix: netip.MustParsePrefix("2001:db8:1::/48")},
		{Pattern: "localhost"},
		{Pattern: "^192.168.|^172.16."},
		{Pattern: "^gw.example$"},
	}
	tests := []struct {
		srcip string
		want  bool
	}{
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"127.0.0.1", true},
		{"127.0.0.2", false},
		{"2001:db8:1::5", true},
		{"2001:db8:2::5", false},
		{"203.0.113.7", false},
		{"LOCALHOST.localdomain", true},
		{"", false},
		{"192.168.1.1", true},
		{"10.192.168.1", true}, // inside 10.0.0.0/8
		{"203.192.168.1", false},
		{"172.16.0.9", true},
		{"GW.example", true},
		{"gw.example.org", false},
	}
	m := compile(&Config{WhiteList: list})
	for _, tt := range tests {
		if got := m.whiteListed([]byte(tt.srcip)); got != tt.want {
			t.Errorf("whiteListed(%q) = %v, want %v", tt.srcip, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, alert, want string
	}{
		{"valid", `{"id":"1652272159.1549653","data":{"srcip":"203.0.113.7","dstuser":"alice.b@corp"}}`, ""},
		{"mapped v6", `{"data":{"srcip":"::ffff:203.0.113.7"}}`, ""},
		{"v6", `{"data":{"srcip":"2001:db8::1"}}`, ""},
		{"shell in srcip", `{"data":{"srcip":"1.2.3.4;rm -rf /"}}`, SkipSrcIP},
		{"option in srcip", `{"data":{"srcip":"-j ACCEPT"}}`, SkipSrcIP},
		{"text in an IPv6 zone", `{"data":{"srcip":"fe80::1%$(id)"}}`, SkipSrcIP},
		{"substitution in user", `{"data":{"dstuser":"$(reboot)"}}`, SkipUser},
		{"space in user", `{"data":{"dstuser":"a b"}}`, SkipUser},
		{"bad alert id", `{"id":"1;2","data":{"srcip":"203.0.113.7"}}`, SkipAlertID},

		// The host itself, or no single remote host: never passed on.
		{"loopback", `{"data":{"srcip":"127.0.0.1"}}`, SkipOwnAddress},
		{"loopback net", `{"data":{"srcip":"127.8.9.10"}}`, SkipOwnAddress},
		{"v6 loopback", `{"data":{"srcip":"::1"}}`, SkipOwnAddress},
		{"mapped loopback", `{"data":{"srcip":"::ffff:127.0.0.1"}}`, SkipOwnAddress},
		{"mapped loopback, hex: not passed on either", `{"data":{"srcip":"::ffff:7f00:1"}}`, SkipSrcIP},
		{"mapped loopback, long", `{"data":{"srcip":"0:0:0:0:0:ffff:127.0.0.1"}}`, SkipOwnAddress},
		{"unspecified", `{"data":{"srcip":"0.0.0.0"}}`, SkipOwnAddress},
		{"v6 unspecified", `{"data":{"srcip":"::"}}`, SkipOwnAddress},
		{"link-local", `{"data":{"srcip":"169.254.10.20"}}`, SkipOwnAddress},
		{"v6 link-local", `{"data":{"srcip":"fe80::1"}}`, SkipOwnAddress},
		{"multicast", `{"data":{"srcip":"224.0.0.251"}}`, SkipOwnAddress},
		{"v6 multicast", `{"data":{"srcip":"ff02::1"}}`, SkipOwnAddress},
		{"windows logon from loopback", `{"data":{"srcip":"203.0.113.7","win":{"eventdata":{"ipAddress":"::1"}}}}`, SkipOwnAddress},
	}
	for _, tt := range tests {
		if got := validate(decoded(t, tt.alert), nil); got != tt.want {
			t.Errorf("%s: validate = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestOffenceTimeout(t *testing.T) {
	base, rep := 10*time.Second, []time.Duration{time.Minute, 5 * time.Minute}
	want := []time.Duration{base, time.Minute, 5 * time.Minute, 5 * time.Minute}
	for n, w := range want {
		if got := offenceTimeout(base, rep, n+1); got != w {
			t.Errorf("offence %d: %v, want %v", n+1, got, w)
		}
	}
	if got := offenceTimeout(base, nil, 7); got != base {
		t.Errorf("no escalation list: %v, want %v", got, base)
	}
}

func TestTableKey(t *testing.T) {
	tests := []struct {
		exe  string
		keys []string
		want string
	}{
		{"firewall-drop", []string{"1.2.3.4"}, "firewall-drop-1.2.3.4"},
		{"firewall-drop", nil, "firewall-drop"},
		{"custom", []string{"a", "b"}, "custom-a-b"},
		{"route-null.exe", []string{"::1"}, "route-null.exe-::1"},
	}
	for _, tt := range tests {
		if got := TableKey(tt.exe, tt.keys); got != tt.want {
			t.Errorf("TableKey(%q, %v) = %q, want %q", tt.exe, tt.keys, got, tt.want)
		}
	}
}

// hostSet is a HostAddrs whose addresses a test changes.
type hostSet struct {
	mu    sync.Mutex
	addrs map[netip.Addr]bool
}

func newHostSet(addrs ...string) *hostSet {
	h := &hostSet{addrs: map[netip.Addr]bool{}}
	for _, a := range addrs {
		h.addrs[netip.MustParseAddr(a)] = true
	}
	return h
}

func (h *hostSet) Own(a netip.Addr) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.addrs[a]
}

func (h *hostSet) add(a string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addrs[netip.MustParseAddr(a)] = true
}

// TestEngine_NeverActsOnTheHostItself: the host's own addresses (as they
// are when the alert is handled), loopback, unspecified, link-local and
// multicast addresses reach no command, whatever the configuration; each
// is counted as skipped.
func TestEngine_NeverActsOnTheHostItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The host's own addresses (192.0.2.0/24 is this machine's subnet,
		// used in tests only for the host itself).
		host := newHostSet("192.0.2.10", "2001:db8::10")
		h := startEngineOpts(t, newMemStore(), &fakeRunner{}, testConfig(time.Minute), Options{BootID: "b", Host: host})
		defer h.stop()
		for i, ip := range []string{"192.0.2.10", "::ffff:192.0.2.10", "2001:db8::10", "127.0.0.1", "::1",
			"::ffff:127.0.0.1", "0.0.0.0", "fe80::1", "169.254.1.1", "224.0.0.1"} {
			h.alert(ip, fmt.Sprint(i))
		}
		h.want()
		if s := h.e.Stats(); s.Skipped.Load() != 10 || s.Jobs.Load() != 0 {
			t.Errorf("skipped %d, jobs %d; want 10 and 0", s.Skipped.Load(), s.Jobs.Load())
		}
		if by := h.e.Stats().SkippedBy(); by[SkipOwnAddress] != 10 || by[SkipWhiteList] != 0 {
			t.Errorf("skipped by reason %v, want own_address 10", by)
		}

		h.alert("203.0.113.5", "20")
		host.add("203.0.113.6") // the host gets a new address: refused from now on
		h.alert("203.0.113.6", "21")
		h.want("add firewall-drop 203.0.113.5 continue 20")
	})
}
