//go:build !unix

package control

import (
	"errors"
	"os"
)

// ownDir checks that dir is a directory, not a link to one; the owner is
// not checked here (see the package's caveat on Windows).
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
