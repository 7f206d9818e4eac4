package actions

import "strings"

// winCmdLine builds the Windows command line for path and args the way
// Wazuh's wpopenv does: the program quoted, then each argument as is,
// separated by spaces. Go's default quoting would turn netsh's
// name="WAZUH ACTIVE RESPONSE BLOCKED IP" into "name=\"WAZUH ...\"", which
// netsh does not read as the rule name. The arguments must come from our
// argv builders (validated addresses, fixed words), never from outside.
func winCmdLine(path string, args []string) string {
	var b strings.Builder
	b.WriteString(`"` + path + `"`)
	for _, a := range args {
		b.WriteString(" " + a)
	}
	return b.String()
}
