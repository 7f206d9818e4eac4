package platform

import "strings"

// defaultPath is the PATH of commands when the daemon has none worth
// passing on: systemd's default for services.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// windowsEnv are the variables a Windows program needs to start and find
// its tools (netsh, route, PowerShell).
var windowsEnv = []string{"PATH", "PATHEXT", "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "TEMP", "TMP"}

// commandEnv is the environment commands run with, picked from the daemon's
// own (environ, as os.Environ gives it): PATH, the locale (LANG, LANGUAGE,
// LC_*) and TZ, so that scripts find their tools and print and log as the
// daemon does; on Windows, the variables of windowsEnv. Nothing else passes:
// a daemon's environment can hold secrets (API tokens, proxy credentials)
// that a script has no use for. Wazuh's execd passes its whole environment
// (execvp), and its own scripts read nothing of it but PATH.
//
// On Unix, PATH loses its empty and relative entries (commands run in the
// install root, so "." would run a file from there) and is defaultPath
// when nothing is left.
func commandEnv(environ []string, windows bool) []string {
	env := make([]string, 0, 8)
	path := ""
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		switch {
		case windows:
			for _, w := range windowsEnv {
				if strings.EqualFold(name, w) {
					env = append(env, kv)
				}
			}
		case name == "PATH":
			path = absolutePath(value)
		case name == "LANG", name == "LANGUAGE", name == "TZ", strings.HasPrefix(name, "LC_"):
			env = append(env, kv)
		}
	}
	if windows {
		return env
	}
	if path == "" {
		path = defaultPath
	}
	return append([]string{"PATH=" + path}, env...)
}

// absolutePath keeps the absolute entries of a Unix PATH.
func absolutePath(path string) string {
	var keep []string
	for _, dir := range strings.Split(path, ":") {
		if strings.HasPrefix(dir, "/") {
			keep = append(keep, dir)
		}
	}
	return strings.Join(keep, ":")
}
