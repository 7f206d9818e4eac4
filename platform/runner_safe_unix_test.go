//go:build unix

package platform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// TestRunner_RefusesUnsafe: an executable that someone other than root
// or the daemon's user could change, or one reached through a symlink that
// leaves active-response/bin, is refused before it starts, with an error
// that names the file and the reason and wraps engine.ErrNotStarted.
func TestRunner_RefusesUnsafe(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, f *fixture, bin string)
		want  string // in the error
	}{
		{"world-writable", func(t *testing.T, f *fixture, bin string) {
			chmod(t, filepath.Join(bin, "fw"), 0o757)
		}, "fw: refused as unsafe: writable by others (mode 0757)"},
		{"group-writable", func(t *testing.T, f *fixture, bin string) {
			chmod(t, filepath.Join(bin, "fw"), 0o775)
		}, "fw: refused as unsafe: writable by its group (mode 0775)"},
		{"writable by both", func(t *testing.T, f *fixture, bin string) {
			chmod(t, filepath.Join(bin, "fw"), 0o777)
		}, "fw: refused as unsafe: writable by its group and by others (mode 0777)"},
		{"symlink out of bin", func(t *testing.T, f *fixture, bin string) {
			outside := t.TempDir()
			installHelper(t, outside, "fw", "record", f.out)
			os.Remove(filepath.Join(bin, "fw"))
			symlink(t, filepath.Join(outside, "fw"), filepath.Join(bin, "fw"))
		}, "fw: refused as unsafe: a symlink to " + "%OUTSIDE%"},
		{"relative symlink out of bin", func(t *testing.T, f *fixture, bin string) {
			installHelper(t, f.root, "elsewhere", "record", f.out)
			os.Remove(filepath.Join(bin, "fw"))
			symlink(t, "../../elsewhere", filepath.Join(bin, "fw"))
		}, "outside " + "%BIN%"},
		{"directory writable by others", func(t *testing.T, f *fixture, bin string) {
			chmod(t, bin, 0o777)
			t.Cleanup(func() { os.Chmod(bin, 0o755) })
		}, "fw: refused as unsafe: directory %BIN% is writable by its group and by others (mode 0777)"},
		{"symlink into a writable subdirectory", func(t *testing.T, f *fixture, bin string) {
			sub := filepath.Join(bin, "sub")
			mkdir(t, sub, 0o755)
			installHelper(t, sub, "fw", "record", f.out)
			chmod(t, sub, 0o777)
			os.Remove(filepath.Join(bin, "fw"))
			symlink(t, "sub/fw", filepath.Join(bin, "fw"))
		}, "fw: refused as unsafe: directory %BIN%/sub is writable by its group and by others (mode 0777)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "record")
			bin := filepath.Join(f.root, "active-response", "bin")
			tc.setup(t, f, bin)
			want := strings.ReplaceAll(tc.want, "%BIN%", realPath(t, bin))
			if strings.Contains(want, "%OUTSIDE%") {
				target, _ := filepath.EvalSymlinks(filepath.Join(bin, "fw"))
				want = strings.ReplaceAll(want, "%OUTSIDE%", target+", outside "+realPath(t, bin))
			}
			err := f.r.Run(context.Background(), invocation(engine.OpDelete, testAddMessage), noCheck(t))
			var ue *UnsafeError
			if !errors.Is(err, engine.ErrNotStarted) || !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
				t.Fatalf("Run = %v, want an *UnsafeError wrapping ErrNotStarted with %q", err, want)
			}
			if ue.Path != filepath.Join(bin, "fw") {
				t.Errorf("UnsafeError.Path = %q, want %q", ue.Path, filepath.Join(bin, "fw"))
			}
			if recorded(t, f.out, "wd") != "" {
				t.Error("the script ran")
			}
			if got := f.r.Check("fw"); got == nil || got.Error() != err.Error() {
				t.Errorf("Check = %v, want what Run said: %v", got, err)
			}
		})
	}
}

