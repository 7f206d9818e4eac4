//go:build unix

package control

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ownDir checks that dir is a directory, not a link to one, owned by this
// process's user: one that someone else made could be theirs to watch or
// to swap.
func ownDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("owned by uid %d, not by this user (uid %d)", st.Uid, os.Geteuid())
	}
	return nil
}

// restrictDir lets only the owner into dir.
func restrictDir(dir string) error { return os.Chmod(dir, 0o700) }
