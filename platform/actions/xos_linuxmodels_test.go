package actions

import (
	"fmt"
	"maps"
	"net/netip"
	"os/user"
	"slices"
	"strings"
)

// Fake Linux tools for xosFake: iptables and ip6tables (their output as
// iptables 1.8.9 prints it here), firewall-cmd (as firewalld's source
// prints it) and shadow's passwd (as it prints it here). Each keeps the
// state its commands change; the actions' tests compare that state and the
// exact command lines.

// xosExit is a tool's exit with status code.
func xosExit(code int) error { return fmt.Errorf("exit status %d", code) }

// xosIPTables models iptables or ip6tables on the filter table: the rules
// of each chain as -S prints them ("-s 203.0.113.7/32 -j DROP"). Like the
// real tool it keeps duplicates, exits 1 for -C or -D of a missing rule,
// and 2 for an address of the other family. old words a missing rule as
// iptables 1.4 does; denied answers as for a user who is not root (exit 4).
type xosIPTables struct {
	tool        string // "iptables" or "ip6tables"
	chains      map[string][]string
	old, denied bool
}

func newXOSIPTables(tool string) *xosIPTables {
	return &xosIPTables{tool: tool, chains: map[string][]string{"INPUT": nil, "FORWARD": nil, "OUTPUT": nil}}
}

// state is "CHAIN: rule, rule" for the chains holding rules.
func (m *xosIPTables) state() string {
	var s []string
	for _, c := range slices.Sorted(maps.Keys(m.chains)) {
		if len(m.chains[c]) > 0 {
			s = append(s, c+": "+strings.Join(m.chains[c], ", "))
		}
	}
	return m.tool + "[" + strings.Join(s, "; ") + "]"
}

func (m *xosIPTables) run(args []string, _ string) (string, error) {
	if m.denied {
		return m.tool + " v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n", xosExit(4)
	}
	if len(args) > 0 && args[0] == "-w" {
		args = args[1:]
	}
	if len(args) < 2 {
		return m.usage("no command specified")
	}
	op, chain, spec := args[0], args[1], args[2:]
	rules, ok := m.chains[chain]
	if op == "-S" && len(spec) == 0 {
		if !ok {
			return m.tool + ": No chain/target/match by that name.\n", xosExit(1)
		}
		out := "-P " + chain + " ACCEPT\n"
		for _, r := range rules {
			out += "-A " + chain + " " + r + "\n"
		}
		return out, nil
	}
	rule, out, err := m.rule(spec)
	if err != nil {
		return out, err
	}
	i := slices.Index(rules, rule)
	switch {
	case op == "-I":
		m.chains[chain] = slices.Insert(rules, 0, rule)
		return "", nil
	case (op == "-C" || op == "-D") && i < 0 && m.old:
		return m.tool + ": No chain/target/match by that name.\n", xosExit(1)
	case (op == "-C" || op == "-D") && i < 0:
		return m.tool + ": Bad rule (does a matching rule exist in that chain?).\n", xosExit(1)
	case op == "-C":
		return "", nil
	case op == "-D":
		m.chains[chain] = slices.Delete(rules, i, i+1)
		return "", nil
	}
	return m.usage("unknown option " + op)
}

// rule reads "-s ADDR -j DROP" as -S prints it, the address as a prefix.
func (m *xosIPTables) rule(spec []string) (string, string, error) {
	if len(spec) != 4 || spec[0] != "-s" || spec[2] != "-j" {
		out, err := m.usage("bad rule " + strings.Join(spec, " "))
		return "", out, err
	}
	a, err := netip.ParseAddr(spec[1])
	if err != nil || a.Is4() != (m.tool == "iptables") {
		return "", m.tool + " v1.8.9 (nf_tables): host/network `" + spec[1] + "' not found\n" +
			"Try `" + m.tool + " -h' or '" + m.tool + " --help' for more information.\n", xosExit(2)
	}
	return "-s " + hostPrefix(a) + " -j " + spec[3], "", nil
}

func (m *xosIPTables) usage(what string) (string, error) {
	return m.tool + " v1.8.9 (nf_tables): " + what + "\n", xosExit(2)
}

// xosFirewalld models firewall-cmd and the runtime rich rules of
// firewalld's default zone, kept as firewalld prints them (values quoted).
// A present firewall-cmd warns on ALREADY_ENABLED and NOT_ENABLED and exits
// 0; old (before 0.4.4) made them errors, exit 11 and 12. stopped answers
// as when firewalld is not running (exit 252).
type xosFirewalld struct {
	stopped, old bool
	rules        map[string]bool
}

