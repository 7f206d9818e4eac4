package platform

import (
	"time"

	"golang.org/x/sys/windows"
)

// bootGranularity absorbs the jitter of now minus GetTickCount64.
const bootGranularity = 10 * time.Second

// bootID names the boot by its boot time: now minus GetTickCount64, which
// counts milliseconds since boot, sleep included.
func bootID() (string, error) {
	boot := time.Now().Add(-windows.DurationSinceBoot())
	return bootIDFromTime(boot, bootGranularity), nil
}
