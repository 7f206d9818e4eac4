package ossecconf

import (
	"strings"
	"testing"
)

func TestParse_Command(t *testing.T) {
	tests := []struct {
		name, elems, want string
	}{
		{"minimal", "<name>a</name><executable>a.sh</executable>",
			"command a exe=a.sh args=none timeout_allowed=no protocol=json line=2"},
		{"trimmed", "<name> a </name><executable>\n a.sh\n</executable>",
			"command a exe=a.sh args=none timeout_allowed=no protocol=json line=2"},
		{"extra_args", "<name>a</name><executable>a</executable><extra_args> -x  1\t-y </extra_args>",
			"command a exe=a args=-x 1 -y timeout_allowed=no protocol=json line=2"},
		{"timeout_allowed", "<name>a</name><executable>a</executable><timeout_allowed>yes</timeout_allowed>",
			"command a exe=a args=none timeout_allowed=yes protocol=json line=2"},
		{"expect (not rendered)", "<name>a</name><executable>a</executable><expect>srcip,user</expect>",
			"command a exe=a args=none timeout_allowed=no protocol=json line=2"},
		{"json", "<name>a</name><executable>a</executable><protocol>json</protocol>",
			"command a exe=a args=none timeout_allowed=no protocol=json line=2"},
		{"legacy", "<name>a</name><executable>a</executable><protocol>legacy</protocol>",
			"command a exe=a args=none timeout_allowed=no protocol=legacy line=2"},
		{"dots in a name", "<name>a</name><executable>route-null.exe</executable>",
			"command a exe=route-null.exe args=none timeout_allowed=no protocol=json line=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(mustParse(t, conf("  <command>"+tt.elems+"</command>\n")))
			checkText(t, "config", got, tt.want+"\n")
		})
	}
}

func TestParse_DuplicateCommand(t *testing.T) {
	cfg := mustParse(t, conf(`  <command><name>a</name><executable>first</executable></command>
  <command><name>a</name><executable>second</executable><timeout_allowed>yes</timeout_allowed></command>
  <active-response><command>a</command><location>local</location><timeout>60</timeout></active-response>
`))
	want := "command a exe=first args=none timeout_allowed=no protocol=json line=2\n" +
		"response a disabled=no location=local agent=none level=0 rules_id=none rules_group=none timeout=0s repeated=none line=4\n"
	checkText(t, "config", render(cfg), want)
}

func TestParse_Response(t *testing.T) {
	const base = "response fw disabled=no location=local agent=none level=0 rules_id=none rules_group=none timeout=0s repeated=none line=3"
	tests := []struct {
		name, elems, want string // want: replacements of base's fields
	}{
		{"no trigger loads", "", ""},
		{"server", "<location>server</location>", "location=server"},
		{"analysisd", "<location>analysisd</location>", "location=server"},
		{"analysis-server", "<location>analysis-server</location>", "location=server"},
		{"AS", "<location>AS</location>", "location=server"},
		{"case", "<location>Local</location>", ""},
		{"all", "<location>ALL</location>", "location=all"},
		{"any", "<location>any</location>", "location=all"},
		{"defined-agent", "<location>defined-agent</location><agent_id>1</agent_id>", "location=defined-agent agent=001"},
		{"agent 000", "<location>defined-agent</location><agent_id>000</agent_id>", "location=defined-agent agent=000"},
		{"agent 1234", "<location>defined-agent</location><agent_id>01234</agent_id>", "location=defined-agent agent=1234"},
		{"level", "<level>7</level>", "level=7"},
		{"level 0", "<level>0</level>", ""},
		{"level 20", "<level>20</level>", "level=20"},
		{"rules_id", "<rules_id> 5763 ,5712,,0100</rules_id>", "rules_id=5763,5712,100"},
		{"rules_group", "<rules_group>Authentication_Failed,| web |</rules_group>", "rules_group=authentication_failed,|web"},
		{"rules_group empty", "<rules_group>||</rules_group>", ""},
		{"timeout", "<timeout>600</timeout>", "timeout=600s"},
		{"timeout 0", "<timeout>0</timeout>", ""},
		{"repeated", "<repeated_offenders>1, 5,,10 ,60,1440,</repeated_offenders>", "repeated=1,5,10,60,1440"},
		{"disabled", "<disabled>yes</disabled>", "disabled=yes"},
		{"disabled: location unchecked", "<disabled>yes</disabled><location>bogus</location><level>3</level>", "disabled=yes level=3"},
		{"wpk options", "<ca_store>wpk_root.pem</ca_store><ca_verification>no</ca_verification>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			elems := tt.elems
			if !strings.Contains(elems, "<location>") {
				elems = "<location>local</location>" + elems
			}
			in := conf(fw + "  <active-response><command>fw</command>" + elems + "</active-response>\n")
			got := render(mustParse(t, in))
			checkText(t, "config", got, renderedFW+replaceFields(base, tt.want)+"\n")
		})
	}
}

