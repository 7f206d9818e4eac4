//go:build !unix && !windows

package control

import (
	"errors"
	"os"
)

// ownDir checks that dir is a directory, not a link to one; the owner is
// not checked on these systems.
func ownDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// restrictDir lets only the owner into dir.
func restrictDir(dir string) error { return os.Chmod(dir, 0o700) }
