package engine

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// buildParams returns the JSON "parameters" object of Wazuh's execd message:
// {"extra_args":[...],"alert":<the alert exactly as read>,"program":"active-response/bin/<exe>"}.
func buildParams(c *Command, alert []byte) []byte { return frameOf(c).params(alert) }

// paramsFrame is the part of a command's parameters around the alert,
// encoded once per command of a configuration rather than once per alert.
type paramsFrame struct{ head, tail []byte }

func frameOf(c *Command) paramsFrame {
	args := c.ExtraArgs
	if args == nil {
		args = []string{}
	}
	ea, _ := json.Marshal(args) // []string always marshals
	prog, _ := json.Marshal("active-response/bin/" + c.Executable)
	head := append(append([]byte(`{"extra_args":`), ea...), `,"alert":`...)
	tail := append(append([]byte(`,"program":`), prog...), '}')
	return paramsFrame{head: head, tail: tail}
}

// params is the parameters for alert, in one allocation.
func (f paramsFrame) params(alert []byte) []byte {
	b := make([]byte, 0, len(f.head)+len(alert)+len(f.tail))
	return append(append(append(b, f.head...), alert...), f.tail...)
}

// BuildMessage returns the whole message for op, as wazuh-execd sends it to a
// script on stdin (without the newline): MessageHead, params, then "}".
func BuildMessage(node string, op Op, params []byte) []byte {
	b := make([]byte, 0, len(params)+len(node)+96)
	return append(append(appendHead(b, node, op), params...), '}')
}

// MessageHead is the part of every message for op from node that comes
// before its parameters. A group's adds share it, so that their messages
// are written to the log from pieces rather than built one by one.
func MessageHead(node string, op Op) []byte {
	return appendHead(make([]byte, 0, len(node)+96), node, op)
}

func appendHead(b []byte, node string, op Op) []byte {
	n, _ := json.Marshal(node)
	b = append(b, `{"version":1,"origin":{"name":`...)
	b = append(b, n...)
	b = append(b, `,"module":"wazuh-execd"},"command":"`...)
	b = append(b, op...)
	return append(b, `","parameters":`...)
}

// addCommand is where BuildMessage puts an add's command: the first match in
// a message is it, since the origin name before it is JSON text whose quotes
// are escaped.
var addCommand = []byte(`,"command":"add","parameters":`)

// AnswerMessage is execd's answer to a check_keys for the add message msg
// built by BuildMessage: the same message with "command" set to the
// verdict. It is spliced, not re-encoded, so the alert stays exactly as
// read; ok is false for a message not built by BuildMessage.
func AnswerMessage(msg []byte, v Verdict) (answer []byte, ok bool) {
	head, command, tail, ok := AnswerParts(msg, v)
	if !ok {
		return nil, false
	}
	b := make([]byte, 0, len(head)+len(command)+len(tail))
	return append(append(append(b, head...), command...), tail...), true
}

// answerCommands replace the `,"command":"add"` of an add message, by
// verdict.
var answerCommands = [...][]byte{Continue: []byte(`,"command":"continue"`), Abort: []byte(`,"command":"abort"`)}

// AnswerParts is AnswerMessage without a copy: the answer is head, then
// command, then tail, where head and tail are msg's own bytes (capped, so
// that appending to them cannot write into msg) and command is shared and
// must not be changed. A storm logs an answer for every add: its message
// need not be copied again for that.
func AnswerParts(msg []byte, v Verdict) (head, command, tail []byte, ok bool) {
	i := bytes.Index(msg, addCommand)
	if i < 0 {
		return nil, nil, nil, false
	}
	command = answerCommands[Continue]
	if v == Abort {
		command = answerCommands[Abort]
	}
	j := i + len(`,"command":"add"`)
	return msg[:i:i], command, msg[j:len(msg):len(msg)], true
}

// TableKey is the key of the table of active responses: the executable's
// base name, then "-" and each key the command named.
func TableKey(executable string, keys []string) string {
	base := executable
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	if len(keys) == 0 {
		return base
	}
	return base + "-" + strings.Join(keys, "-")
}

// offenceTimeout is the timeout for the n-th offence (n >= 1) of a key:
// the base timeout first, then each repeated_offenders value in turn, the
// last one repeating (Wazuh's escalation).
func offenceTimeout(base time.Duration, repeated []time.Duration, n int) time.Duration {
	if n <= 1 || len(repeated) == 0 {
		return base
	}
	i := n - 2
	if i >= len(repeated) {
		i = len(repeated) - 1
	}
	return repeated[i]
}

// fields returns the validated values the legacy protocol passes on argv.
func fields(a *Alert) Fields {
	dash := func(b []byte) string {
		if len(b) == 0 {
			return "-"
		}
		return string(b)
	}
	return Fields{
		User:     dash(a.DstUser),
		SrcIP:    dash(a.SrcIP),
		AlertID:  dash(a.ID),
		RuleID:   dash(a.RuleID),
		Location: dash(a.Location),
		Filename: dash(a.Filename),
	}
}

// laneOf is the dispatch lane of a command run for an alert: the table key
// a stock script would choose (executable and address, else user), so that
// the add and the delete of one key always run in order.
func laneOf(c *Command, a *Alert) string {
	key := a.SrcIP
	if len(key) == 0 {
		key = a.DstUser
	}
	return TableKey(c.Executable, nil) + "|" + string(key)
}

// fieldsAlert rebuilds a minimal alert from the fields kept for an entry:
// what a script reads to find its target (data.srcip, data.dstuser) and the
// alert's and rule's ids. Missing ("-") fields are left out.
func fieldsAlert(f Fields) []byte {
	type rule struct {
		ID string `json:"id"`
	}
	type data struct {
		SrcIP   string `json:"srcip,omitempty"`
		DstUser string `json:"dstuser,omitempty"`
	}
	present := func(s string) string {
		if s == "-" {
			return ""
		}
		return s
	}
	b, _ := json.Marshal(struct {
		ID   string `json:"id,omitempty"`
		Rule *rule  `json:"rule,omitempty"`
		Data data   `json:"data"`
	}{present(f.AlertID), &rule{present(f.RuleID)}, data{present(f.SrcIP), present(f.User)}})
	return b
}
