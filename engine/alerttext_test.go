package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

const textBlock = `** Alert 1652272159.1549653: mail  - syslog,sshd,authentication_failures,
2022 May 11 12:29:19 localhost->/var/log/secure
Rule: 5712 (level 10) -> 'sshd: brute force trying to get access to the system. Non existent user.'
Src IP: 203.0.113.7
Src Port: 56404
User: paco
May 11 12:29:18 localhost sshd[17584]: Invalid user paco from 203.0.113.7 port 56404`

func TestTextToJSON(t *testing.T) {
	out, err := TextToJSON([]byte(textBlock))
	if err != nil {
		t.Fatal(err)
	}
	var a Alert
	if err := a.Decode(out); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	if a.Level != 10 || string(a.RuleID) != "5712" || string(a.SrcIP) != "203.0.113.7" ||
		string(a.DstUser) != "paco" || string(a.ID) != "1652272159.1549653" ||
		string(a.Groups) != "syslog,sshd,authentication_failures," || string(a.Location) != "/var/log/secure" || a.hasAgent {
		t.Errorf("decoded %+v from %s", a, out)
	}
	var full struct {
		FullLog string `json:"full_log"`
	}
	json.Unmarshal(out, &full)
	if !strings.HasPrefix(full.FullLog, "May 11 12:29:18 localhost sshd") {
		t.Errorf("full_log = %q", full.FullLog)
	}
}

func TestTextToJSON_RemoteAgentIsAnotherHost(t *testing.T) {
	block := strings.Replace(textBlock, "localhost->/var/log/secure", "(web-01) 198.51.100.10->/var/log/secure", 1)
	out, err := TextToJSON([]byte(block))
	if err != nil {
		t.Fatal(err)
	}
	a := decoded(t, string(out))
	r := &compiled{Response: &Response{Location: LocationLocal}}
	if r.runsHere(a, "000") {
		t.Errorf("a remote agent's alert ran locally: %s", out)
	}
}

func TestTextToJSON_Rejects(t *testing.T) {
	for _, s := range []string{"", "garbage", "** Alert 1.2: - a,\nno rule line\nx", "** Alert x: - a,\n2022 May 11 12:29:19 h->l\nRule: 1 (level 3) -> 'd'"} {
		if _, err := TextToJSON([]byte(s)); err == nil {
			t.Errorf("TextToJSON(%q) = nil error", s)
		}
	}
}

func TestEngine_HandlesTextAlerts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(time.Minute), "b")
		defer h.stop()
		rec := Record{Data: []byte(textBlock), Format: FormatText, Pos: Position{Source: "alerts.log", FileID: "1:3", Offset: 10}}
		if err := h.e.Handle(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.7 continue 1652272159.1549653")
	})
}
