package actions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/threatlockdown/threatlockdown/engine"
)

// maxFullLog bounds the log text a Slack message quotes: an alert's
// full_log can be long, and the message should stay readable.
const maxFullLog = 1000

// errNoAlert is a message without an alert object. Its text is the line
// Wazuh's wazuh-slack logs for it, capital included, and it is returned
// unwrapped so that the line is the same.
var errNoAlert = errors.New("Cannot read 'alert' from data")

// payload is the request body for alert in s's format.
func (n *Notification) payload(s notifySettings, op engine.Op, alert []byte) ([]byte, error) {
	alert = bytes.TrimSpace(alert)
	if len(alert) == 0 || alert[0] != '{' || !json.Valid(alert) {
		return nil, errNoAlert
	}
	if s.Format == FormatJSON {
		return marshalRaw(struct {
			Command string          `json:"command"`
			Program string          `json:"program"`
			Alert   json.RawMessage `json:"alert"`
		}{string(op), n.name, alert})
	}
	return marshalRaw(struct {
		Text     string `json:"text"`
		Username string `json:"username,omitempty"`
		Channel  string `json:"channel,omitempty"`
	}{slackText(alert), s.Username, s.Channel})
}

// marshalRaw is json.Marshal without its HTML escaping, so that the alert
// reaches the endpoint byte for byte as it came (compacted).
func marshalRaw(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// notifyAlert is what a Slack message shows of an alert. Leaves stay raw,
// so a field of an unexpected type is shown as written, never a failure.
type notifyAlert struct {
	Rule struct {
		ID          json.RawMessage `json:"id"`
		Level       json.RawMessage `json:"level"`
		Description json.RawMessage `json:"description"`
	} `json:"rule"`
	Agent struct {
		ID   json.RawMessage `json:"id"`
		Name json.RawMessage `json:"name"`
	} `json:"agent"`
	Data struct {
		SrcIP   json.RawMessage `json:"srcip"`
		DstUser json.RawMessage `json:"dstuser"`
	} `json:"data"`
	FullLog json.RawMessage `json:"full_log"`
}

// slackText is the message: the rule line as alerts.log writes it, which
// ossec-slack.sh sent, then the agent, the source address, the user, and
// the start of the logged event. Slack's control characters are escaped,
// so an attacker's "<!channel>" in a log line notifies nobody.
func slackText(alert []byte) string {
	var a notifyAlert
	_ = json.Unmarshal(alert, &a) // a wrong shape leaves fields empty; the alert was checked to be JSON
	v := func(raw json.RawMessage, def string) string { return slackEscape(scalar(raw, def)) }
	var b strings.Builder
	fmt.Fprintf(&b, "Rule: %s (level %s) -> '%s'", v(a.Rule.ID, "N/A"), v(a.Rule.Level, "N/A"), v(a.Rule.Description, "N/A"))
	if id, name := v(a.Agent.ID, ""), v(a.Agent.Name, ""); id != "" || name != "" {
		fmt.Fprintf(&b, "\nAgent: (%s) %s", id, name)
	}
	if ip := v(a.Data.SrcIP, ""); ip != "" {
		b.WriteString("\nSrc IP: " + ip)
	}
	if u := v(a.Data.DstUser, ""); u != "" {
		b.WriteString("\nUser: " + u)
	}
	if l := scalar(a.FullLog, ""); l != "" {
		b.WriteString("\n" + slackEscape(truncate(l, maxFullLog)))
	}
	return b.String()
}

// scalar is raw's text: a string's content, a number or boolean as
// written, def when missing, null, an object or an array.
func scalar(raw json.RawMessage, def string) string {
	if len(raw) == 0 {
		return def
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	switch raw[0] {
	case '{', '[', 'n':
		return def
	}
	return string(raw)
}

// truncate cuts s to at most max bytes, on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max] + "…"
}

// slackEscape escapes the three characters Slack reads as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
