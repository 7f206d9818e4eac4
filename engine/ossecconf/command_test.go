package ossecconf

import (
	"reflect"
	"testing"
)

// TestParse_Expect: <expect> lists the fields the legacy argv fills, as
// Wazuh 4.1 and OSSEC read it (commas or spaces; username is user).
func TestParse_Expect(t *testing.T) {
	for _, tc := range []struct {
		name, elem string
		want       []string
	}{
		{"absent", "", nil},
		{"empty", "<expect></expect>", []string{}},
		{"srcip", "<expect>srcip</expect>", []string{"srcip"}},
		{"username is user", "<expect>username</expect>", []string{"user"}},
		{"commas and spaces", "<expect> srcip, user ,filename </expect>", []string{"srcip", "user", "filename"}},
		{"repeats once", "<expect>user,username,srcip</expect>", []string{"user", "srcip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustParse(t, conf("  <command><name>a</name><executable>a</executable>"+tc.elem+"</command>\n"))
			if got := cfg.Commands[0].Expect; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Expect = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestParse_ExpectUnknown(t *testing.T) {
	got := parseErr(t, conf("  <command><name>a</name>\n<executable>a</executable>\n<expect>srcip,hostname</expect></command>\n"))
	want := `test.conf:4: invalid <expect> "srcip,hostname": "hostname" is not srcip, user, username or filename`
	if got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}
