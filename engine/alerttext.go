package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
)

// Wazuh's text alerts.log writes each alert as a block:
//
//	** Alert 1652272159.1549653: - syslog,sshd,authentication_failures,
//	2022 May 11 12:29:19 (agent-name) any->/var/log/secure
//	Rule: 5712 (level 10) -> 'sshd: brute force ...'
//	Src IP: 172.17.1.1
//	User: paco
//	<the full log line(s)>
//
// TextToJSON turns such a block into the alerts.json shape, with the fields
// matching and commands use, so both formats take the same path afterwards.
// The block of an alert from a remote agent names the agent but not its id:
// such alerts carry agent.name only and count as another host's.

var (
	textHeader = regexp.MustCompile(`^\*\* Alert ([0-9.]+):\s*(?:[a-z]+)?\s*-\s*(.*)$`)
	textOrigin = regexp.MustCompile(`^\d{4} \w{3} \d{2} \d{2}:\d{2}:\d{2} (.*)$`)
	textRuleRe = regexp.MustCompile(`^Rule: (\d+) \(level (\d+)\) -> '(.*)'$`)
)

var errTextAlert = errors.New("not an alerts.log block")

// textAlert has alerts.json's member order.
type textAlert struct {
	Rule     textRule  `json:"rule"`
	Agent    *textAgnt `json:"agent,omitempty"`
	ID       string    `json:"id"`
	FullLog  string    `json:"full_log,omitempty"`
	Data     textData  `json:"data"`
	Location string    `json:"location,omitempty"`
}

type textRule struct {
	Level       json.Number `json:"level"`
	ID          string      `json:"id"`
	Description string      `json:"description"`
	Groups      []string    `json:"groups"`
}

type textAgnt struct {
	Name string `json:"name"`
}

type textData struct {
	SrcIP   string `json:"srcip,omitempty"`
	SrcPort string `json:"srcport,omitempty"`
	SrcUser string `json:"srcuser,omitempty"`
	DstUser string `json:"dstuser,omitempty"`
}

// TextToJSON converts one alerts.log block to an alerts.json object.
func TextToJSON(block []byte) ([]byte, error) {
	lines := strings.Split(strings.TrimRight(string(block), "\n"), "\n")
	h := textHeader.FindStringSubmatch(lines[0])
	if h == nil || len(lines) < 3 {
		return nil, errTextAlert
	}
	var t textAlert
	t.ID = h[1]
	for _, g := range strings.Split(h[2], ",") {
		if g = strings.TrimSpace(g); g != "" {
			t.Rule.Groups = append(t.Rule.Groups, g)
		}
	}
	if o := textOrigin.FindStringSubmatch(lines[1]); o != nil {
		t.origin(o[1])
	}
	r := textRuleRe.FindStringSubmatch(lines[2])
	if r == nil {
		return nil, errTextAlert
	}
	t.Rule.ID, t.Rule.Level, t.Rule.Description = r[1], json.Number(r[2]), r[3]
	var full []string
	for _, l := range lines[3:] {
		if !t.field(l) {
			full = append(full, l)
		}
	}
	t.FullLog = strings.Join(full, "\n")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(t); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// origin reads "host->location" or "(agent) ip->location".
func (t *textAlert) origin(s string) {
	host, loc, ok := strings.Cut(s, "->")
	if !ok {
		return
	}
	t.Location = loc
	if strings.HasPrefix(host, "(") {
		if name, _, ok := strings.Cut(host[1:], ")"); ok {
			t.Agent = &textAgnt{Name: name}
		}
	}
}

func (t *textAlert) field(l string) bool {
	k, v, ok := strings.Cut(l, ": ")
	if !ok {
		return false
	}
	switch k {
	case "Src IP":
		t.Data.SrcIP = v
	case "Src Port":
		t.Data.SrcPort = v
	case "User":
		t.Data.DstUser = v
	case "Src User":
		t.Data.SrcUser = v
	default:
		return false
	}
	return true
}
