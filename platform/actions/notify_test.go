package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// notifySecret is the secret part of the test webhooks' URLs: it must
// appear in no log line and no error.
const notifySecret = "T0123/B4567/s3cr3tTOKEN"

// notifyAlert1 is an sshd alert as alerts.json holds it.
const notifyAlert1 = `{"timestamp":"2026-12-02T10:00:00.000+0000","rule":{"level":10,"description":"sshd: brute force trying to get access to the system. Authentication failed.","id":"5763","groups":["syslog","sshd"]},"agent":{"id":"001","name":"web01"},"id":"1764669600.1234","full_log":"Dec  2 10:00:00 web01 sshd[42]: Failed password for invalid user admin from 203.0.113.7 port 4242 ssh2","data":{"srcip":"203.0.113.7","dstuser":"admin"},"location":"/var/log/auth.log"}`

// hookServer is a loopback endpoint answering each request with the next
// status of its script (the last one repeats), or holding it until the
// client gives up when the status is 0. Every request is sent on got once
// its body is read.
type hookServer struct {
	*httptest.Server
	got chan hookRequest

	mu     sync.Mutex
	script []int
}

type hookRequest struct {
	path, contentType string
	body              []byte
}

func newHookServer(t *testing.T, tls bool, script ...int) *hookServer {
	h := &hookServer{got: make(chan hookRequest, 16), script: script}
	mux := http.NewServeMux()
	mux.HandleFunc("/", h.serve)
	h.Server = httptest.NewUnstartedServer(mux)
	h.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the refused handshakes of TestNotification_TLS
	if tls {
		h.StartTLS()
	} else {
		h.Start()
	}
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	status := h.script[0]
	if len(h.script) > 1 {
		h.script = h.script[1:]
	}
	h.mu.Unlock()
	h.got <- hookRequest{r.URL.Path, r.Header.Get("Content-Type"), body}
	if status == 0 {
		<-r.Context().Done() // the client's time limit, not ours, ends it
		return
	}
	if status == http.StatusFound {
		http.Redirect(w, r, "/services/"+notifySecret+"/moved", status)
		return
	}
	w.WriteHeader(status)
}

// hookURL is the server's URL with the secret path.
func (h *hookServer) hookURL() string { return h.URL + "/services/" + notifySecret }

// count drains got and returns how many requests arrived.
func (h *hookServer) count() int {
	for n := 0; ; n++ {
		select {
		case <-h.got:
		default:
			return n
		}
	}
}

// newTestNotification returns the built-in name with extra args under a
// temp root, short time limits, and its log in the returned buffer.
func newTestNotification(t *testing.T, name string, extra ...string) (*Notification, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, ok := notifyBuiltin(name, Config{ExtraArgs: extra, Root: scratchDir(t), Logger: log})
	if !ok {
		t.Fatalf("no built-in %s", name)
	}
	n := a.(*Notification)
	n.attemptTimeout, n.backoff = 200*time.Millisecond, time.Millisecond
	return n, &buf
}

// lockedWriter serialises writes from the client's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// noSecret fails t when s holds any part of the webhook's secret.
func noSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, part := range append(strings.Split(notifySecret, "/"), "/services") {
		if strings.Contains(s, part) {
			t.Errorf("%s shows the secret %q:\n%s", what, part, s)
		}
	}
}

