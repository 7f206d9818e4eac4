package actions

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// writeEtc writes root/etc/name.
func writeEtc(t *testing.T, root, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestNotification_SettingsFile checks etc/notify.conf: its settings
// apply, extra_args win over them, conf= picks another file, and edits
// apply at the next alert.
func TestNotification_SettingsFile(t *testing.T) {
	ctx := context.Background()
	h := newHookServer(t, false, 200)

	n, log := newTestNotification(t, "ossec-slack")
	writeEtc(t, n.root, "notify.conf", "# the webhook\n\n  url = "+h.hookURL()+"  \nformat=json\nusername=Wazuh bot\n")
	if err := n.Notify(ctx, engine.OpAdd, []byte(notifyAlert1)); err != nil {
		t.Fatal(err)
	}
	if r := <-h.got; r.path != "/services/"+notifySecret || !strings.HasPrefix(string(r.body), `{"command":"add"`) {
		t.Errorf("file settings not applied: %s %s", r.path, r.body)
	}
	writeEtc(t, n.root, "notify.conf", "url="+h.hookURL()+"/edited\n")
	if err := n.Notify(ctx, engine.OpAdd, []byte(notifyAlert1)); err != nil {
		t.Fatal(err)
	}
	if r := <-h.got; r.path != "/services/"+notifySecret+"/edited" {
		t.Errorf("edit not applied: %s", r.path)
	}
	noSecret(t, "log", log.String())

	n, _ = newTestNotification(t, "ossec-slack", "format=slack", "conf=tweet.conf")
	writeEtc(t, n.root, "notify.conf", "url=http://198.51.100.1/never\n") // not the one conf= names
	writeEtc(t, n.root, "tweet.conf", "url="+h.hookURL()+"\nformat=json\nchannel=#soc\n")
	if err := n.Notify(ctx, engine.OpAdd, []byte(notifyAlert1)); err != nil {
		t.Fatal(err)
	}
	var msg struct{ Text, Channel string }
	if err := json.Unmarshal((<-h.got).body, &msg); err != nil || msg.Channel != "#soc" || !strings.HasPrefix(msg.Text, "Rule: 5763") {
		t.Errorf("extra_args' format=slack did not win over the file: %+v, %v", msg, err)
	}
}

// TestNotification_BadSettings checks that wrong settings fail with a
// reason that names the key and the place, never the URL.
func TestNotification_BadSettings(t *testing.T) {
	secretURL := "https://hooks.example/services/" + notifySecret
	for _, tt := range []struct {
		name  string
		extra []string
		file  string // etc/notify.conf; "" for none
		err   string
	}{
		{"no url", nil, "", "ossec-slack: no url: set url= in extra_args or in etc/notify.conf"},
		{"conf= missing", []string{"conf=gone.conf"}, "", "etc/gone.conf"}, // and fs.ErrNotExist
		{"bare line", nil, secretURL + "\n", "etc/notify.conf:1: not key=value"},
		{"bad url in file", nil, "\nurl=ftp://hooks.example/" + notifySecret + "\n", "etc/notify.conf:2: url: not an http or https URL"},
		{"unknown key", nil, "token=" + notifySecret + "\n", "etc/notify.conf:1: token: unknown setting"},
		{"bad format", []string{secretURL, "format=xml"}, "", `extra_args: format: "xml" is not slack or json`},
		{"relative ca", []string{secretURL, "ca=ca.pem"}, "", `extra_args: ca: "ca.pem" is not an absolute path`},
		{"bare word", []string{"hooks.example/services/" + notifySecret}, "", "extra_args: argument 1 is neither key=value nor an http(s) URL"},
		{"conf= a path", []string{"conf=../ossec.conf"}, "", `conf="../ossec.conf" is not a file name in etc/`},
		{"bad url in args", []string{"url=https:///" + notifySecret}, "", "extra_args: url: not an http or https URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, log := newTestNotification(t, "ossec-slack", tt.extra...)
			if tt.file != "" {
				writeEtc(t, n.root, "notify.conf", tt.file)
			}
			err := n.Notify(context.Background(), engine.OpAdd, []byte(notifyAlert1))
			if err == nil || !strings.Contains(filepath.ToSlash(err.Error()), tt.err) { // Windows paths too
				t.Fatalf("err %v, want it to contain %q", err, tt.err)
			}
			if tt.name == "conf= missing" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("err %v, want fs.ErrNotExist", err)
			}
			noSecret(t, "error", err.Error())
			noSecret(t, "log", log.String())
			// wrong extra_args are refused before any handshake, a file when read
			wantArgsErr := strings.HasPrefix(tt.err, "extra_args") || strings.HasPrefix(tt.err, "conf=")
			if argsErr := n.validate(); (argsErr != nil) != wantArgsErr {
				t.Errorf("validate() = %v, want an error: %v", argsErr, wantArgsErr)
			}
		})
	}
}
