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
