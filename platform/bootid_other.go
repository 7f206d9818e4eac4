//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd && !windows

package platform

import (
	"errors"
	"fmt"
	"runtime"
)

func bootID() (string, error) {
	return "", fmt.Errorf("boot id on %q: %w", runtime.GOOS, errors.ErrUnsupported)
}
