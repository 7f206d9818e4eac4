package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/threatlockdown/threatlockdown/platform"
)

// TestCommandRunner_Builtin: a built-in runs in-process when no file of its
// name is in active-response/bin, or when the file there is a link to this
// very binary (a package's install for a Wazuh agent); any other file of
// that name is the user's and wins.
func TestCommandRunner_Builtin(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "active-response", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	arlog, err := platform.OpenARLog(platform.ARLogPath(root))
	if err != nil {
		t.Fatal(err)
	}
	defer arlog.Close()
	r := newCommandRunner(root, nil, arlog, slog.New(slog.DiscardHandler), nil)
	defer r.Close()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(bin, "firewall-drop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/bin/sh", filepath.Join(bin, "route-null")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(bin, "host-deny"), "#!/bin/sh\n", 0o750)
	for name, want := range map[string]bool{
		"firewall-drop":   true,  // a link to us
		"route-null":      false, // a link elsewhere: the user's
		"host-deny":       false, // the user's own file
		"disable-account": true,  // no file
		"no-such-action":  false, // no built-in of that name
	} {
		if got := r.builtin(name); got != want {
			t.Errorf("builtin(%q) = %v, want %v", name, got, want)
		}
	}
}