func (m *xosFirewalld) state() string { return fmt.Sprintf("%q", slices.Sorted(maps.Keys(m.rules))) }

func (m *xosFirewalld) tool(args []string, _ string) (string, error) {
	if m.stopped {
		return "FirewallD is not running\n", xosExit(252)
	}
	opt, val, _ := strings.Cut(strings.Join(args, " "), "=")
	if opt == "--list-rich-rules" {
		return strings.Join(slices.Sorted(maps.Keys(m.rules)), "\n") + "\n", nil
	}
	rule, err := m.parse(val)
	if err != nil {
		return "Error: " + err.Error() + "\n", xosExit(map[bool]int{true: 105, false: 122}[strings.HasPrefix(err.Error(), "INVALID_ADDR")])
	}
	switch {
	case opt == "--add-rich-rule" && m.rules[rule]:
		return m.warn(11, "ALREADY_ENABLED: '"+rule+"' already in 'public'")
	case opt == "--add-rich-rule":
		m.rules[rule] = true
	case opt == "--remove-rich-rule" && !m.rules[rule]:
		return m.warn(12, "NOT_ENABLED: '"+rule+"' not in 'public'")
	case opt == "--remove-rich-rule":
		delete(m.rules, rule)
	default:
		return "usage: see firewall-cmd man page\nfirewall-cmd: error: unrecognized arguments\n", xosExit(2)
	}
	return "success\n", nil
}

// warn is the answer for a rule already in (or already out of) place.
func (m *xosFirewalld) warn(code int, msg string) (string, error) {
	if m.old {
		return "Error: " + msg + "\n", xosExit(code)
	}
	return "Warning: " + msg + "\nsuccess\n", nil
}

// parse reads "rule family=F source address=A drop" as firewalld prints it.
func (m *xosFirewalld) parse(s string) (string, error) {
	f := strings.Fields(strings.ReplaceAll(s, `"`, ""))
	if len(f) != 5 || f[0] != "rule" || f[2] != "source" || f[4] != "drop" ||
		!strings.HasPrefix(f[1], "family=") || !strings.HasPrefix(f[3], "address=") {
		return "", fmt.Errorf("INVALID_RULE: %s", s)
	}
	family, addr := strings.TrimPrefix(f[1], "family="), strings.TrimPrefix(f[3], "address=")
	if a, err := netip.ParseAddr(addr); err != nil || family != map[bool]string{true: "ipv4", false: "ipv6"}[a.Is4()] {
		return "", fmt.Errorf("INVALID_ADDR: %s", addr)
	}
	return fmt.Sprintf("rule family=%q source address=%q drop", family, addr), nil
}

// xosUser is one account: its uid and its shadow password field.
type xosUser struct{ uid, hash string }

// xosPasswd models the user database and shadow's passwd -l and -u: -l
// puts one '!' before the hash (never two), -u takes one off unless that
// leaves the field empty (exit 3), and an unknown user is exit 1.
type xosPasswd struct{ users map[string]*xosUser }

func (m *xosPasswd) state() string {
	var s []string
	for _, n := range slices.Sorted(maps.Keys(m.users)) {
		s = append(s, n+":"+m.users[n].hash)
	}
	return strings.Join(s, " ")
}

// lookup is DisableAccount.lookupUID on this user database.
func (m *xosPasswd) lookup(name string) (string, error) {
	if u := m.users[name]; u != nil {
		return u.uid, nil
	}
	return "", user.UnknownUserError(name)
}

func (m *xosPasswd) tool(args []string, _ string) (string, error) {
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--" })
	if len(args) != 2 || args[0] != "-l" && args[0] != "-u" {
		return "Usage: passwd [options] [LOGIN]\n", xosExit(2)
	}
	u := m.users[args[1]]
	switch {
	case u == nil:
		return "passwd: user '" + args[1] + "' does not exist\n", xosExit(1)
	case args[0] == "-l" && !strings.HasPrefix(u.hash, "!"):
		u.hash = "!" + u.hash
	case args[0] == "-u" && u.hash == "!":
		return "passwd: unlocking the password would result in a passwordless account.\n" +
			"You should set a password with usermod -p to unlock the password of this account.\n", xosExit(3)
	case args[0] == "-u":
		u.hash = strings.TrimPrefix(u.hash, "!")
	}
	return "passwd: password changed.\n", nil
}
