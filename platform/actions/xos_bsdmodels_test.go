package actions

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Fake BSD tools for xosFake. Each models the state its commands change
// and prints what the real tool prints, closely enough for our parsers.

// xosAddrs renders a set of addresses sorted.
func xosAddrs(set map[netip.Addr]bool) string {
	keys := slices.SortedFunc(maps.Keys(set), netip.Addr.Compare)
	var s []string
	for _, k := range keys {
		s = append(s, k.String())
	}
	return "[" + strings.Join(s, " ") + "]"
}

// xosPF models pfctl: whether pf is enabled, whether the block rules on
// wazuh_fwtable are loaded, and the table (nil: not created).
type xosPF struct {
	enabled, loaded bool
	table           map[netip.Addr]bool
}

func (m *xosPF) state() string {
	return fmt.Sprintf("loaded=%v table=%s", m.loaded, xosAddrs(m.table))
}

func (m *xosPF) tool(args []string, _ string) (string, error) {
	j := strings.Join(args, " ")
	switch {
	case j == "-s rules":
		out := "scrub-anchor \"com.apple/*\" all fragment reassemble\nanchor \"com.apple/*\" all\n"
		if m.loaded {
			out += "block drop in quick from <wazuh_fwtable> to any\nblock drop out quick from any to <wazuh_fwtable>\n"
		}
		return out, nil
	case j == "-s info" && m.enabled:
		return "Status: Enabled for 0 days 01:02:03           Debug: Urgent\n\nState Table                          Total             Rate\n", nil
	case j == "-s info":
		return "Status: Disabled for 0 days 00:00:00          Debug: Urgent\n", nil
	case len(args) == 2 && args[0] == "-f":
		b, err := os.ReadFile(args[1])
		if err != nil {
			return "pfctl: " + err.Error() + "\n", errXOSExit1
		}
		m.loaded = strings.Contains(string(b), "block in quick from <wazuh_fwtable> to any")
		return "", nil
	case len(args) == 4 && args[0] == "-t" && args[2] == "-T" && args[3] == "show":
		if m.table == nil {
			return "pfctl: Table does not exist.\n", errXOSExit1
		}
		var out strings.Builder
		for _, a := range slices.SortedFunc(maps.Keys(m.table), netip.Addr.Compare) {
			if m.table[a] {
				out.WriteString("   " + a.String() + "\n")
			}
		}
		return out.String(), nil
	case len(args) >= 5 && args[0] == "-t" && args[2] == "-T":
		return m.tableOp(args[3], args[4:])
	case len(args) == 2 && args[0] == "-k":
		return "killed 0 states from 1 sources and 0 destinations\n", nil
	}
	return "pfctl: usage\n", errXOSExit1
}

func (m *xosPF) tableOp(op string, addrs []string) (string, error) {
	if m.table == nil && op == "delete" {
		return "pfctl: Table does not exist.\n", errXOSExit1
	}
	out := ""
	if m.table == nil {
		m.table, out = map[netip.Addr]bool{}, "1 table created.\n"
	}
	n := 0
	for _, s := range addrs {
		a := netip.MustParseAddr(s)
		if m.table[a] != (op == "add") {
			n++
		}
		if op == "add" {
			m.table[a] = true
		} else {
			delete(m.table, a)
		}
	}
	return out + fmt.Sprintf("%d/%d addresses %s.\n", n, len(addrs), map[string]string{"add": "added", "delete": "deleted"}[op]), nil
}

// xosIPFW models ipfw: its rules and table 1 (nil: not created). With -q,
// like the real one, it ignores duplicate adds and missing deletes.
type xosIPFW struct {
	rules []string
	table map[netip.Addr]bool
}

func (m *xosIPFW) state() string {
	return fmt.Sprintf("rules=%q table=%s", m.rules, xosAddrs(m.table))
}

func (m *xosIPFW) tool(args []string, _ string) (string, error) {
	switch {
	case len(args) == 1 && args[0] == "list":
		return strings.Join(append(slices.Clone(m.rules), "65535 deny ip from any to any"), "\n") + "\n", nil
	case len(args) == 9 && args[0] == "-q" && args[1] == "add":
		n, _ := strconv.Atoi(args[2])
		m.rules = append(m.rules, fmt.Sprintf("%05d %s", n, strings.Join(args[3:], " ")))
		return "", nil
	case len(args) == 5 && args[0] == "-q" && args[1] == "table" && args[3] == "add":
		if m.table == nil {
			m.table = map[netip.Addr]bool{}
		}
		m.table[netip.MustParseAddr(args[4])] = true
		return "", nil
	case len(args) == 5 && args[0] == "-q" && args[1] == "table" && args[3] == "delete":
		if m.table == nil {
			return "ipfw: Table " + args[2] + " does not exist\n", errXOSExit1
		}
		delete(m.table, netip.MustParseAddr(args[4]))
		return "", nil
	}
	return "ipfw: bad command\n", errXOSExit1
}

// xosNPF models npfctl: filtering on or off, whether npf.conf defines
// wazuh_blacklist, and the table's entries.
type xosNPF struct {
	active, hasTable bool
	table            map[netip.Addr]bool
}