// TestNotification_Slack checks ossec-slack's message: a Slack webhook
// payload with the rule line, agent, address, user and log, posted to the
// configured URL, and Slack's markup escaped.
func TestNotification_Slack(t *testing.T) {
	h := newHookServer(t, false, 200)
	n, log := newTestNotification(t, "ossec-slack", h.hookURL(), "username=wazuh", "channel=#soc")
	if err := n.Notify(context.Background(), engine.OpAdd, []byte(notifyAlert1)); err != nil {
		t.Fatal(err)
	}
	r := <-h.got
	want := `{"text":"Rule: 5763 (level 10) -> 'sshd: brute force trying to get access to the system. Authentication failed.'\n` +
		`Agent: (001) web01\nSrc IP: 203.0.113.7\nUser: admin\n` +
		`Dec  2 10:00:00 web01 sshd[42]: Failed password for invalid user admin from 203.0.113.7 port 4242 ssh2",` +
		`"username":"wazuh","channel":"#soc"}`
	if string(r.body) != want || r.path != "/services/"+notifySecret || r.contentType != "application/json" {
		t.Errorf("posted %s %q\n%s\nwant\n%s", r.path, r.contentType, r.body, want)
	}
	noSecret(t, "log", log.String())

	hostile := `{"rule":{"id":"31101","level":5,"description":"<!channel> & <@U1>"}}`
	if err := n.Notify(context.Background(), engine.OpAdd, []byte(hostile)); err != nil {
		t.Fatal(err)
	}
	var msg struct{ Text string }
	if err := json.Unmarshal((<-h.got).body, &msg); err != nil {
		t.Fatal(err)
	}
	if want := "Rule: 31101 (level 5) -> '&lt;!channel&gt; &amp; &lt;@U1&gt;'"; msg.Text != want {
		t.Errorf("text %q, want %q", msg.Text, want)
	}
}

// TestNotification_JSON checks ossec-tweeter's default payload: the
// command, the program and the alert as it came, with no extra_args (they
// may hold the URL).
func TestNotification_JSON(t *testing.T) {
	h := newHookServer(t, false, 204)
	n, _ := newTestNotification(t, "ossec-tweeter", "url="+h.hookURL())
	if err := n.Notify(context.Background(), engine.OpAdd, []byte(notifyAlert1)); err != nil {
		t.Fatal(err)
	}
	want := `{"command":"add","program":"ossec-tweeter","alert":` + notifyAlert1 + `}`
	if got := (<-h.got).body; string(got) != want {
		t.Errorf("posted\n%s\nwant\n%s", got, want)
	}
	if err := n.Notify(context.Background(), engine.OpDelete, []byte(notifyAlert1)); err != nil || h.count() != 0 {
		t.Errorf("delete posted or failed: %v", err)
	}
	for _, bad := range []string{``, `null`, `[1]`, `{"rule":`} {
		err := n.Notify(context.Background(), engine.OpAdd, []byte(bad))
		if err == nil || err.Error() != "Cannot read 'alert' from data" {
			t.Errorf("alert %q: %v, want Wazuh's line", bad, err)
		}
	}
	if h.count() != 0 {
		t.Error("a bad alert was posted")
	}
	if err := n.Add(context.Background(), Target{}, time.Time{}); !errors.Is(err, errNeedsAlert) {
		t.Errorf("Add = %v, want errNeedsAlert", err)
	}
}

// TestNotification_Retries checks that 5xx answers are tried again, up to
// three tries, and that 4xx answers and redirects are not.
func TestNotification_Retries(t *testing.T) {
	for _, tt := range []struct {
		name   string
		script []int
		tries  int
		err    string // "" for success
	}{
		{"5xx then ok", []int{503, 502, 200}, 3, ""},
		{"5xx throughout", []int{500}, 3, "answered 500 Internal Server Error"},
		{"4xx", []int{404}, 1, "answered 404 Not Found"},
		{"redirect not followed", []int{302}, 1, "answered 302 Found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHookServer(t, false, tt.script...)
			n, log := newTestNotification(t, "ossec-slack", "url="+h.hookURL())
			err := n.Notify(context.Background(), engine.OpAdd, []byte(notifyAlert1))
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("err %v", err)
			case tt.err != "" && (err == nil || !strings.HasSuffix(err.Error(), tt.err)):
				t.Errorf("err %v, want ...%s", err, tt.err)
			}
			if err != nil {
				if want := "ossec-slack: POST " + h.URL + ": "; !strings.HasPrefix(err.Error(), want) {
					t.Errorf("err %q, want it to start %q", err, want)
				}
				noSecret(t, "error", err.Error())
			}
			if got := h.count(); got != tt.tries {
				t.Errorf("%d tries, want %d", got, tt.tries)
			}
			noSecret(t, "log", log.String())
		})
	}
}

