//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !windows

package actions

// builtin returns nothing: this OS has no built-in actions, and the daemon
// runs scripts of these names as Wazuh would.
func builtin(string, Config) (Action, bool) {
	return nil, false
}
