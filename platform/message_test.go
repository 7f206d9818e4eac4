package platform

import (
	"errors"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

func TestParseCheckKeys(t *testing.T) {
	for _, tc := range []struct {
		line string
		keys []string
		ok   bool
	}{
		{helperCheckKeysLine, []string{"1.2.3.4"}, true},
		{`{"command":"check_keys","parameters":{"keys":[]}}`, []string{}, true},
		{`{"command":"check_keys","parameters":{"keys":["a",2,"b"]}}`, []string{"a", "b"}, true},
		{`{"command":"check_keys"}`, []string{}, true},
		{`{"command":"add","parameters":{"keys":["a"]}}`, nil, false},
		{`{"command":"check_keys","parameters":"x"}`, nil, false},
		{`check_keys`, nil, false},
		{``, nil, false},
	} {
		keys, ok := parseCheckKeys(tc.line)
		if ok != tc.ok || strings.Join(keys, ",") != strings.Join(tc.keys, ",") || (ok && keys == nil) {
			t.Errorf("parseCheckKeys(%s) = %q, %v; want %q, %v", tc.line, keys, ok, tc.keys, tc.ok)
		}
	}
}

const helperCheckKeysLine = `{"version":1,"origin":{"name":"firewall-drop","module":"active-response"},"command":"check_keys","parameters":{"keys":["1.2.3.4"]}}`

// TestLegacyArgs: the argv of Wazuh 4.1's analysisd and execd. Only the
// fields <expect> lists are filled (none when it is absent); an absent
// <extra_args> is one "-".
func TestLegacyArgs(t *testing.T) {
	fields := engine.Fields{User: "bob", SrcIP: "2001:DB8:0:0::4", AlertID: "1.2", RuleID: "5712", Location: "loc", Filename: "f"}
	for _, tc := range []struct {
		expect, extra []string
		want          string
	}{
		{nil, nil, "delete|-|-|1.2|5712|loc|-|-"},
		{[]string{}, []string{"a b"}, "delete|-|-|1.2|5712|loc|-|a b"},
		{[]string{"srcip"}, nil, "delete|-|2001:db8::4|1.2|5712|loc|-|-"},
		{[]string{"user"}, []string{"-x", "1"}, "delete|bob|-|1.2|5712|loc|-|-x|1"},
		{[]string{"filename", "user", "srcip"}, nil, "delete|bob|2001:db8::4|1.2|5712|loc|f|-"},
	} {
		inv := engine.Invocation{
			Command: engine.Command{Expect: tc.expect, ExtraArgs: tc.extra},
			Op:      engine.OpDelete,
			Fields:  fields,
			Target:  fields.Target(),
		}
		if got := strings.Join(legacyArgs(inv), "|"); got != tc.want {
			t.Errorf("expect %q extra %q: legacyArgs = %s, want %s", tc.expect, tc.extra, got, tc.want)
		}
	}
	empty := engine.Invocation{Command: engine.Command{Expect: []string{"srcip", "user", "filename"}}, Op: engine.OpAdd,
		Fields: engine.Fields{User: "-", SrcIP: "-", AlertID: "-", RuleID: "-", Location: "-", Filename: "-"}}
	empty.Target = empty.Fields.Target()
	if got := strings.Join(legacyArgs(empty), "|"); got != "add|-|-|-|-|-|-|-" {
		t.Errorf("an alert without the fields: %s", got)
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"firewall-drop", "netsh.exe", "my_script.sh", ".hidden"} {
		if err := checkName(ok); err != nil {
			t.Errorf("checkName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "../x", "a/b", `a\b`, `C:x`, "a..b", "x\x00"} {
		if err := checkName(bad); !errors.Is(err, engine.ErrNotStarted) {
			t.Errorf("checkName(%q) = %v, want ErrNotStarted", bad, err)
		}
	}
}