// TestRunner_SymlinkInsideBin: a symlink to another file of
// active-response/bin is fine.
func TestRunner_SymlinkInsideBin(t *testing.T) {
	f := newFixture(t, "record")
	bin := filepath.Join(f.root, "active-response", "bin")
	symlink(t, "fw", filepath.Join(bin, "fw-link"))
	inv := invocation(engine.OpDelete, testAddMessage)
	inv.Command.Executable = "fw-link"
	if err := f.r.Run(context.Background(), inv, noCheck(t)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if recorded(t, f.out, "wd") == "" {
		t.Error("the script did not run")
	}
}

// TestRunner_ChecksBeforeEachRun: a file that turns unsafe after a
// run is refused at the next one.
func TestRunner_ChecksBeforeEachRun(t *testing.T) {
	f := newFixture(t, "record")
	if err := f.r.Run(context.Background(), invocation(engine.OpDelete, testAddMessage), noCheck(t)); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	chmod(t, filepath.Join(f.root, "active-response", "bin", "fw"), 0o777)
	err := f.r.Run(context.Background(), invocation(engine.OpDelete, testAddMessage), noCheck(t))
	if !errors.Is(err, engine.ErrNotStarted) {
		t.Fatalf("second Run = %v, want ErrNotStarted", err)
	}
	if !strings.Contains(f.logs.String(), `level=ERROR msg="not started" executable=fw`) || !strings.Contains(f.logs.String(), "refused as unsafe") {
		t.Errorf("daemon log lacks the refusal:\n%s", f.logs)
	}
}

// TestRunner_Owner: a file owned by another user is refused, unless
// AnyOwner relaxes the check (containers whose files belong to a build user).
func TestRunner_Owner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: gives the script to another user")
	}
	f := newFixture(t, "record")
	fw := filepath.Join(f.root, "active-response", "bin", "fw")
	if err := os.Chown(fw, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err := f.r.Run(context.Background(), invocation(engine.OpDelete, testAddMessage), noCheck(t))
	want := "fw: refused as unsafe: owned by uid 65534, not by root or the daemon's user (uid 0)"
	if !errors.Is(err, engine.ErrNotStarted) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Run = %v, want ErrNotStarted with %q", err, want)
	}
	f.r.AnyOwner = true
	if err := f.r.Run(context.Background(), invocation(engine.OpDelete, testAddMessage), noCheck(t)); err != nil {
		t.Fatalf("Run with AnyOwner: %v", err)
	}
	chmod(t, fw, 0o777) // AnyOwner does not relax the mode check
	if err := f.r.Run(context.Background(), invocation(engine.OpDelete, testAddMessage), noCheck(t)); !errors.Is(err, engine.ErrNotStarted) {
		t.Fatalf("Run of a world-writable file with AnyOwner = %v, want ErrNotStarted", err)
	}
}

// TestRunner_MinimalEnvironment: a script gets PATH, the locale and
// TZ, never the rest of the daemon's environment.
func TestRunner_MinimalEnvironment(t *testing.T) {
	t.Setenv("TLD_TEST_SECRET", "hunter2")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "hunter3")
	t.Setenv("LANG", "C.UTF-8")
	t.Setenv("LC_TIME", "en_GB.UTF-8")
	t.Setenv("TZ", "Europe/Madrid")
	t.Setenv("PATH", ".:/usr/bin::/bin:rel/dir")
	f := newFixture(t, "env")
	if err := f.r.Run(context.Background(), invocation(engine.OpDelete, testAddMessage), noCheck(t)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	env := "\n" + recorded(t, f.out, "env") + "\n"
	for _, want := range []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_TIME=en_GB.UTF-8", "TZ=Europe/Madrid"} {
		if !strings.Contains(env, "\n"+want+"\n") {
			t.Errorf("script environment lacks %s:%s", want, env)
		}
	}
	for _, secret := range []string{"hunter2", "hunter3", "HOME=", "USER="} {
		if strings.Contains(env, secret) {
			t.Errorf("script environment has %q:%s", secret, env)
		}
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func realPath(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
