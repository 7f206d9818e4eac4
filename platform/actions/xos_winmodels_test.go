package actions

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// Fake Windows tools for xosFake: netsh advfirewall, reg query, route and
// ipconfig, printing their English output.

// xosNetshRule is one firewall rule named "WAZUH ACTIVE RESPONSE BLOCKED IP".
type xosNetshRule struct{ dir, remote string }

// xosNetsh models the firewall rules of our name and, for reg.exe, each
// profile's EnableFirewall value ("" = no value).
type xosNetsh struct {
	rules    []xosNetshRule
	profiles map[string]string
}

func (m *xosNetsh) state() string {
	var s []string
	for _, r := range m.rules {
		s = append(s, r.dir+" "+r.remote)
	}
	slices.Sort(s)
	return fmt.Sprintf("%q", s)
}

// kv reads netsh's key=value arguments after the rule name.
func (m *xosNetsh) kv(args []string) map[string]string {
	kv := map[string]string{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		kv[k] = v
	}
	return kv
}

func (m *xosNetsh) tool(args []string, _ string) (string, error) {
	if len(args) < 5 || args[0] != "advfirewall" || args[1] != "firewall" || args[3] != "rule" {
		return "The following command was not found.\n", errXOSExit1
	}
	if args[4] != `name="WAZUH ACTIVE RESPONSE BLOCKED IP"` {
		return "A specified value is not valid.\n", errXOSExit1
	}
	kv := m.kv(args[5:])
	switch args[2] {
	case "add":
		m.rules = append(m.rules, xosNetshRule{kv["dir"], kv["remoteip"]})
		return "Ok.\n\n", nil
	case "delete":
		n := len(m.rules)
		m.rules = slices.DeleteFunc(m.rules, func(r xosNetshRule) bool {
			return r.remote == kv["remoteip"] && (kv["dir"] == "" || r.dir == kv["dir"])
		})
		if n == len(m.rules) {
			return "\nNo rules match the specified criteria.\n\n", errXOSExit1
		}
		return fmt.Sprintf("\nDeleted %d rule(s).\nOk.\n\n", n-len(m.rules)), nil
	case "show":
		return m.show(kv["dir"])
	}
	return "The following command was not found.\n", errXOSExit1
}

func (m *xosNetsh) show(dir string) (string, error) {
	var b strings.Builder
	for _, r := range m.rules {
		if dir != "" && r.dir != dir {
			continue
		}
		fmt.Fprintf(&b, "\nRule Name:                            WAZUH ACTIVE RESPONSE BLOCKED IP\n"+
			"%s\nEnabled:                              Yes\nDirection:                            %s\n"+
			"Profiles:                             Domain,Private,Public\nGrouping:                             \n"+
			"LocalIP:                              Any\nRemoteIP:                             %s\n"+
			"Protocol:                             Any\nEdge traversal:                       No\n"+
			"Action:                               Block\n", strings.Repeat("-", 70),
			map[string]string{"in": "In", "out": "Out"}[r.dir], r.remote)
	}
	if b.Len() == 0 {
		return "No rules match the specified criteria.\n", errXOSExit1
	}
	return b.String() + "Ok.\n\n", nil
}

