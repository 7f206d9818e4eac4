package platform

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/internal/arproto"
)

// parseCheckKeys reports whether line is a check_keys message and returns its
// keys. Like Wazuh, it keeps the string members of parameters.keys and skips
// the rest; no keys at all gives an empty, non-nil slice (the bare base name).
func parseCheckKeys(line string) ([]string, bool) {
	var m struct {
		Command    string `json:"command"`
		Parameters struct {
			Keys []any `json:"keys"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(line), &m); err != nil || m.Command != arproto.CheckKeysCommand {
		return nil, false
	}
	keys := []string{}
	for _, k := range m.Parameters.Keys {
		if s, ok := k.(string); ok {
			keys = append(keys, s)
		}
	}
	return keys, true
}

// legacyArgs builds the argv of the legacy protocol as Wazuh 4.1's
// analysisd and execd did: add|delete user srcip alertid ruleid location
// filename extra_args. Only the fields the command's <expect> lists are
// filled (an absent <expect> lists none, as in Wazuh 4.1 and OSSEC); the
// others, and an absent <extra_args>, are "-". The address is the
// alert's target in canonical form.
func legacyArgs(inv engine.Invocation) []string {
	f := inv.Fields
	user, ip, file := "-", "-", "-"
	for _, e := range inv.Command.Expect {
		switch e {
		case "srcip":
			if inv.Target.Addr.IsValid() {
				ip = inv.Target.Addr.String()
			}
		case "user":
			user = dash(inv.Target.User)
		case "filename":
			file = dash(f.Filename)
		}
	}
	args := []string{string(inv.Op), user, ip, dash(f.AlertID), dash(f.RuleID), dash(f.Location), file}
	if len(inv.Command.ExtraArgs) == 0 {
		return append(args, "-")
	}
	return append(args, inv.Command.ExtraArgs...)
}

// dash is s, or "-" for an empty value.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// checkName refuses executable names that could leave active-response/bin.
func checkName(name string) error {
	if name == "" || name == "." || strings.Contains(name, "..") || strings.ContainsAny(name, "/\\:\x00") {
		return fmt.Errorf("%w: refused executable name %q", engine.ErrNotStarted, name)
	}
	return nil
}

// truncate shortens s for a log record.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
