package engine

import (
	"bytes"
	"testing"
)

// TestAnswerMessage: execd's answer is the add message with its command set
// to the verdict and every other byte as it was, whole or in parts; a node
// name that spells the command is JSON text and is left alone.
func TestAnswerMessage(t *testing.T) {
	params := []byte(`{"extra_args":[],"alert":{"data":{"srcip":"203.0.113.7"},"full_log":"x \"command\":\"add\""},"program":"active-response/bin/firewall-drop"}`)
	node := `n,"command":"add","parameters":{`
	msg := BuildMessage(node, OpAdd, params)
	for v, want := range map[Verdict]string{
		Continue: `{"version":1,"origin":{"name":"n,\"command\":\"add\",\"parameters\":{","module":"wazuh-execd"},"command":"continue","parameters":` + string(params) + `}`,
		Abort:    `{"version":1,"origin":{"name":"n,\"command\":\"add\",\"parameters\":{","module":"wazuh-execd"},"command":"abort","parameters":` + string(params) + `}`,
	} {
		got, ok := AnswerMessage(msg, v)
		if !ok || string(got) != want {
			t.Errorf("%v: AnswerMessage = %s, %v\nwant %s", v, got, ok, want)
		}
		head, command, tail, ok := AnswerParts(msg, v)
		if joined := string(head) + string(command) + string(tail); !ok || joined != want {
			t.Errorf("%v: AnswerParts joined = %s, %v", v, joined, ok)
		}
		before := bytes.Clone(msg)
		_ = append(head, "XXXX"...) // capped: cannot write into msg
		_ = append(tail, "XXXX"...)
		if !bytes.Equal(msg, before) {
			t.Errorf("%v: appending to the parts changed the message", v)
		}
	}
	for _, m := range [][]byte{BuildMessage("n", OpDelete, params), []byte(`{"command":"add"}`)} {
		if _, ok := AnswerMessage(m, Continue); ok {
			t.Errorf("answered %s", m)
		}
		if _, _, _, ok := AnswerParts(m, Continue); ok {
			t.Errorf("split %s", m)
		}
	}
}
