package actions

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/threatlockdown/threatlockdown/engine"
)

// execdPipes runs r.Standalone for name over pipes; the test plays execd
// with the returned ends.
type execdPipes struct {
	toScript   *io.PipeWriter
	fromScript *bufio.Reader
	done       chan error
}

func startStandalone(t *testing.T, r *Runner, name string) *execdPipes {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p := &execdPipes{toScript: inW, fromScript: bufio.NewReader(outR), done: make(chan error, 1)}
	go func() {
		err := r.Standalone(context.Background(), name, inR, outW, nil)
		outW.Close()
		inR.Close()
		p.done <- err
	}()
	return p
}

func (p *execdPipes) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(p.toScript, line+"\n"); err != nil {
		t.Fatalf("write to script: %v", err)
	}
}

func (p *execdPipes) recv(t *testing.T) string {
	t.Helper()
	line, err := p.fromScript.ReadString('\n')
	if err != nil {
		t.Fatalf("read from script: %v (got %q)", err, line)
	}
	return strings.TrimSuffix(line, "\n")
}

func (p *execdPipes) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("script did not end")
		return nil
	}
}

func TestStandalone_Handshake(t *testing.T) {
	add := execdMessage(engine.OpAdd, "firewall-drop", alertIP)
	for _, verdict := range []string{"continue", "abort"} {
		t.Run(verdict, func(t *testing.T) {
			log := &lineLog{}
			r, acts := fakeRunner(log, "firewall-drop")
			p := startStandalone(t, r, "firewall-drop")
			p.send(t, string(add))
			if got := p.recv(t); got != checkKeys {
				t.Fatalf("check_keys line\n got %s\nwant %s", got, checkKeys)
			}
			p.send(t, withCommand(add, verdict))
			if err := p.wait(t); err != nil {
				t.Fatal(err)
			}
			wantCalls, end := []string{"add 203.0.113.7 exp=0"}, "Ended"
			if verdict == "abort" {
				wantCalls, end = nil, "Aborted" // no expiry from execd: nothing to refresh
			}
			if diff := cmp.Diff(wantCalls, acts["firewall-drop"].got()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			want := prefixed(progFD, []string{"Starting", string(add), checkKeys, withCommand(add, verdict), end})
			if diff := cmp.Diff(want, log.got()); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStandalone_Delete(t *testing.T) {
	log := &lineLog{}
	r, acts := fakeRunner(log, "firewall-drop")
	p := startStandalone(t, r, "firewall-drop")
	del := execdMessage(engine.OpDelete, "firewall-drop", alertIP)
	p.send(t, string(del))
	p.toScript.Close() // execd closes stdin after a delete
	if err := p.wait(t); err != nil {
		t.Fatal(err)
	}
	if _, err := p.fromScript.ReadString('\n'); err != io.EOF {
		t.Errorf("script wrote on a delete: %v", err)
	}
	if diff := cmp.Diff([]string{"delete 203.0.113.7"}, acts["firewall-drop"].got()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(prefixed(progFD, []string{"Starting", string(del), "Ended"}), log.got()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestStandalone_BadExchanges(t *testing.T) {
	add := execdMessage(engine.OpAdd, "firewall-drop", alertIP)
	tests := []struct {
		name    string
		answer  string // "" closes stdin instead
		lastLog string
	}{
		{"execd hangs up", "", "Cannot read input from stdin"},
		{"bad verdict", withCommand(add, "maybe"), "Invalid value of 'command'"},
		{"not json", "yes", "Invalid input format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &lineLog{}
			r, acts := fakeRunner(log, "firewall-drop")
			p := startStandalone(t, r, "firewall-drop")
			p.send(t, string(add))
			p.recv(t)
			if tt.answer == "" {
				p.toScript.Close()
			} else {
				p.send(t, tt.answer)
			}
			if err := p.wait(t); ExitStatus(err) != 255 {
				t.Errorf("exit status %d (%v), want 255", ExitStatus(err), err)
			}
			if n := len(acts["firewall-drop"].got()); n != 0 {
				t.Errorf("acted %d times without continue", n)
			}
			lines := log.got()
			if got := lines[len(lines)-1]; got != progFD+tt.lastLog {
				t.Errorf("last log line %q", got)
			}
		})
	}
}

func TestStandalone_NoMessage(t *testing.T) {
	log := &lineLog{}
	err := Standalone(context.Background(), "firewall-drop", strings.NewReader(""), io.Discard, log, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) || ExitStatus(err) != 255 {
		t.Errorf("err = %v", err)
	}
	want := prefixed(progFD, []string{"Starting", "Cannot read input from stdin"})
	if diff := cmp.Diff(want, log.got()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestStandalone_Unknown(t *testing.T) {
	msg := execdMessage(engine.OpDelete, "nope", alertIP)
	err := Standalone(context.Background(), "nope", strings.NewReader(string(msg)+"\n"), io.Discard, nil, nil)
	if !errors.Is(err, ErrUnknownAction) {
		t.Errorf("err = %v", err)
	}
}

// TestStandalone_Golden runs each case of testdata/standalone.golden: the
// message and answer execd sends, and what must come out: stdout, the exact
// lines of active-responses.log (Wazuh's texts, in Wazuh's order), the
// action's calls and the exit status.
func TestStandalone_Golden(t *testing.T) {
	// The host's own address, refused in the golden case "the host's own
	// address" (192.0.2.0/24 is this machine's subnet, never an attacker).
	host := hostAddrs{netip.MustParseAddr("192.0.2.10"): true}
	for _, c := range readGolden(t, "testdata/standalone.golden") {
		t.Run(c.title, func(t *testing.T) {
			log := &lineLog{}
			r, acts := fakeRunner(log, c.name)
			var stdin strings.Builder
			for _, l := range c.stdin {
				stdin.WriteString(l + "\n")
			}
			var stdout strings.Builder
			err := r.Standalone(context.Background(), c.name, strings.NewReader(stdin.String()), &stdout, host)
			r.Close()
			var out []string
			if stdout.Len() > 0 {
				out = strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			}
			if diff := cmp.Diff(c.stdout, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.log, trimAll(log.got())); diff != "" {
				t.Errorf("active-responses.log (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.calls, acts[c.name].got()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if got := ExitStatus(err); got != c.status {
				t.Errorf("exit status %d (%v), want %d", got, err, c.status)
			}
		})
	}
}

// goldenCase is one case of standalone.golden.
type goldenCase struct {
	title, name               string
	stdin, stdout, log, calls []string
	status                    int
}

// readGolden parses path: "## NAME: title" starts a case, then "> " lines
// go to stdin, "< " lines are stdout, "! " lines the action's calls, "= N"
// the exit status and the other lines the log; "#" lines are comments.
func readGolden(t *testing.T, path string) []goldenCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	var c *goldenCase
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, " ")
		if head, ok := strings.CutPrefix(line, "## "); ok {
			name, _, _ := strings.Cut(head, ": ")
			cases = append(cases, goldenCase{title: head, name: name})
			c = &cases[len(cases)-1]
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if c == nil {
			t.Fatalf("%s:%d: outside a case", path, i+1)
		}
		switch {
		case line == ">" || strings.HasPrefix(line, "> "):
			c.stdin = append(c.stdin, strings.TrimPrefix(line[1:], " "))
		case strings.HasPrefix(line, "< "):
			c.stdout = append(c.stdout, line[2:])
		case strings.HasPrefix(line, "! "):
			c.calls = append(c.calls, line[2:])
		case strings.HasPrefix(line, "= "):
			if c.status, err = strconv.Atoi(line[2:]); err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
		default:
			c.log = append(c.log, line)
		}
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	return cases
}

func trimAll(lines []string) []string {
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// TestStandalone_ActionFails: an action that fails is logged, then "Ended",
// and the run exits 1.
func TestStandalone_ActionFails(t *testing.T) {
	log := &lineLog{}
	r, acts := fakeRunner(log, "firewall-drop")
	acts["firewall-drop"].err = errors.New("iptables: exit status 4")
	del := execdMessage(engine.OpDelete, "firewall-drop", alertIP)
	err := r.Standalone(context.Background(), "firewall-drop", strings.NewReader(string(del)+"\n"), io.Discard, nil)
	if ExitStatus(err) != 1 {
		t.Errorf("exit status %d (%v), want 1", ExitStatus(err), err)
	}
	want := prefixed(progFD, []string{"Starting", string(del), "iptables: exit status 4", "Ended"})
	if diff := cmp.Diff(want, log.got()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

// TestStandalone_ActionWarnings: in a stand-alone run the actions'
// warnings are lines of active-responses.log, as Wazuh's programs write
// theirs; information is dropped, and nothing is left for stderr.
func TestStandalone_ActionWarnings(t *testing.T) {
	log := &lineLog{}
	l := standaloneConfig(log, "pf").Logger
	l.Info("nftables unavailable, using iptables")
	l.With("script", "pf").Warn("active response may not have an effect", "reason", "pf is disabled")
	l.Error("boom", "n", 3)
	want := []string{
		"active-response/bin/pf: active response may not have an effect script=pf reason=pf is disabled",
		"active-response/bin/pf: boom n=3",
	}
	if diff := cmp.Diff(want, log.got()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}
