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

// legacyArgs builds the argv of the legacy protocol:
// add|delete user srcip alertid ruleid location filename [extra args].
func legacyArgs(inv engine.Invocation) []string {
	f := inv.Fields
	args := []string{string(inv.Op), f.User, f.SrcIP, f.AlertID, f.RuleID, f.Location, f.Filename}
	for i, a := range args {
		if a == "" {
			args[i] = "-"
		}
	}
	return append(args, inv.Command.ExtraArgs...)
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
