package ossecconf

import "testing"

// fw is a command that allows a timeout, for the response cases.
const fw = "  <command><name>fw</name><executable>fw</executable><timeout_allowed>yes</timeout_allowed></command>\n"

// ar is a response to fw with the given elements, on line 3 after fw.
func ar(elems string) string {
	return conf(fw + "  <active-response><command>fw</command><location>local</location>" + elems + "</active-response>\n")
}

func TestParse_ErrorLines(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// A file without an <ossec_config> root (an editor that truncates
		// before it writes) is not a config that removes everything.
		{"empty file", "", "test.conf:1: the file is empty: it needs an <ossec_config> root element"},
		{"blank file", "\n  \n\t\n", "test.conf:1: the file is empty: it needs an <ossec_config> root element"},
		{"comment only", "<?xml version=\"1.0\"?>\n<!-- <ossec_config> -->\n",
			"test.conf:1: no <ossec_config> root element: the file holds no configuration"},
		{"text only", "active-response\n", "test.conf:1: no <ossec_config> root element: the file holds no configuration"},

		// XML.
		{"mismatched tag", conf("  <command>\n    <name>a</nam>\n  </command>\n"),
			"test.conf:3: xml syntax error: element <name> closed by </nam>"},
		{"unclosed at end", "<ossec_config>\n  <global>\n", "test.conf:3: xml syntax error: unexpected EOF"},
		{"unknown root", "<ossec_config/>\n<agent_config><command/></agent_config>\n",
			"test.conf:2: unknown root element <agent_config>: expected <ossec_config>"},
		{"stops at syntax error", conf("  <command/>\n  <x>\n"),
			"test.conf:2: <command> has no <name>\ntest.conf:2: <command> has no <executable>\ntest.conf:4: xml syntax error: element <x> closed by </ossec_config>"},

		// <command>.
		{"command without name", conf("  <command><executable>a</executable></command>\n"),
			"test.conf:2: <command> has no <name>"},
		{"command without executable", conf("  <command><name>a</name></command>\n"),
			`test.conf:2: <command> "a" has no <executable>`},
		{"empty name", conf("  <command>\n    <name> </name><executable>a</executable></command>\n"),
			`test.conf:3: invalid <name> "": must not be empty`},
		{"name with !", conf("  <command><name>!a</name><executable>a</executable></command>\n"),
			`test.conf:2: invalid <name> "!a": must not start with "!"`},
		{"executable path", conf("  <command><name>a</name>\n<executable>/bin/sh</executable></command>\n"),
			`test.conf:3: invalid <executable> "/bin/sh": must be a file name in active-response/bin, not a path`},
		{"executable windows path", conf("  <command><name>a</name><executable>..\\x.exe</executable></command>\n"),
			`test.conf:2: invalid <executable> "..\\x.exe": must be a file name in active-response/bin, not a path`},
		{"executable dotdot", conf("  <command><name>a</name><executable>..</executable></command>\n"),
			`test.conf:2: invalid <executable> "..": must be a file name in active-response/bin; ".." is not allowed`},
		{"executable empty", conf("  <command><name>a</name><executable/></command>\n"),
			`test.conf:2: invalid <executable> "": must not be empty`},
		{"timeout_allowed", conf("  <command><name>a</name><executable>a</executable><timeout_allowed>Yes</timeout_allowed></command>\n"),
			`test.conf:2: invalid <timeout_allowed> "Yes": must be yes or no`},
		{"protocol", conf("  <command><name>a</name><executable>a</executable><protocol>argv</protocol></command>\n"),
			`test.conf:2: invalid <protocol> "argv": must be json (Wazuh >= 4.2 scripts) or legacy (older scripts)`},
		{"command unknown element", conf("  <command><name>a</name><executable>a</executable>\n<timeout>5</timeout></command>\n"),
			"test.conf:3: unknown element <timeout> in <command>"},
		{"command nested", conf("  <command><name><b>a</b></name><executable>a</executable></command>\n"),
			"test.conf:2: <name> in <command> must hold a value, not elements"},

		// <active-response>.
		{"command defined later", conf("  <active-response>\n    <command>fw</command><location>local</location></active-response>\n" + fw),
			`test.conf:3: command "fw" is not defined before this active-response (Wazuh requires <command> first)`},
		{"command not defined", conf("  <active-response><command>nope</command><location>local</location></active-response>\n"),
			`test.conf:2: command "nope" is not defined`},
		{"empty command", conf("  <active-response><command/><location>local</location></active-response>\n"),
			`test.conf:2: invalid <command> "": must name a <command>`},
		{"no location", conf(fw + "  <active-response><command>fw</command></active-response>\n"),
			"test.conf:3: <active-response> has no <location>: use local, server, defined-agent or all"},
		{"bad location", conf(fw + "  <active-response><command>fw</command><location>remote</location></active-response>\n"),
			`test.conf:3: invalid <location> "remote": must be local, server, defined-agent or all`},
		{"defined-agent without id", conf(fw + "  <active-response><command>fw</command>\n<location>defined-agent</location></active-response>\n"),
			"test.conf:4: location defined-agent needs an <agent_id>"},
		{"bad agent id", conf(fw + "  <active-response><command>fw</command><location>defined-agent</location><agent_id>web01</agent_id></active-response>\n"),
			`test.conf:3: invalid <agent_id> "web01": must be an agent id such as 001`},
		{"level too high", ar("<level>21</level>"), `test.conf:3: invalid <level> "21": must be a rule level from 0 to 20`},
		{"level negative", ar("<level>-1</level>"), `test.conf:3: invalid <level> "-1": must be a rule level from 0 to 20`},
		{"level word", ar("<level>high</level>"), `test.conf:3: invalid <level> "high": must be a rule level from 0 to 20`},
		{"rules_id", ar("<rules_id>5763,57a3</rules_id>"), `test.conf:3: invalid <rules_id> "5763,57a3": rule id "57a3" is not a number`},
		{"negative timeout", ar("<timeout>-5</timeout>"),
			`test.conf:3: invalid <timeout> "-5": must not be negative (Wazuh ignores that; ThreatLockDown refuses it)`},
		{"timeout word", ar("<timeout>10m</timeout>"), `test.conf:3: invalid <timeout> "10m": must be a number of seconds from 0 to 2147483647`},
		{"timeout huge", ar("<timeout>2147483648</timeout>"),
			`test.conf:3: invalid <timeout> "2147483648": must be a number of seconds from 0 to 2147483647`},
		{"six repeated offenders", ar("<repeated_offenders>1,2,3,4,5,6</repeated_offenders>"),
			`test.conf:3: invalid <repeated_offenders> "1,2,3,4,5,6": has 6 values; at most 5 are allowed`},
		{"zero repeated offender", ar("<repeated_offenders>10,0</repeated_offenders>"),
			`test.conf:3: invalid <repeated_offenders> "10,0": "0" is not a positive number of minutes`},
		{"word repeated offender", ar("<repeated_offenders>1h</repeated_offenders>"),
			`test.conf:3: invalid <repeated_offenders> "1h": "1h" is not a positive number of minutes`},
		{"disabled", ar("<disabled>true</disabled>"), `test.conf:3: invalid <disabled> "true": must be yes or no`},
		{"response unknown element", ar("<srcip>1.2.3.4</srcip>"), "test.conf:3: unknown element <srcip> in <active-response>"},
		{"agent-side block with level", conf("  <active-response>\n    <disabled>no</disabled>\n    <level>7</level>\n  </active-response>\n"),
			"test.conf:4: <level> in an <active-response> without <command>: name the command to run"},

		// <white_list>.
		{"bad IPv4", conf("  <global><white_list>300.1.1.1</white_list></global>\n"),
			`test.conf:2: invalid <white_list> "300.1.1.1": not an IPv4 address, CIDR (10.0.0.0/8) or netmask (10.0.0.0/255.0.0.0)`},
		{"bad prefix length", conf("  <global><white_list>10.0.0.0/33</white_list></global>\n"),
			`test.conf:2: invalid <white_list> "10.0.0.0/33": not an IPv4 address, CIDR (10.0.0.0/8) or netmask (10.0.0.0/255.0.0.0)`},
		{"bad netmask", conf("  <global><white_list>10.0.0.0/255.0.255.0</white_list></global>\n"),
			`test.conf:2: invalid <white_list> "10.0.0.0/255.0.255.0": netmask 255.0.255.0 is not contiguous`},
		{"netmask not an address", conf("  <global><white_list>10.0.0.0/255.0.0.x</white_list></global>\n"),
			`test.conf:2: invalid <white_list> "10.0.0.0/255.0.0.x": not an IPv4 address with a netmask such as 10.0.0.0/255.0.0.0`},
		{"negated", conf("  <global><white_list>!10.0.0.1</white_list></global>\n"),
			`test.conf:2: invalid <white_list> "!10.0.0.1": negated entries ("!") are not supported`},

		// Every error is reported, in line order.
		{"all errors", conf(`  <active-response><command>later</command><location>local</location></active-response>
  <global><white_list>1.2.3.400</white_list></global>
  <command><name>later</name><executable>../x</executable></command>
  <active-response><command>later</command><location>mars</location><level>99</level></active-response>
`), `test.conf:2: command "later" is not defined before this active-response (Wazuh requires <command> first)
test.conf:3: invalid <white_list> "1.2.3.400": not an IPv4 address, CIDR (10.0.0.0/8) or netmask (10.0.0.0/255.0.0.0)
test.conf:4: invalid <executable> "../x": must be a file name in active-response/bin, not a path
test.conf:5: invalid <level> "99": must be a rule level from 0 to 20
test.conf:5: invalid <location> "mars": must be local, server, defined-agent or all`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkText(t, "errors", parseErr(t, tt.in), tt.want)
		})
	}
}
