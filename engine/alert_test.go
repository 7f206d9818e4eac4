package engine

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// refAlert decodes the same fields with encoding/json: the reference the
// fast decoder is held to, and the baseline of its benchmark.
type refAlert struct {
	ID       json.RawMessage `json:"id"`
	Location string          `json:"location"`
	Rule     struct {
		Level     json.Number `json:"level"`
		ID        json.RawMessage
		Groups    []string `json:"groups"`
		PCIDSS    []string `json:"pci_dss"`
		GDPR      []string `json:"gdpr"`
		HIPAA     []string `json:"hipaa"`
		NIST80053 []string `json:"nist_800_53"`
		TSC       []string `json:"tsc"`
		GPG13     []string `json:"gpg13"`
	} `json:"rule"`
	Agent *struct {
		ID json.RawMessage `json:"id"`
	} `json:"agent"`
	Data struct {
		SrcIP   string `json:"srcip"`
		DstUser string `json:"dstuser"`
		Win     struct {
			EventData struct {
				IPAddress     string `json:"ipAddress"`
				DestinationIP string `json:"destinationIp"`
			} `json:"eventdata"`
		} `json:"win"`
	} `json:"data"`
	Syscheck struct {
		Path string `json:"path"`
	} `json:"syscheck"`
}

// groups rebuilds the group string the way the fast decoder does, for
// alerts whose compliance arrays come in this order.
func (r *refAlert) groups() string {
	var b strings.Builder
	add := func(prefix string, vs []string) {
		for _, v := range vs {
			b.WriteString(strings.ToLower(prefix + v))
			b.WriteByte(',')
		}
	}
	add("", r.Rule.Groups)
	return b.String()
}

func rawString(m json.RawMessage) string {
	if s, err := strconv.Unquote(string(m)); err == nil {
		return s
	}
	if string(m) == "null" {
		return ""
	}
	return string(m)
}

func loadAlerts(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/alerts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	return lines
}

func TestAlert_DecodeMatchesEncodingJSON(t *testing.T) {
	for i, line := range loadAlerts(t) {
		var a Alert
		if err := a.Decode(line); err != nil {
			t.Fatalf("alert %d: %v", i, err)
		}
		var r refAlert
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		srcip := r.Data.SrcIP
		if ip := r.Data.Win.EventData.DestinationIP; ip != "" && ip != "-" {
			srcip = ip
		}
		if ip := r.Data.Win.EventData.IPAddress; ip != "" && ip != "-" {
			srcip = ip
		}
		level, _ := r.Rule.Level.Int64()
		checks := []struct{ name, got, want string }{
			{"level", strconv.Itoa(a.Level), strconv.FormatInt(level, 10)},
			{"rule id", string(a.RuleID), rawString(r.Rule.ID)},
			{"agent id", string(a.AgentID), rawString(r.Agent.ID)},
			{"srcip", string(a.SrcIP), srcip},
			{"dstuser", string(a.DstUser), r.Data.DstUser},
			{"id", string(a.ID), rawString(r.ID)},
			{"location", string(a.Location), r.Location},
			{"filename", string(a.Filename), r.Syscheck.Path},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("alert %d %s = %q, want %q", i, c.name, c.got, c.want)
			}
		}
		if !strings.HasPrefix(string(a.Groups), r.groups()) {
			t.Errorf("alert %d groups = %q, want prefix %q", i, a.Groups, r.groups())
		}
	}
}

func TestAlert_DecodeGroups(t *testing.T) {
	line := `{"rule":{"level":10,"groups":["Syslog","sshd"],"pci_dss":["11.4"],"gdpr":["IV_35.7.d"],"tsc":["CC6.1"],"gpg13":["7.1"],"hipaa":["164.312.b"],"nist_800_53":["AU.14"]}}`
	var a Alert
	if err := a.Decode([]byte(line)); err != nil {
		t.Fatal(err)
	}
	want := "syslog,sshd,pci_dss_11.4,gdpr_iv_35.7.d,tsc_cc6.1,gpg13_7.1,hipaa_164.312.b,nist_800_53_au.14,"
	if string(a.Groups) != want {
		t.Errorf("groups = %q, want %q", a.Groups, want)
	}
}

