package ossecconf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// wazuhDir holds Wazuh's own sample configs, kept outside this repository.
func wazuhDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WAZUH_TESTDATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "testdata", "wazuh")
	}
	if _, err := os.Stat(filepath.Join(dir, "ossec-server.conf")); err != nil {
		t.Skipf("Wazuh sample configs not found in %s (set WAZUH_TESTDATA): %v", dir, err)
	}
	return dir
}

const wazuhServer = `command disable-account exe=disable-account args=none timeout_allowed=yes protocol=json line=144
command restart-wazuh exe=restart-wazuh args=none timeout_allowed=no protocol=json line=150
command firewall-drop exe=firewall-drop args=none timeout_allowed=yes protocol=json line=155
command host-deny exe=host-deny args=none timeout_allowed=yes protocol=json line=161
command route-null exe=route-null args=none timeout_allowed=yes protocol=json line=167
command win_route-null exe=route-null.exe args=none timeout_allowed=yes protocol=json line=173
white_list 127.0.0.1
white_list pattern "^localhost.localdomain$"
white_list 10.0.0.2
`

func TestLoad_Wazuh(t *testing.T) {
	dir := wazuhDir(t)
	for file, want := range map[string]string{
		"ossec-server.conf": wazuhServer,
		"ossec-local.conf":  wazuhServer,
		"ossec-agent.conf":  "", // only <active-response><disabled>no</disabled>
	} {
		t.Run(file, func(t *testing.T) {
			cfg, err := Load(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			checkText(t, file, render(cfg), want)
		})
	}
}

func TestDefault(t *testing.T) {
	cfg, err := Parse(bytes.NewReader(Default), "default.conf")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cfg.Commands {
		stateless := c.Name == "restart-wazuh" || c.Name == "ossec-slack" || c.Name == "ossec-tweeter"
		if !c.TimeoutAllowed && !stateless {
			t.Errorf("command %s: timeout_allowed is no", c.Name)
		}
		names = append(names, c.Name+"="+c.Executable)
	}
	checkText(t, "commands", words(names), "disable-account=disable-account restart-wazuh=restart-wazuh "+
		"firewall-drop=firewall-drop firewalld-drop=firewalld-drop host-deny=host-deny route-null=route-null "+
		"win_route-null=route-null.exe netsh=netsh.exe pf=pf ipfw=ipfw npf=npf ip-customblock=ip-customblock "+
		"ipfw_mac=ipfw_mac ossec-slack=ossec-slack ossec-tweeter=ossec-tweeter")
	if len(cfg.Responses) != 1 {
		t.Fatalf("%d responses, want 1", len(cfg.Responses))
	}
	r := cfg.Responses[0]
	got := replaceFields(render(&engine.Config{Responses: cfg.Responses}), "line=0")
	want := "response firewall-drop disabled=no location=local agent=none level=0 rules_id=5763 rules_group=none timeout=600s repeated=none line=0"
	checkText(t, "response", got, want)
	if r.Disabled || cfg.Disabled {
		t.Error("the default disables active response")
	}
	checkText(t, "white list", render(&engine.Config{WhiteList: cfg.WhiteList}),
		"white_list 127.0.0.1\nwhite_list ::1\n")
}
