package actions

import (
	"bufio"
	"context"
	"errors"
	"io"
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
		err := r.Standalone(context.Background(), name, inR, outW)
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
			if err := p.wait(t); err == nil {
				t.Error("no error")
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
	err := Standalone(context.Background(), "firewall-drop", strings.NewReader(""), io.Discard, log)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v", err)
	}
	want := prefixed(progFD, []string{"Starting", "Cannot read input from stdin"})
	if diff := cmp.Diff(want, log.got()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestStandalone_Unknown(t *testing.T) {
	msg := execdMessage(engine.OpDelete, "nope", alertIP)
	err := Standalone(context.Background(), "nope", strings.NewReader(string(msg)+"\n"), io.Discard, nil)
	if !errors.Is(err, ErrUnknownAction) {
		t.Errorf("err = %v", err)
	}
}
