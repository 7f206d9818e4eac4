package arproto

import "testing"

func TestSetCommand(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{
			`{"version":1,"origin":{"name":"n","module":"wazuh-execd"},"command":"add","parameters":{"alert":{"b":"\u003c","a":1.50}}}`,
			`{"version":1,"origin":{"name":"n","module":"wazuh-execd"},"command":"continue","parameters":{"alert":{"b":"\u003c","a":1.50}}}`,
		},
		{`{"z":1,"command":"add","a":2}`, `{"z":1,"command":"continue","a":2}`},
		{`{"version":1}`, `{"version":1,"command":"continue"}`},
		{`{}`, `{"command":"continue"}`},
	} {
		got, err := SetCommand([]byte(tc.in), "continue")
		if err != nil || string(got) != tc.want {
			t.Errorf("SetCommand(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`[1]`, `"x"`, ``, `{"a":}`} {
		if _, err := SetCommand([]byte(bad), "abort"); err == nil {
			t.Errorf("SetCommand(%q) succeeded", bad)
		}
	}
}

func TestCompact(t *testing.T) {
	got, err := Compact([]byte("{\n  \"a\": [1, 2],\n  \"b\": \"x y\"\n}"))
	if err != nil || string(got) != `{"a":[1,2],"b":"x y"}` {
		t.Errorf("Compact = %s, %v", got, err)
	}
	for _, bad := range []string{`[1]`, `{"a"`, ``, `1`} {
		if _, err := Compact([]byte(bad)); err == nil {
			t.Errorf("Compact(%q) succeeded", bad)
		}
	}
}

func TestCheckKeysLine(t *testing.T) {
	const want = `{"version":1,"origin":{"name":"firewall-drop","module":"active-response"},"command":"check_keys","parameters":{"keys":["1.2.3.4"]}}`
	if got := string(CheckKeysLine("firewall-drop", []string{"1.2.3.4"})); got != want {
		t.Errorf("CheckKeysLine = %s\nwant %s", got, want)
	}
	if got := string(CheckKeysLine("restart-wazuh", nil)); got != `{"version":1,"origin":{"name":"restart-wazuh","module":"active-response"},"command":"check_keys","parameters":{"keys":[]}}` {
		t.Errorf("CheckKeysLine without keys = %s", got)
	}
}