func TestAlert_DecodeFields(t *testing.T) {
	tests := []struct {
		name, line   string
		srcip, agent string
		hasAgent     bool
		level        int
		ruleID, user string
	}{
		{"numeric rule id", `{"rule":{"level":5,"id":5715},"data":{"srcip":"3.3.3.3"}}`, "3.3.3.3", "", false, 5, "5715", ""},
		{"windows address first", `{"rule":{"level":5},"data":{"srcip":"1.1.1.1","win":{"eventdata":{"ipAddress":"2.2.2.2"}}}}`, "2.2.2.2", "", false, 5, "", ""},
		{"windows address before srcip", `{"data":{"win":{"eventdata":{"ipAddress":"2.2.2.2"}},"srcip":"1.1.1.1"},"rule":{"level":5}}`, "2.2.2.2", "", false, 5, "", ""},
		{"windows logon without address", `{"data":{"win":{"eventdata":{"ipAddress":"-"}},"srcip":"1.1.1.1"},"rule":{"level":5}}`, "1.1.1.1", "", false, 5, "", ""},
		// Wazuh 4.14.7's get_srcip_from_json: ipAddress, destinationIp, srcip.
		{"sysmon destination only", `{"rule":{"level":5},"data":{"win":{"eventdata":{"destinationIp":"203.0.113.30"}}}}`, "203.0.113.30", "", false, 5, "", ""},
		{"sysmon destination before srcip", `{"rule":{"level":5},"data":{"srcip":"198.51.100.1","win":{"eventdata":{"destinationIp":"203.0.113.30"}}}}`, "203.0.113.30", "", false, 5, "", ""},
		{"ipAddress before destinationIp", `{"rule":{"level":5},"data":{"win":{"eventdata":{"destinationIp":"203.0.113.30","ipAddress":"203.0.113.31"}}}}`, "203.0.113.31", "", false, 5, "", ""},
		{"ipAddress dash, destinationIp", `{"rule":{"level":5},"data":{"win":{"eventdata":{"ipAddress":"-","destinationIp":"203.0.113.30"}}}}`, "203.0.113.30", "", false, 5, "", ""},
		{"windows fields count only as strings", `{"rule":{"level":5},"data":{"srcip":"198.51.100.1","win":{"eventdata":{"ipAddress":7,"destinationIp":null}}}}`, "198.51.100.1", "", false, 5, "", ""},
		{"win not an object", `{"rule":{"level":5},"data":{"srcip":"198.51.100.1","win":"x"}}`, "198.51.100.1", "", false, 5, "", ""},
		{"escaped user", `{"rule":{"level":1},"data":{"dstuser":"b\u006fb"},"agent":{"id":"007"}}`, "", "007", true, 1, "", "bob"},
		{"null srcip", `{"rule":{"level":1},"data":{"srcip":null}}`, "", "", false, 1, "", ""},
		{"whitespace", " { \"rule\" : { \"level\" : 12 } , \"agent\" : { } } ", "", "", true, 12, "", ""},
		{"level as string", `{"rule":{"level":"7"}}`, "", "", false, 7, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Alert
			if err := a.Decode([]byte(tt.line)); err != nil {
				t.Fatal(err)
			}
			if string(a.SrcIP) != tt.srcip || string(a.AgentID) != tt.agent || a.hasAgent != tt.hasAgent ||
				a.Level != tt.level || string(a.RuleID) != tt.ruleID || string(a.DstUser) != tt.user {
				t.Errorf("got srcip=%q agent=%q(%v) level=%d rule=%q user=%q", a.SrcIP, a.AgentID, a.hasAgent, a.Level, a.RuleID, a.DstUser)
			}
		})
	}
}

func TestAlert_DecodeRejectsMalformed(t *testing.T) {
	bad := []string{
		``, `not json`, `{`, `{"rule":{"level":10}`, `{"rule":{"level":"x"}}`, `{"rule" {"level":1}}`,
		`{"a":"unterminated}`, `{"a":[1,2`, `{"a":1}}`, `{"a":1} trailing`, "\x00\x01\x02",
		`{"timestamp":"2022-05-11T12:29:19.905+0000",:{"level":10}}`,
	}
	for _, s := range bad {
		var a Alert
		if err := a.Decode([]byte(s)); err == nil {
			t.Errorf("Decode(%q) = nil, want error", s)
		}
	}
}

// FuzzAlert_Decode checks that Decode never panics and that it accepts every
// alert-shaped object encoding/json accepts, with the same level; an object
// whose rule.level is not an integer (Wazuh never writes one) may be refused.
func FuzzAlert_Decode(f *testing.F) {
	for _, l := range loadAlerts(f) {
		f.Add(l)
	}
	f.Add([]byte(`{"rule":{"level":3,"groups":["a\"b"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Alert
		err := a.Decode(data)
		// Maps, not structs: encoding/json matches struct fields ignoring
		// case ("lEvel"), the alert's keys are exact.
		var top map[string]json.RawMessage
		if json.Unmarshal(data, &top) != nil || !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			return
		}
		var rule map[string]json.RawMessage
		var level int
		if json.Unmarshal(top["rule"], &rule) == nil && rule["level"] != nil && json.Unmarshal(rule["level"], &level) != nil {
			return // a level that is not an integer may be refused: not compared
		}
		if err != nil {
			t.Fatalf("Decode rejected valid JSON %q: %v", data, err)
		}
		if a.Level != level {
			t.Fatalf("level %d, encoding/json %d", a.Level, level)
		}
	})
}

func TestAlert_DecodeDeepNesting(t *testing.T) {
	deep := strings.Repeat(`{"x":`, 500) + "1" + strings.Repeat("}", 500)
	a := decoded(t, `{"junk":`+deep+`,"rule":{"level":10,"id":"5712"},"data":{"srcip":"203.0.113.1"}}`)
	if a.Level != 10 || string(a.SrcIP) != "203.0.113.1" {
		t.Errorf("deeply nested junk hid the alert: %+v", a)
	}
}
