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

func TestLegacyArgs(t *testing.T) {
	inv := engine.Invocation{
		Command: engine.Command{ExtraArgs: []string{"a b"}},
		Op:      engine.OpDelete,
		Fields:  engine.Fields{User: "bob", SrcIP: "", AlertID: "1.2", RuleID: "5712", Location: "loc", Filename: "f"},
	}
	want := "delete|bob|-|1.2|5712|loc|f|a b"
	if got := strings.Join(legacyArgs(inv), "|"); got != want {
		t.Errorf("legacyArgs = %s, want %s", got, want)
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
