package platform

import (
	"runtime"
	"strconv"
	"strings"
	"time"
)

// DefaultRoot is Wazuh's install root on this OS.
func DefaultRoot() string {
	return defaultRootFor(runtime.GOOS)
}

func defaultRootFor(goos string) string {
	switch goos {
	case "darwin", "ios":
		return "/Library/Ossec"
	case "windows":
		return `C:\Program Files (x86)\ossec-agent`
	}
	return "/var/ossec"
}

// BootID identifies the current boot of this host: it changes on reboot and
// stays the same until then. The engine compares it with the stored one to
// re-assert what a reboot wiped (iptables rules, routes). It fails with an
// error wrapping errors.ErrUnsupported where the OS offers no way to tell.
func BootID() (string, error) {
	return bootID()
}

// parseBootID cleans the contents of Linux's boot_id file.
func parseBootID(b []byte) (string, bool) {
	id := strings.TrimSpace(string(b))
	return id, id != ""
}

// bootIDFromTime names a boot by its boot time, rounded to granularity
// to absorb the jitter of a boot time computed as now minus uptime.
func bootIDFromTime(boot time.Time, granularity time.Duration) string {
	t := boot.UTC()
	if granularity > 0 {
		t = t.Round(granularity)
	}
	if t.Nanosecond() == 0 {
		return "boot-" + strconv.FormatInt(t.Unix(), 10)
	}
	return "boot-" + strconv.FormatInt(t.Unix(), 10) + "." + strconv.Itoa(t.Nanosecond()/1000)
}
