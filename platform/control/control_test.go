package control

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// serve starts a server on a socket in a temp dir with h; it stops at the
// end of the test.
func serve(t *testing.T, h Handler) *Server {
	t.Helper()
	s, err := Listen(filepath.Join(t.TempDir(), "run", "t.sock"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		s.Close()
	})
	return s
}

func echo(_ context.Context, p Peer, r Request) (any, error) {
	if r.Command == "fail" {
		return nil, errors.New("it failed")
	}
	return map[string]any{"command": r.Command, "args": r.Args, "peer": p.String()}, nil
}

func TestServer_CallAndModes(t *testing.T) {
	s := serve(t, echo)
	var out struct {
		Command string
		Args    []string
		Peer    string
	}
	if err := Call(context.Background(), s.Path(), Request{Command: "list", Args: []string{"1.2.3.4;rm -rf /"}}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Command != "list" || len(out.Args) != 1 || out.Args[0] != "1.2.3.4;rm -rf /" {
		t.Errorf("echo: %+v", out)
	}
	if runtime.GOOS == "linux" && !strings.HasPrefix(out.Peer, "uid ") {
		t.Errorf("peer %q, want the kernel's credentials", out.Peer)
	}
	var re *RemoteError
	if err := Call(context.Background(), s.Path(), Request{Command: "fail"}, nil); !errors.As(err, &re) || re.Text != "it failed" {
		t.Errorf("a failing command: %v", err)
	}
	for path, want := range map[string]os.FileMode{s.Path(): 0o600, filepath.Dir(s.Path()): 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
}

func TestCall_NotRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.sock")
	if err := Call(context.Background(), path, Request{Command: "status"}, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("no socket: %v, want ErrNotRunning", err)
	}
	s, err := Listen(path, nil) // a socket nobody serves after Close: refused
	if err != nil {
		t.Fatal(err)
	}
	s.ln.(*net.UnixListener).SetUnlinkOnClose(false)
	s.ln.Close()
	if err := Call(context.Background(), path, Request{Command: "status"}, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("stale socket: %v, want ErrNotRunning", err)
	}
	if _, err := Listen(path, nil); err != nil { // the stale socket is replaced
		t.Errorf("Listen over a stale socket: %v", err)
	}
}

func TestListen_RefusesAFileInTheWay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.sock")
	os.WriteFile(path, []byte("keep me"), 0o600)
	if _, err := Listen(path, nil); err == nil {
		t.Fatal("Listen replaced a regular file")
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Errorf("the file was changed: %q", b)
	}
}

// TestServer_MalformedRequests: garbage, oversize, unknown fields, no
// command, a client that never writes: each gets an error (or is cut off)
// and the server answers the next one.
func TestServer_MalformedRequests(t *testing.T) {
	s := serve(t, echo)
	for name, raw := range map[string]string{
		"garbage":        "\x00\x01\x02 not json\n",
		"unknown field":  `{"command":"list","sudo":true}` + "\n",
		"no command":     `{"args":["x"]}` + "\n",
		"wrong type":     `{"command":["list"]}` + "\n",
		"oversize":       `{"command":"list","args":["` + strings.Repeat("a", MaxRequest) + `"]}` + "\n",
		"no newline eof": `{"command":"list"}`,
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("unix", s.Path())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write([]byte(raw))
			conn.(*net.UnixConn).CloseWrite()
			buf := make([]byte, 4096)
			n, _ := conn.Read(buf)
			if !strings.Contains(string(buf[:n]), `"error":"malformed request: `) {
				t.Errorf("answer %q", buf[:n])
			}
		})
	}
	if err := Call(context.Background(), s.Path(), Request{Command: "status"}, nil); err != nil {
		t.Errorf("after malformed requests: %v", err)
	}
}

func TestServer_StopsWithRequestsInFlight(t *testing.T) {
	started := make(chan struct{})
	s, err := Listen(filepath.Join(t.TempDir(), "s.sock"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Serve(ctx, func(ctx context.Context, _ Peer, _ Request) (any, error) {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		})
	}()
	callDone := make(chan error, 1)
	go func() { callDone <- Call(context.Background(), s.Path(), Request{Command: "slow"}, nil) }()
	<-started
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if err := <-callDone; err == nil {
		t.Error("the cancelled request succeeded")
	}
}
