//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package platform

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// bootID names the boot by kern.boottime, which the kernel sets at boot.
func bootID() (string, error) {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return "", fmt.Errorf("boot id: sysctl kern.boottime: %w", err)
	}
	return bootIDFromTime(time.Unix(tv.Unix()), 0), nil
}
