//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !windows

package actions

// builtin returns only the portable built-ins (ip-customblock, the
// notifications): this OS has none of the firewall ones, and the daemon
// runs scripts of those names as Wazuh would.
func builtin(name string, cfg Config) (Action, bool) {
	return portableBuiltin(name, cfg)
}
