package platform

import (
	"errors"
	"fmt"
	"os"
)

const bootIDFile = "/proc/sys/kernel/random/boot_id"

// bootID reads the kernel's random boot id, a new UUID on every boot.
func bootID() (string, error) {
	b, err := os.ReadFile(bootIDFile)
	if err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	id, ok := parseBootID(b)
	if !ok {
		return "", errors.New("boot id: " + bootIDFile + " is empty")
	}
	return id, nil
}