func (m *xosNetsh) reg(args []string, _ string) (string, error) {
	if len(args) != 4 || args[0] != "query" || args[2] != "/v" || args[3] != "EnableFirewall" {
		return "ERROR: Invalid syntax.\n", errXOSExit1
	}
	key := args[1]
	v := m.profiles[key[strings.LastIndex(key, `\`)+1:]]
	if v == "" {
		return "ERROR: The system was unable to find the specified registry key or value.\n", errXOSExit1
	}
	return "\r\n" + key + "\r\n    EnableFirewall    REG_DWORD    " + v + "\r\n\r\n", nil
}

// xosRouteWin models route.exe: host routes added with -p (they show as
// active and persistent) and the default routes of both families.
type xosRouteWin struct {
	hosts map[netip.Prefix]string // host route -> "GW" or "GW IF n"
}

func (m *xosRouteWin) state() string {
	var s []string
	for _, p := range slices.SortedFunc(maps.Keys(m.hosts), func(a, b netip.Prefix) int {
		return a.Addr().Compare(b.Addr())
	}) {
		s = append(s, p.String()+" via "+m.hosts[p])
	}
	return fmt.Sprintf("%q", s)
}

func (m *xosRouteWin) tool(args []string, _ string) (string, error) {
	switch {
	case len(args) == 2 && args[0] == "print":
		return m.print(args[1] == "-6"), nil
	case len(args) >= 4 && args[0] == "-p" && args[1] == "ADD":
		p, via := m.addArgs(args[2:])
		if _, ok := m.hosts[p]; ok {
			return "The route addition failed: The object already exists.\n", errXOSExit1
		}
		m.hosts[p] = via
		return " OK!\n", nil
	case len(args) == 2 && args[0] == "DELETE":
		p := xosWinPrefix(args[1])
		if _, ok := m.hosts[p]; !ok {
			return "The route deletion failed: Element not found.\n", errXOSExit1
		}
		delete(m.hosts, p)
		return " OK!\n", nil
	}
	return "Bad argument\n", errXOSExit1
}

// addArgs reads "ADDR MASK 255.255.255.255 GW" or "ADDR/128 GW [IF n]".
func (m *xosRouteWin) addArgs(a []string) (netip.Prefix, string) {
	if len(a) == 4 && a[1] == "MASK" && a[2] == "255.255.255.255" {
		return xosWinPrefix(a[0]), a[3]
	}
	return xosWinPrefix(a[0]), strings.Join(a[1:], " ")
}

// xosWinPrefix reads an address or prefix as a host prefix.
func xosWinPrefix(s string) netip.Prefix {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p
	}
	a := netip.MustParseAddr(s)
	return netip.PrefixFrom(a, hostBits(a))
}

const xosIfList = "===========================================================================\n" +
	"Interface List\n 12...00 15 5d 01 02 03 ......Microsoft Hyper-V Network Adapter\n" +
	"  1...........................Software Loopback Interface 1\n" +
	"===========================================================================\n\n"

func (m *xosRouteWin) print(v6 bool) string {
	var active, persistent strings.Builder
	for p, via := range m.hosts {
		if p.Addr().Is6() != v6 {
			continue
		}
		if !v6 {
			fmt.Fprintf(&active, "%17s  255.255.255.255   %14s   198.51.100.20     26\n", p.Addr(), via)
			fmt.Fprintf(&persistent, "%17s  255.255.255.255   %14s  Default\n", p.Addr(), via)
			continue
		}
		gw, ifn, _ := strings.Cut(via, " IF ")
		fmt.Fprintf(&active, " %2s    281 %-24s %s\n", ifn, p, gw)
		fmt.Fprintf(&persistent, " %2s 4294967295 %-24s %s\n", ifn, p, gw)
	}
	if persistent.Len() == 0 {
		persistent.WriteString("  None\n")
	}
	if v6 {
		return xosIfList + "IPv6 Route Table\n" + strings.Repeat("=", 75) + "\nActive Routes:\n" +
			" If Metric Network Destination      Gateway\n 12    281 ::/0                     fe80::1\n" +
			"  1    331 ::1/128                  On-link\n" +
			" 12    281 2001:db8:abcd:1234:5678:9abc:def0:1234/128\n                                    On-link\n" +
			active.String() + strings.Repeat("=", 75) + "\nPersistent Routes:\n" +
			" If Metric Network Destination      Gateway\n" + persistent.String() + strings.Repeat("=", 75) + "\n"
	}
	return xosIfList + "IPv4 Route Table\n" + strings.Repeat("=", 75) + "\nActive Routes:\n" +
		"Network Destination        Netmask          Gateway       Interface  Metric\n" +
		"          0.0.0.0          0.0.0.0     198.51.100.1   198.51.100.20     25\n" +
		"        127.0.0.0        255.0.0.0         On-link         127.0.0.1    331\n" +
		"     198.51.100.0    255.255.255.0         On-link     198.51.100.20    281\n" +
		active.String() + strings.Repeat("=", 75) + "\nPersistent Routes:\n" +
		"  Network Address          Netmask  Gateway Address  Metric\n" + persistent.String() +
		strings.Repeat("=", 75) + "\n"
}
