//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package actions

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLockFile_FollowsReplacement checks that a waiter ends up holding the
// lock of the file now at the path, not of the one replaced while it waited.
func TestLockFile_FollowsReplacement(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts.deny")
	unlock, err := lockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 1)
	go func() {
		u, err := lockFile(path)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("second lock taken while the first is held")
	case <-time.After(100 * time.Millisecond):
	}
	if err := writeFileAtomic(path, []byte("ALL:1.2.3.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unlock()
	var u2 func()
	select {
	case u2 = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("second lock never taken")
	}
	defer u2()
	// The lock now held must be the new file's: a third taker waits.
	third := make(chan struct{})
	go func() {
		u, err := lockFile(path)
		if err == nil {
			u()
		}
		close(third)
	}()
	select {
	case <-third:
		t.Fatal("the held lock is on the replaced file")
	case <-time.After(100 * time.Millisecond):
	}
	b, _ := os.ReadFile(path)
	if string(b) != "ALL:1.2.3.4\n" {
		t.Errorf("content %q", b)
	}
}
