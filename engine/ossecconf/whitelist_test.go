package ossecconf

import "testing"

func TestWhiteListEntry(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"10.0.0.0/255.0.0.0", "10.0.0.0/8"},
		{"192.168.7.1/255.255.255.0", "192.168.7.0/24"},
		{"10.0.0.1/255.255.255.255", "10.0.0.1"},
		{"0.0.0.0/0.0.0.0", "0.0.0.0/0"},
		{"10.0.0.0/32", "10.0.0.0"},
		{"::1", "::1"},
		{"2001:DB8::5", "2001:db8::5"},
		{"2001:db8::5/32", "2001:db8::/32"},
		{"fe80::1%eth0", "fe80::1"},
		{"::ffff:10.0.0.1", "10.0.0.1"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"^localhost.localdomain$", `pattern "^localhost.localdomain$"`},
		{"Gateway", `pattern "gateway"`},
		{"10.1", `pattern "10.1"`}, // not four numbers: a pattern, as in Wazuh
		{"fe80::zz", `pattern "fe80::zz"`},
	}
	for _, tt := range tests {
		e, err := whiteListEntry(tt.in)
		if err != nil {
			t.Errorf("whiteListEntry(%q): %v", tt.in, err)
			continue
		}
		if got := entryString(e); got != tt.want {
			t.Errorf("whiteListEntry(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParse_WhiteList(t *testing.T) {
	cfg := mustParse(t, conf(`  <global>
    <white_list>10.0.0.1</white_list>
    <white_list></white_list>
    <email_to>x@y</email_to>
  </global>
  <global><white_list>2001:db8::/32</white_list></global>
`))
	checkText(t, "config", render(cfg), "white_list 10.0.0.1\nwhite_list 2001:db8::/32\n")
	if p := cfg.WhiteList[0].Prefix; p.Bits() != 32 || !p.Addr().Is4() {
		t.Errorf("address prefix = %v, want a /32", p)
	}
}
