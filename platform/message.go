package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
)

// checkKeysCommand is the command of the line a script sends to name its keys.
const checkKeysCommand = "check_keys"

// compactMessage checks that msg is one JSON object and returns it on one line.
func compactMessage(msg []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, msg); err != nil {
		return nil, err
	}
	if buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return nil, errors.New("not a json object")
	}
	return buf.Bytes(), nil
}

// setCommand returns msg with its top-level "command" set to command. The other
// members keep their order and their bytes (the alert stays exactly as read);
// a missing "command" is appended.
func setCommand(msg []byte, command string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(msg))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("message is not a json object")
	}
	value, _ := json.Marshal(command)
	var out bytes.Buffer
	out.WriteByte('{')
	found := false
	for dec.More() {
		key, raw, err := nextMember(dec)
		if err != nil {
			return nil, err
		}
		if key == "command" {
			raw, found = value, true
		}
		writeMember(&out, key, raw)
	}
	if !found {
		writeMember(&out, "command", value)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

func nextMember(dec *json.Decoder) (string, json.RawMessage, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", nil, fmt.Errorf("message key: %w", err)
	}
	key, _ := tok.(string)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return "", nil, fmt.Errorf("message member %q: %w", key, err)
	}
	return key, raw, nil
}

func writeMember(out *bytes.Buffer, key string, raw []byte) {
	if out.Len() > 1 {
		out.WriteByte(',')
	}
	k, _ := json.Marshal(key)
	out.Write(k)
	out.WriteByte(':')
	out.Write(raw)
}

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
	if err := json.Unmarshal([]byte(line), &m); err != nil || m.Command != checkKeysCommand {
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

// checkKeysLine builds the check_keys line a stock Wazuh script sends
// (build_json_keys_message in active_responses.c).
func checkKeysLine(executable string, keys []string) []byte {
	type origin struct {
		Name   string `json:"name"`
		Module string `json:"module"`
	}
	type params struct {
		Keys []string `json:"keys"`
	}
	b, _ := json.Marshal(struct {
		Version    int    `json:"version"`
		Origin     origin `json:"origin"`
		Command    string `json:"command"`
		Parameters params `json:"parameters"`
	}{1, origin{executable, "active-response"}, checkKeysCommand, params{keys}})
	return b
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
