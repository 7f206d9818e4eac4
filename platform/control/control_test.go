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

// TestListen_LeavesASharedParentAlone: the socket's own directory is made
// 0700; its parent, shared with others (Wazuh's var/run is root:wazuh
// 0770), keeps its mode.
func TestListen_LeavesASharedParentAlone(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "var", "run")
	if err := os.MkdirAll(parent, 0o770); err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o770)
	s, err := Listen(filepath.Join(parent, "tld", "c.sock"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for path, want := range map[string]os.FileMode{parent: 0o770, filepath.Join(parent, "tld"): 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %v", path, fi.Mode().Perm(), err, want)
		}
	}
}

// TestListen_RefusesALiveSocket: a second daemon on the same socket (a
// dry run on the live root) does not take it over: the first still answers.
func TestListen_RefusesALiveSocket(t *testing.T) {
	s := serve(t, echo)
	if _, err := Listen(s.Path(), nil); !errors.Is(err, ErrInUse) {
		t.Fatalf("Listen on a served socket: %v, want ErrInUse", err)
	}
	if err := Call(context.Background(), s.Path(), Request{Command: "status"}, nil); err != nil {
		t.Errorf("the first server after the refused Listen: %v", err)
	}
}

// TestListen_RefusesADirNotItsOwn: a link where the socket's directory
// should be, or (as root) a directory of another user, is refused and left
// as it was.
func TestListen_RefusesADirNotItsOwn(t *testing.T) {
	root := t.TempDir()
	other := filepath.Join(root, "elsewhere")
	os.Mkdir(other, 0o755)
	link := filepath.Join(root, "run")
	if err := os.Symlink(other, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if _, err := Listen(filepath.Join(link, "c.sock"), nil); err == nil {
		t.Error("Listen went through a link")
	}
	if fi, _ := os.Stat(other); fi.Mode().Perm() != 0o755 {
		t.Errorf("the link's target was changed: %v", fi.Mode().Perm())
	}
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		return // owners: root only
	}
	theirs := filepath.Join(root, "theirs")
	os.Mkdir(theirs, 0o755)
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(filepath.Join(theirs, "c.sock"), nil); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("Listen in another user's directory: %v", err)
	}
	if fi, _ := os.Stat(theirs); fi.Mode().Perm() != 0o755 {
		t.Errorf("another user's directory was changed: %v", fi.Mode().Perm())
	}
}

// TestServer_LongRequest: a request well past a read buffer's size (an
// alert for explain --alert, 40 KiB) is read whole.
func TestServer_LongRequest(t *testing.T) {
	s := serve(t, echo)
	long := strings.Repeat("a", 40<<10)
	var out struct{ Args []string }
	if err := Call(context.Background(), s.Path(), Request{Command: "explain", Args: []string{long}}, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Args) != 1 || out.Args[0] != long {
		t.Errorf("the long argument came back with %d args", len(out.Args))
	}
}

// TestServer_UnknownPeerRefused: where the OS names peers, a connection
// whose peer it cannot name is refused, not let through.
func TestServer_UnknownPeerRefused(t *testing.T) {
	askPeer = func(*net.UnixConn) (Peer, error) { return Peer{}, errors.New("no credentials") }
	t.Cleanup(func() { askPeer = peerOf })
	s := serve(t, func(context.Context, Peer, Request) (any, error) {
		t.Error("a request of an unknown peer reached the handler")
		return nil, nil
	})
	if err := Call(context.Background(), s.Path(), Request{Command: "list"}, nil); !errors.Is(err, ErrPermission) {
		t.Errorf("unknown peer: %v, want ErrPermission", err)
	}
}

// TestListenOver_TakesADryRunsSocket: the daemon that holds the store
// takes the socket from a dry run answering on it; the dry run's Close then
// leaves the daemon's socket alone.
func TestListenOver_TakesADryRunsSocket(t *testing.T) {
	dry := serve(t, func(context.Context, Peer, Request) (any, error) { return "dry", nil })
	real, err := ListenOver(dry.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- real.Serve(ctx, func(context.Context, Peer, Request) (any, error) { return "real", nil })
	}()
	defer func() { cancel(); <-done; real.Close() }()
	dry.Close()
	var who string
	if err := Call(context.Background(), real.Path(), Request{Command: "status"}, &who); err != nil || who != "real" {
		t.Errorf("after the dry run's Close: %q %v, want the real daemon's answer", who, err)
	}
}