// TestNotification_SlowServer checks that an endpoint that never answers
// costs each try its time limit, three tries in all, and that the caller's
// own deadline or cancel stops it at once without a retry.
func TestNotification_SlowServer(t *testing.T) {
	h := newHookServer(t, false, 0)
	n, log := newTestNotification(t, "ossec-slack", "url="+h.hookURL())
	err := n.Notify(context.Background(), engine.OpAdd, []byte(notifyAlert1))
	if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Errorf("err %v, want a timeout", err)
	}
	if got := h.count(); got != 3 {
		t.Errorf("%d tries, want 3", got)
	}
	noSecret(t, "error", err.Error())
	noSecret(t, "log", log.String())

	n.attemptTimeout = time.Hour // only the caller's cancel can end it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.Notify(ctx, engine.OpAdd, []byte(notifyAlert1)) }()
	<-h.got
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v, want context.Canceled", err)
	}
	if got := h.count(); got != 0 {
		t.Errorf("%d more tries after the cancel", got)
	}
}

// TestNotification_TLS checks https with a private CA: refused with the
// system's roots (not retried), accepted with ca= naming the CA's file.
func TestNotification_TLS(t *testing.T) {
	h := newHookServer(t, true, 200)
	n, log := newTestNotification(t, "ossec-slack", "url="+h.hookURL())
	err := n.Notify(context.Background(), engine.OpAdd, []byte(notifyAlert1))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("unknown CA: %v, want a certificate error", err)
	}
	if got := h.count(); got != 0 {
		t.Errorf("%d requests through an untrusted TLS", got)
	}
	noSecret(t, "error", err.Error())

	ca := filepath.Join(scratchDir(t), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.Certificate().Raw})
	if err := os.WriteFile(ca, b, 0o600); err != nil {
		t.Fatal(err)
	}
	n, log = newTestNotification(t, "ossec-slack", "url="+h.hookURL(), "ca="+ca)
	if err := n.Notify(context.Background(), engine.OpAdd, []byte(notifyAlert1)); err != nil {
		t.Fatalf("with ca=: %v", err)
	}
	if r := <-h.got; r.path != "/services/"+notifySecret {
		t.Errorf("posted to %s", r.path)
	}
	noSecret(t, "log", log.String())

	empty := filepath.Join(scratchDir(t), "empty.pem")
	if err := os.WriteFile(empty, []byte("no certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, _ = newTestNotification(t, "ossec-slack", "url="+h.hookURL(), "ca="+empty)
	if err := n.Notify(context.Background(), engine.OpAdd, []byte(notifyAlert1)); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("empty ca: %v", err)
	}
}

// TestNotification_Bounded checks the default time limits: every try,
// with the waits between them, ends well within the daemon's 60 s limit
// for a built-in, so a dead endpoint never costs the run its limit.
func TestNotification_Bounded(t *testing.T) {
	n := NewNotification("ossec-slack", Config{})
	worst := time.Duration(n.attempts) * n.attemptTimeout
	for i, wait := 1, n.backoff; i < n.attempts; i, wait = i+1, wait*2 {
		worst += wait
	}
	if n.attempts < 2 || n.attemptTimeout < time.Second || worst > 30*time.Second {
		t.Errorf("%d tries of %v: at worst %v, want a few tries within 30 s", n.attempts, n.attemptTimeout, worst)
	}
}

// scratchDir is t.TempDir(), except that under Wine, whose files cannot be
// removed the way Go's RemoveAll removes them on Windows ("Invalid
// function"), what is left is left: the test is about the notification,
// not about Wine.
func scratchDir(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "tld-notify")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
