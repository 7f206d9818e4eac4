package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/platform/service"
)

// TestService_InstallUninstallSystemd runs `threatlockdown service install`
// and `uninstall` through kardianos/service against a systemd it believes
// in: a private mount namespace with tmpfs over /etc/systemd/system and
// /run/systemd (with /run/systemd/system, how the library detects systemd)
// and a fake systemctl first on PATH that records its calls. The host's
// files are never touched. The unit written must be exactly SystemdUnit's,
// and uninstall must leave nothing.
func TestService_InstallUninstallSystemd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts tmpfs in a private mount namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (util-linux)")
	}
	root := newRoot(t, confWith(60))
	fake := t.TempDir()
	write(t, filepath.Join(fake, "systemctl"), "#!/bin/sh\necho \"$*\" >> "+root+"/systemctl.log\n"+
		"case \"$1\" in is-active) echo inactive; exit 3;; list-unit-files) echo 0 unit files listed.;; esac\n", 0o755)
	script := `set -e
mount -t tmpfs tmpfs /etc/systemd/system
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/system
"$BIN" service install --root "$ROOT"
cp /etc/systemd/system/threatlockdown.service "$ROOT/installed.service"
"$BIN" service status --root "$ROOT" && exit 9 || echo "status exit $?"
"$BIN" service uninstall --root "$ROOT"
ls -A /etc/systemd/system > "$ROOT/left"
`
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "BIN="+binary, "ROOT="+root, "PATH="+fake+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "status exit 3") {
		t.Errorf("status of a stopped service does not exit 3:\n%s", out)
	}
	spec, err := serviceSpecFor(binary, root)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(root, "installed.service"))
	if want := service.SystemdUnit(spec); string(got) != want {
		t.Errorf("installed unit:\n%s\nwant:\n%s", got, want)
	}
	if left, _ := os.ReadFile(filepath.Join(root, "left")); len(left) != 0 {
		t.Errorf("left in /etc/systemd/system after uninstall: %s", left)
	}
	calls, _ := os.ReadFile(filepath.Join(root, "systemctl.log"))
	for _, want := range []string{"enable threatlockdown.service", "daemon-reload", "disable threatlockdown.service"} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("systemctl calls lack %q:\n%s", want, calls)
		}
	}
}

// serviceSpecFor is serviceSpec as the binary at exe computes it.
func serviceSpecFor(exe, root string) (service.Spec, error) {
	exe, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return service.Spec{}, err
	}
	return service.Spec{Exec: exe, Args: service.RunArgs(root), Root: root}, nil
}
