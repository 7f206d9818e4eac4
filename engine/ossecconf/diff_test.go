package ossecconf

import (
	"bytes"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	base := fw + `  <command><name>hd</name><executable>host-deny</executable></command>
  <active-response><command>fw</command><location>local</location><rules_id>5763</rules_id><timeout>600</timeout></active-response>
  <active-response><command>hd</command><location>local</location><level>10</level></active-response>
  <global><white_list>127.0.0.1</white_list><white_list>^gw</white_list></global>
`
	tests := []struct {
		name, from, to, want string
	}{
		{"same", base, base, ""},
		{"lines moved", base, "\n\n" + base, ""},
		{"command added", base, base + "  <command><name>pf</name><executable>pf</executable></command>\n",
			"command pf added"},
		{"command removed", base + "  <command><name>pf</name><executable>pf</executable></command>\n", base,
			"command pf removed"},
		{"command args", base, strings.Replace(base, "<executable>host-deny</executable>", "<executable>host-deny</executable><extra_args>-x</extra_args>", 1),
			"command hd extra_args none -> -x"},
		{"command expect", base, strings.Replace(base, "<executable>host-deny</executable>", "<executable>host-deny</executable><expect>srcip</expect>", 1),
			"command hd expect absent -> srcip"},
		{"command changed", base, strings.Replace(base, "<executable>fw</executable><timeout_allowed>yes</timeout_allowed>",
			"<executable>fw2</executable><protocol>legacy</protocol>", 1),
			"command fw executable fw -> fw2\ncommand fw timeout_allowed yes -> no\ncommand fw protocol json -> legacy\n" +
				"active-response fw at line 4: timeout 600s -> 0s"},
		{"timeout", base, strings.Replace(base, "<timeout>600</timeout>", "<timeout>60</timeout>", 1),
			"active-response fw at line 4: timeout 600s -> 60s"},
		{"response fields", base, strings.Replace(base, "<location>local</location><level>10</level>",
			"<location>defined-agent</location><agent_id>2</agent_id><level>3</level><rules_id>1,2</rules_id><rules_group>a,|b</rules_group><repeated_offenders>5,10</repeated_offenders><disabled>yes</disabled>", 1),
			"active-response hd at line 5: disabled no -> yes\nactive-response hd at line 5: location local -> defined-agent\n" +
				"active-response hd at line 5: agent_id none -> 002\nactive-response hd at line 5: level 10 -> 3\n" +
				"active-response hd at line 5: rules_id none -> 1,2\nactive-response hd at line 5: rules_group none -> a,|b\n" +
				"active-response hd at line 5: repeated_offenders none -> 5,10"},
		{"response added", base, base + "  <active-response><command>fw</command><location>all</location></active-response>\n",
			"active-response fw at line 7 added"},
		{"response removed", base, strings.Replace(base, "<active-response><command>hd</command><location>local</location><level>10</level></active-response>", "", 1),
			"active-response hd at line 5 removed"},
		{"white list", base, strings.Replace(base, "<white_list>^gw</white_list>", "<white_list>10.0.0.0/8</white_list><white_list>10.0.0.0/8</white_list>", 1),
			"white list +10.0.0.0/8\nwhite list -pattern \"^gw\""},
		{"disabled", base, base + "<active-response><disabled>yes</disabled></active-response>\n", "active response disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustParse(t, conf(tt.from)), mustParse(t, conf(tt.to))
			checkText(t, "diff", strings.Join(Diff(a, b), "\n"), tt.want)
			if Equal(a, b) != (tt.want == "") {
				t.Errorf("Equal = %v with diff %q", Equal(a, b), tt.want)
			}
		})
	}
}

func TestDiff_Nil(t *testing.T) {
	cfg, err := Parse(bytes.NewReader(Default), "default.conf")
	if err != nil {
		t.Fatal(err)
	}
	added := Diff(nil, cfg)
	if len(added) != 18 || added[0] != "command disable-account added" ||
		added[15] != "active-response firewall-drop at line 177 added" || added[17] != "white list +::1" {
		t.Errorf("Diff(nil, default) = %q", added)
	}
	if removed := Diff(cfg, nil); len(removed) != 18 || removed[0] != "command disable-account removed" {
		t.Errorf("Diff(default, nil) = %q", removed)
	}
	if !Equal(nil, nil) || Equal(nil, cfg) {
		t.Error("Equal with nil")
	}
}
