//go:build unix

package actions

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// newTestCustomBlock returns ip-customblock on a fresh dir= under a temp
// directory, made through the registry as the daemon makes it.
func newTestCustomBlock(t *testing.T) (*CustomBlock, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ipblock")
	a, ok := portableBuiltin("ip-customblock", Config{ExtraArgs: []string{"-", "dir=" + dir}})
	if !ok {
		t.Fatal("no ip-customblock")
	}
	return a.(*CustomBlock), dir
}

// dirNames lists dir's entries ("" for a missing dir).
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestCustomBlock_AddDelete checks that add makes one empty file per
// address (canonical IPv6, mapped IPv4 as IPv4) and the directory 0770,
// twice is once, and delete removes it, twice or never added being fine.
func TestCustomBlock_AddDelete(t *testing.T) {
	ctx := context.Background()
	c, dir := newTestCustomBlock(t)
	v4 := Target{Addr: netip.MustParseAddr("203.0.113.7")}
	v6 := Target{Addr: netip.MustParseAddr("2001:DB8:0:0::4")}
	mapped := Target{Addr: netip.MustParseAddr("::ffff:198.51.100.9")}
	for range 2 {
		for _, tg := range []Target{v4, v6, mapped} {
			if err := c.Add(ctx, tg, time.Time{}); err != nil {
				t.Fatalf("Add(%v): %v", tg.Addr, err)
			}
		}
	}
	if got, want := dirNames(t, dir), []string{"198.51.100.9", "2001:db8::4", "203.0.113.7"}; !slices.Equal(got, want) {
		t.Fatalf("files %q, want %q", got, want)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o770&^umask(t) {
		t.Errorf("dir mode %v (%v), want %v", st.Mode().Perm(), err, 0o770&^umask(t))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "203.0.113.7")); err != nil || len(b) != 0 {
		t.Errorf("file: %q, %v; want empty", b, err)
	}
	for range 2 {
		if err := c.Delete(ctx, v4); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	if got, want := dirNames(t, dir), []string{"198.51.100.9", "2001:db8::4"}; !slices.Equal(got, want) {
		t.Errorf("after delete: %q, want %q", got, want)
	}
	gone, _ := newTestCustomBlock(t) // its directory was never made
	if err := gone.Delete(ctx, v4); err != nil {
		t.Errorf("Delete without the directory: %v", err)
	}
}

// umask is the process's umask, which Mkdir applies.
func umask(t *testing.T) fs.FileMode {
	d := filepath.Join(t.TempDir(), "probe")
	if err := os.Mkdir(d, 0o777); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(d)
	if err != nil {
		t.Fatal(err)
	}
	return 0o777 &^ st.Mode().Perm()
}

// TestCustomBlock_Hostile checks that targets that are not plain addresses
// never become file names, and that a link planted in the directory is not
// followed out of it.
func TestCustomBlock_Hostile(t *testing.T) {
	ctx := context.Background()
	c, dir := newTestCustomBlock(t)
	outside := filepath.Dir(dir)
	for _, tg := range []Target{
		{},                         // no address
		{User: "../../etc/passwd"}, // a user is no address
		{Addr: netip.MustParseAddr("fe80::1%../../x")}, // a zone is text
		{Addr: netip.MustParseAddr("127.0.0.1")},
		{Addr: netip.MustParseAddr("::")},
	} {
		if err := c.Add(ctx, tg, time.Time{}); !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("Add(%+v) = %v, want ErrInvalidTarget", tg, err)
		}
		if err := c.Delete(ctx, tg); !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("Delete(%+v) = %v, want ErrInvalidTarget", tg, err)
		}
	}
	if got := dirNames(t, dir); got != nil {
		t.Errorf("files made for hostile targets: %q", got)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(outside, "victim")
	if err := os.Symlink(victim, filepath.Join(dir, "203.0.113.9")); err != nil {
		t.Fatal(err)
	}
	err := c.Add(ctx, Target{Addr: netip.MustParseAddr("203.0.113.9")}, time.Time{})
	if want := "Error creating " + dir + "/203.0.113.9 file"; err == nil || err.Error() != want {
		t.Errorf("Add through a link out = %v, want %q", err, want)
	}
	if _, err := os.Lstat(victim); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the link was followed out of the directory: %v", err)
	}
}

// TestCustomBlock_Errors checks the failures' texts: Wazuh's lines.
func TestCustomBlock_Errors(t *testing.T) {
	ctx := context.Background()
	ip := Target{Addr: netip.MustParseAddr("203.0.113.7")}

	c, dir := newTestCustomBlock(t)
	if err := os.WriteFile(dir, nil, 0o600); err != nil { // a file where the directory goes
		t.Fatal(err)
	}
	err := c.Add(ctx, ip, time.Time{})
	if want := "Error executing '" + dir + "/' : Not a directory"; err == nil || err.Error() != want {
		t.Errorf("Add = %v, want %q", err, want)
	}

	c, dir = newTestCustomBlock(t)
	if err := os.MkdirAll(filepath.Join(dir, "203.0.113.7", "x"), 0o700); err != nil { // a directory where the file goes
		t.Fatal(err)
	}
	err = c.Add(ctx, ip, time.Time{})
	if want := "Error creating " + dir + "/203.0.113.7 file"; err == nil || err.Error() != want {
		t.Errorf("Add = %v, want %q", err, want)
	}
	err = c.Delete(ctx, ip)
	if want := "Error deleting " + dir + "/203.0.113.7 file"; err == nil || err.Error() != want {
		t.Errorf("Delete = %v, want %q", err, want)
	}
}

// TestCustomBlock_Dir checks dir= in extra_args: the default is Wazuh's
// /ipblock, the last dir= wins, and a relative one is refused before any
// handshake.
func TestCustomBlock_Dir(t *testing.T) {
	if c := NewCustomBlock(Config{}); c.Dir != "/ipblock" || c.validate() != nil {
		t.Errorf("default: %q, %v", c.Dir, c.validate())
	}
	if c := NewCustomBlock(Config{ExtraArgs: []string{"dir=/a", "dir=/b/../c/"}}); c.Dir != "/c" || c.validate() != nil {
		t.Errorf("last dir=: %q, %v", c.Dir, c.validate())
	}
	if c := NewCustomBlock(Config{ExtraArgs: []string{"dir=ipblock"}}); c.validate() == nil {
		t.Error("a relative dir= was accepted")
	}
}