const renderedFW = "command fw exe=fw args=none timeout_allowed=yes protocol=json line=2\n"

// replaceFields sets the key=value pairs of repl in line.
func replaceFields(line, repl string) string {
	f := strings.Fields(line)
	for _, kv := range strings.Fields(repl) {
		k, _, _ := strings.Cut(kv, "=")
		for i := range f {
			if strings.HasPrefix(f[i], k+"=") {
				f[i] = kv
			}
		}
	}
	return strings.Join(f, " ")
}

func TestParse_TimeoutNotAllowed(t *testing.T) {
	cfg := mustParse(t, conf(`  <command><name>restart</name><executable>restart-wazuh</executable></command>
  <active-response><command>restart</command><location>local</location><level>3</level><timeout>600</timeout></active-response>
`))
	if got := cfg.Responses[0].Timeout; got != 0 {
		t.Errorf("Timeout = %v, want 0 (timeout_allowed is no)", got)
	}
}

func TestParse_DisabledUndefinedCommand(t *testing.T) {
	// Wazuh checks nothing more in a disabled block; it is dropped here.
	cfg := mustParse(t, conf("  <active-response><disabled>yes</disabled><command>nope</command></active-response>\n"))
	checkText(t, "config", render(cfg), "")
}

func TestParse_AgentSide(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"enabled", "<active-response><disabled>no</disabled></active-response>\n", ""},
		{"disabled", "<active-response><disabled>yes</disabled></active-response>\n", "disabled\n"},
		{"first disabled counts",
			"<active-response><disabled>yes</disabled></active-response>\n<active-response><disabled>no</disabled></active-response>\n",
			"disabled\n"},
		{"empty block", "<active-response/>\n", ""},
		{"a response's disabled is its own",
			fw + "<active-response><disabled>yes</disabled><command>fw</command></active-response>\n",
			renderedFW + replaceFields("response fw disabled=yes location=local agent=none level=0 rules_id=none rules_group=none timeout=0s repeated=none line=3", "") + "\n"},
		{"repeated offenders for all",
			fw + "<active-response><command>fw</command><location>local</location></active-response>\n" +
				"<active-response><command>fw</command><location>local</location><repeated_offenders>7</repeated_offenders></active-response>\n" +
				"<active-response><repeated_offenders>5,10</repeated_offenders></active-response>\n" +
				"<active-response><repeated_offenders>99</repeated_offenders></active-response>\n",
			renderedFW +
				"response fw disabled=no location=local agent=none level=0 rules_id=none rules_group=none timeout=0s repeated=5,10 line=3\n" +
				"response fw disabled=no location=local agent=none level=0 rules_id=none rules_group=none timeout=0s repeated=7 line=4\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkText(t, "config", render(mustParse(t, conf(tt.body))), tt.want)
		})
	}
}
