//go:build unix

package platform

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/threatlockdown/threatlockdown/platform/actions"
)

// TestRunner_Builtin: a built-in runs in-process when no file of its name
// is in active-response/bin, or when the file there is a link to this very
// binary (a package's install for a Wazuh agent); any other file of that
// name is the user's and wins.
func TestRunner_Builtin(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "active-response", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Root: root, Builtins: actions.NewRunner(actions.Config{}, nil)}
	defer r.Close()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	symlink(t, self, filepath.Join(bin, "firewall-drop"))
	symlink(t, "/bin/sh", filepath.Join(bin, "route-null"))
	installHelper(t, bin, "host-deny", "record", t.TempDir())
	for name, want := range map[string]bool{
		"firewall-drop":   true,  // a link to us
		"route-null":      false, // a link elsewhere: the user's
		"host-deny":       false, // the user's own file
		"disable-account": true,  // no file
		"no-such-action":  false, // no built-in of that name
	} {
		if got := r.Builtin(name); got != want {
			t.Errorf("Builtin(%q) = %v, want %v", name, got, want)
		}
	}
	if (&Runner{Root: root}).Builtin("disable-account") {
		t.Error("a Runner without Builtins has a built-in")
	}
	// Check passes built-ins and missing files, and reports a user's file
	// that will not run.
	chmod(t, filepath.Join(bin, "host-deny"), 0o777)
	for name, bad := range map[string]bool{"firewall-drop": false, "disable-account": false, "no-such-script": false, "host-deny": true} {
		if err := r.Check(name); (err != nil) != bad {
			t.Errorf("Check(%q) = %v", name, err)
		}
	}
}
