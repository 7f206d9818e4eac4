package service

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/internal/golden"
)

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

// packaged is the service as the packages install it.
var packaged = Spec{Exec: "/usr/bin/threatlockdown", Args: RunArgs("/var/ossec"), Root: "/var/ossec"}

func TestSystemdUnit_Golden(t *testing.T) {
	checkGolden(t, "threatlockdown.service", []byte(SystemdUnit(packaged)))
	odd := Spec{Exec: "/opt/t l d/threatlockdown", Args: RunArgs("/srv/100% ossec", "--alerts", `/x/"a".json`), Root: "/srv/100% ossec"}
	checkGolden(t, "odd-paths.service", []byte(SystemdUnit(odd)))
}

func TestLaunchdPlist_Golden(t *testing.T) {
	checkGolden(t, "threatlockdown.plist", []byte(LaunchdPlist(Spec{
		Exec: "/usr/local/bin/threatlockdown", Args: RunArgs("/Library/Ossec"), Root: "/Library/Ossec"})))
}

func TestWindows_Golden(t *testing.T) {
	root := `C:\Program Files (x86)\ossec-agent`
	raw, err := json.MarshalIndent(Windows(Spec{Exec: root + `\threatlockdown.exe`, Args: RunArgs(root), Root: root}), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "windows.json", append(raw, '\n'))
}

// TestSystemdUnit_Verify runs systemd-analyze verify on the unit, with
// this test binary standing in for the daemon (the unit names an
// executable that must exist).
func TestSystemdUnit_Verify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("needs systemd-analyze (apt-get install systemd)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, s := range map[string]Spec{
		"threatlockdown.service": {Exec: exe, Args: RunArgs(dir), Root: dir},
		"odd.service":            {Exec: exe, Args: RunArgs(dir+"/100% x", "--alerts", `/x/"a" b.json`), Root: dir + "/100% x"},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(SystemdUnit(s)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
		// Offline, verify may complain about units this one names that do not
		// exist here (network-online.target is always there); nothing of ours.
		if err != nil || strings.Contains(string(out), name) {
			t.Errorf("systemd-analyze verify %s: %v\n%s\n%s", name, err, out, SystemdUnit(s))
		}
	}
}

func TestSystemdEscape(t *testing.T) {
	for in, want := range map[string]string{
		"/var/ossec":       "/var/ossec",
		"/a b":             `"/a b"`,
		"100%":             "100%%",
		`x"y`:              `"x\"y"`,
		"$HOME":            `"$$HOME"`,
		`back\slash`:       `"back\\slash"`,
		"1.2.3.4;rm -rf /": `"1.2.3.4;rm -rf /"`,
	} {
		if got := systemdEscape(in); got != want {
			t.Errorf("systemdEscape(%q) = %s, want %s", in, got, want)
		}
	}
}