func (m *xosNPF) state() string { return "table=" + xosAddrs(m.table) }

func (m *xosNPF) tool(args []string, _ string) (string, error) {
	if len(args) == 1 && args[0] == "show" {
		state := "inactive"
		if m.active {
			state = "active"
		}
		out := "# filtering:\t" + state + "\n# config:\tloaded\n#\n"
		if m.hasTable {
			out += "table <wazuh_blacklist> type ipset\n\ngroup default {\n\tblock in final from <wazuh_blacklist>\n\tpass all\n}\n"
		}
		return out, nil
	}
	if len(args) != 4 || args[0] != "table" || args[1] != "wazuh_blacklist" || !m.hasTable {
		return "npfctl: invalid address, mask or table ID\n", errXOSExit1
	}
	a := netip.MustParseAddr(args[3])
	switch present := m.table[a]; {
	case args[2] == "test" && present:
		return "npfctl: matching entry found\n", nil
	case args[2] == "add" && present:
		return "npfctl: entry already exists or is conflicting\n", errXOSExit1
	case args[2] == "add":
		m.table[a] = true
		return "npfctl: success\n", nil
	case args[2] == "del" && present:
		delete(m.table, a)
		return "npfctl: success\n", nil
	}
	return "npfctl: no matching entry was not found\n", errXOSExit1
}

// xosIPF models ipf and ipfstat: the active rules, kept as ipfstat prints
// them (addresses as prefixes). Like IPFilter it refuses a duplicate rule
// and the removal of a missing one.
type xosIPF struct{ rules map[string]bool }

func (m *xosIPF) state() string {
	return fmt.Sprintf("%q", slices.Sorted(maps.Keys(m.rules)))
}

// norm renders a rule line as ipfstat prints it.
func (m *xosIPF) norm(line string) string {
	f := strings.Fields(line)
	for i, w := range f {
		if a, err := netip.ParseAddr(w); err == nil {
			f[i] = hostPrefix(a)
		}
	}
	return strings.Join(f, " ")
}

func (m *xosIPF) ipfstat(args []string, _ string) (string, error) {
	v6 := len(args) == 2 && args[0] == "-6"
	out := "pass out all\npass in all\n"
	for _, r := range slices.Sorted(maps.Keys(m.rules)) {
		if strings.Contains(r, ":") == v6 {
			out += r + "\n"
		}
	}
	return out, nil
}

func (m *xosIPF) ipf(args []string, stdin string) (string, error) {
	remove := slices.Contains(args, "-rf")
	for line := range strings.Lines(stdin) {
		r := m.norm(line)
		switch {
		case !remove && m.rules[r]:
			return "ipf: ioctl(add/insert rule): File exists\n", errXOSExit1
		case remove && !m.rules[r]:
			return "ipf: ioctl(delete rule): No such file or directory\n", errXOSExit1
		case remove:
			delete(m.rules, r)
		default:
			m.rules[r] = true
		}
	}
	return "", nil
}

// xosRouteBSD models BSD route(8): the blackhole host routes, and a
// default route that "get" falls back to.
type xosRouteBSD struct{ black map[netip.Addr]bool }

func (m *xosRouteBSD) state() string { return "blackhole=" + xosAddrs(m.black) }

func (m *xosRouteBSD) tool(args []string, _ string) (string, error) {
	if len(args) >= 3 && args[0] == "-n" && args[1] == "get" {
		a := netip.MustParseAddr(args[len(args)-1])
		if m.black[a] {
			gw := map[bool]string{true: "127.0.0.1", false: "::1"}[a.Is4()]
			return fmt.Sprintf("   route to: %s\ndestination: %s\n    gateway: %s\n  interface: lo0\n"+
				"      flags: <UP,GATEWAY,HOST,DONE,STATIC,BLACKHOLE>\n", a, a, gw), nil
		}
		return fmt.Sprintf("   route to: %s\ndestination: default\n       mask: default\n    gateway: 198.51.100.1\n"+
			"  interface: em0\n      flags: <UP,GATEWAY,DONE,STATIC>\n", a), nil
	}
	words := slices.DeleteFunc(slices.Clone(args), func(w string) bool { return w == "-inet6" })
	if len(words) != 5 || words[0] != "-q" || words[4] != "-blackhole" {
		return "route: bad arguments\n", errXOSExit1
	}
	a, gw := netip.MustParseAddr(words[2]), netip.MustParseAddr(words[3])
	if a.Is4() != gw.Is4() || a.Is6() != slices.Contains(args, "-inet6") {
		return "route: writing to routing socket: Invalid argument\n", errXOSExit1
	}
	switch {
	case words[1] == "add" && m.black[a]:
		return "route: writing to routing socket: File exists\n", errXOSExit1
	case words[1] == "add":
		m.black[a] = true
	case words[1] == "delete" && !m.black[a]:
		return "route: writing to routing socket: No such process\n", errXOSExit1
	default:
		delete(m.black, a)
	}
	return "", nil
}
