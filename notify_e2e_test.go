package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2E_SlackNotificationReadsTheRootsSettings: ossec-slack run by the
// daemon (in-process, whatever its working directory) takes its webhook
// from ROOT/etc/notify.conf and posts Slack's {"text": ...} for the alert.
func TestE2E_SlackNotificationReadsTheRootsSettings(t *testing.T) {
	posted := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		posted <- r.URL.Path + " " + string(body)
	}))
	defer srv.Close()
	conf := strings.Replace(confFor("ossec-slack", 0), "<timeout_allowed>yes</timeout_allowed>", "", 1)
	conf = strings.Replace(conf, "<timeout>0</timeout>", "", 1)
	root := newRoot(t, conf)
	write(t, filepath.Join(root, "etc/notify.conf"), "url="+srv.URL+"/services/T0/B0/secret\n", 0o600)
	t.Chdir(t.TempDir()) // not the root: the settings must be found by the root, not the working directory
	d := startInProcess(t, root)
	d.alert("203.0.113.41", "1700000000.41")
	select {
	case got := <-posted:
		path, body, _ := strings.Cut(got, " ")
		if path != "/services/T0/B0/secret" {
			t.Errorf("posted to %q", path)
		}
		var msg struct{ Text string }
		if err := json.Unmarshal([]byte(body), &msg); err != nil || !strings.Contains(msg.Text, "203.0.113.41") {
			t.Errorf("posted %q (%v), want Slack's text naming the address", body, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("nothing posted:\n%s", d.logs())
	}
	if strings.Contains(d.logs(), "secret") {
		t.Errorf("the daemon's log shows the webhook's secret:\n%s", d.logs())
	}
}

// TestE2E_LegacyWithoutExpectWarns: a legacy command without <expect> gets
// "-" for srcip, as in OSSEC, which is rarely what was meant: the daemon
// says so at start, naming the command and its line; with <expect> it is
// quiet.
func TestE2E_LegacyWithoutExpectWarns(t *testing.T) {
	const warning = "legacy command without <expect>"
	legacy := strings.Replace(confWith(60), "<timeout_allowed>yes</timeout_allowed>",
		"<timeout_allowed>yes</timeout_allowed><protocol>legacy</protocol>", 1)
	d := startInProcess(t, newRoot(t, legacy))
	if logs := d.logs(); !strings.Contains(logs, warning) || !strings.Contains(logs, "command=test-drop line=2") {
		t.Errorf("no warning naming the command and its line:\n%s", logs)
	}
	withExpect := strings.Replace(legacy, "<protocol>legacy</protocol>", "<protocol>legacy</protocol><expect>srcip</expect>", 1)
	if logs := startInProcess(t, newRoot(t, withExpect)).logs(); strings.Contains(logs, warning) {
		t.Errorf("warned although <expect> is given:\n%s", logs)
	}
}
