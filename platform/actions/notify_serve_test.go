package actions

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// TestNotification_Standalone runs ossec-slack as Wazuh's agent would, in
// the install root (execd's working directory) holding etc/notify.conf:
// no check_keys, the alert posted, Wazuh's lines; a failing endpoint gives
// the warnings, the error and exit status 1, and no line shows the secret.
func TestNotification_Standalone(t *testing.T) {
	root := scratchDir(t)
	t.Chdir(root)
	msg := execdMessage(engine.OpAdd, "ossec-slack", notifyAlert1)
	const prog = "active-response/bin/ossec-slack: "
	for _, tt := range []struct {
		name   string
		script []int
		status int
		lines  []string // after Starting and the message
	}{
		{"ok", []int{200}, 0, []string{"Ended"}},
		{"5xx", []int{503}, 1, []string{
			"notification attempt failed, trying again action=ossec-slack attempt=1 err=ossec-slack: POST URL: answered 503 Service Unavailable",
			"notification attempt failed, trying again action=ossec-slack attempt=2 err=ossec-slack: POST URL: answered 503 Service Unavailable",
			"ossec-slack: POST URL: answered 503 Service Unavailable",
			"Ended"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHookServer(t, false, tt.script...)
			writeEtc(t, root, "notify.conf", "url="+h.hookURL()+"\n")
			log := &lineLog{}
			var out bytes.Buffer
			r := NewRunner(standaloneConfig(log, "ossec-slack"), log) // what Standalone runs, with short waits
			r.newAction = func(name string, cfg Config) (Action, bool) {
				a, ok := New(name, cfg)
				if n, isN := a.(*Notification); isN {
					n.backoff = time.Millisecond
				}
				return a, ok
			}
			defer r.Close()
			err := r.Standalone(context.Background(), "ossec-slack", bytes.NewReader(append(msg, '\n')), &out, nil)
			want := []string{prog + "Starting", prog + string(msg)}
			for _, l := range tt.lines {
				want = append(want, prog+strings.ReplaceAll(l, "URL", h.URL))
			}
			got := log.got()
			if !slices.Equal(got, want) || out.Len() != 0 || ExitStatus(err) != tt.status {
				t.Errorf("exit %d (%v), wrote %q, logged\n%s\nwant\n%s", ExitStatus(err), err, out.String(), strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if r := <-h.got; !strings.HasPrefix(string(r.body), `{"text":"Rule: 5763 (level 10)`) {
				t.Errorf("posted %s", r.body)
			}
			noSecret(t, "active-responses.log", strings.Join(got, "\n"))
		})
	}
}

// TestNotification_InProcess runs ossec-tweeter as the daemon does: the
// engine's invocation, settings under the runner's root, no check_keys.
func TestNotification_InProcess(t *testing.T) {
	h := newHookServer(t, false, 200)
	root := scratchDir(t)
	writeEtc(t, root, "tweet.conf", "url="+h.hookURL()+"\n")
	log := &lineLog{}
	r := NewRunner(Config{Root: root}, log)
	defer r.Close()
	inv := engine.Invocation{
		Command: engine.Command{Executable: "ossec-tweeter", ExtraArgs: []string{"conf=tweet.conf"}},
		Op:      engine.OpAdd,
		Message: execdMessage(engine.OpAdd, "ossec-tweeter", notifyAlert1, "conf=tweet.conf"),
	}
	check := func([]string) (engine.Decision, error) {
		t.Error("a notification asked check_keys")
		return engine.Decision{}, nil
	}
	if err := r.Run(context.Background(), inv, check); err != nil {
		t.Fatal(err)
	}
	if r := <-h.got; !strings.HasPrefix(string(r.body), `{"command":"add","program":"ossec-tweeter","alert":{"timestamp"`) {
		t.Errorf("posted %s", r.body)
	}
	const prog = "active-response/bin/ossec-tweeter: "
	if got, want := log.got(), []string{prog + "Starting", prog + string(inv.Message), prog + "Ended"}; !slices.Equal(got, want) {
		t.Errorf("logged\n%s", strings.Join(got, "\n"))
	}
}
