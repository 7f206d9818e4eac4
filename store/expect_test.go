package store

import (
	"slices"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Command.Expect (the legacy argv's <expect>) survives the store: absent,
// given but empty, and each field, with Wazuh's "username" read as user.
func TestCodec_Expect(t *testing.T) {
	for _, c := range []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{}, []string{}},
		{[]string{"srcip"}, []string{"srcip"}},
		{[]string{"username"}, []string{"user"}},
		{[]string{"user", "srcip"}, []string{"srcip", "user"}},
		{[]string{"filename", "srcip", "user"}, []string{"srcip", "user", "filename"}},
	} {
		e := engine.Entry{Key: "firewall-drop-203.0.113.7", Seq: 1, Lane: "l", Command: &engine.Command{}}
		e.Command.Expect = c.in
		v, _ := encodeEntry(e)
		got, err := decodeEntry(e.Key, v)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Command.Expect, c.want) || (got.Command.Expect == nil) != (c.want == nil) {
			t.Errorf("Expect %q: stored and read back as %#v, want %#v", c.in, got.Command.Expect, c.want)
		}
		j := engine.Job{ID: 1, Command: e.Command}
		jv, _ := encodeJob(j)
		gj, err := decodeJob(1, jv)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gj.Command.Expect, c.want) || (gj.Command.Expect == nil) != (c.want == nil) {
			t.Errorf("job Expect %q: read back as %#v, want %#v", c.in, gj.Command.Expect, c.want)
		}
	}
}
