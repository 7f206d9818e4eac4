package packaging

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/internal/golden"
	"github.com/threatlockdown/threatlockdown/platform/service"
)

// TestUnit_IsTheRendered: the unit the packages ship is the one `service
// install` writes for /var/ossec and /usr/bin/threatlockdown.
func TestUnit_IsTheRendered(t *testing.T) {
	s := service.Spec{Exec: "/usr/bin/threatlockdown", Args: service.RunArgs("/var/ossec"), Root: "/var/ossec"}
	golden.Check(t, "systemd/threatlockdown.service", []byte(service.SystemdUnit(s)))
}

// TestScripts_Syntax checks the maintainer and install scripts with sh -n.
func TestScripts_Syntax(t *testing.T) {
	for _, f := range []string{"scripts/postinstall.sh", "scripts/preremove.sh", "scripts/postremove.sh",
		"build.sh", "macos/install.sh", "test/nspawn.sh"} {
		if out, err := exec.Command("sh", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", f, err, out)
		}
	}
}

// TestDeb_InSystemdContainer builds the .deb and runs test/nspawn.sh: a
// Debian container booted with systemd-nspawn where the package installs,
// the service starts, an alert blocks an address, restart keeps the
// block, stop and start lift it on time, removal stops it and purge lifts
// every block and leaves nothing. The files, modes and links installed are
// compared with testdata/deb-files.txt. It takes minutes (a debootstrap
// the first time), so it runs when TLD_NSPAWN_TEST=1 or CI=true.
func TestDeb_InSystemdContainer(t *testing.T) {
	if os.Getenv("TLD_NSPAWN_TEST") != "1" && os.Getenv("CI") != "true" {
		t.Skip("set TLD_NSPAWN_TEST=1 to boot a Debian container (CI=true does): minutes, as root")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: boots a container")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("the .deb is for linux amd64 and arm64")
	}
	dist := t.TempDir()
	build := exec.Command("./build.sh", "deb", runtime.GOARCH)
	build.Env = append(os.Environ(), "DIST="+dist)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(dist, "threatlockdown_*_"+runtime.GOARCH+".deb"))
	if len(debs) != 1 {
		t.Fatalf("built %v, want one .deb", debs)
	}
	out := t.TempDir()
	cmd := exec.Command("test/nspawn.sh", debs[0], out)
	log, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 77 {
		t.Skipf("the container could not be had here: %s", lastLine(log))
	}
	if err != nil {
		t.Fatalf("nspawn.sh: %v\n%s", err, log)
	}
	t.Logf("%s", log)
	files, err := os.ReadFile(filepath.Join(out, "files.txt"))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/deb-files.txt", files)
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
