// Package arproto is the wire format of Wazuh's active-response protocol
// (Wazuh >= 4.2) that both sides of this repository speak: the script
// runner (platform) and the built-in actions (platform/actions). It builds
// the check_keys line a stock script sends and execd's answer to it, the
// message with its "command" replaced.
//
// Messages are single-line JSON objects. SetCommand edits one without
// decoding it into Go values, so the alert inside stays exactly as read
// (member order, number spelling, escapes).
package arproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// CheckKeysCommand is the command of the line a script sends to name its keys.
const CheckKeysCommand = "check_keys"

// Compact checks that msg is one JSON object and returns it on one line.
func Compact(msg []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, msg); err != nil {
		return nil, err
	}
	if buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return nil, errors.New("not a json object")
	}
	return buf.Bytes(), nil
}

// CheckKeysLine builds the check_keys line a stock Wazuh script named name
// sends (build_json_keys_message in active_responses.c). Nil keys are sent
// as an empty list, as Wazuh does.
func CheckKeysLine(name string, keys []string) []byte {
	if keys == nil {
		keys = []string{}
	}
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
	}{1, origin{name, "active-response"}, CheckKeysCommand, params{keys}})
	return b
}

// SetCommand returns msg with its top-level "command" set to command: execd's
// answer to check_keys is the message with "continue" or "abort". The other
// members keep their order and their bytes (the alert stays exactly as
// read); a missing "command" is appended.
func SetCommand(msg []byte, command string) ([]byte, error) {
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
