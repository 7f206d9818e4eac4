package control

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestServer_OtherUserRefused runs a client as uid 65534 (nobody): the
// socket's directory keeps it out; with the modes opened wide, the server's
// peer check refuses it. Needs root (to switch user) and Linux (SO_PEERCRED).
func TestServer_OtherUserRefused(t *testing.T) {
	if os.Getenv("TLD_CONTROL_CLIENT") != "" {
		err := Call(context.Background(), os.Getenv("TLD_CONTROL_CLIENT"), Request{Command: "list"}, nil)
		if errors.Is(err, ErrPermission) {
			os.Exit(13)
		}
		os.Stderr.WriteString("client: " + errString(err))
		os.Exit(1)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs a client as another user")
	}
	s := serve(t, func(context.Context, Peer, Request) (any, error) {
		t.Error("a request of another user reached the handler")
		return nil, nil
	})
	bin := binaryFor(t, 65534)
	client := func() {
		t.Helper()
		cmd := exec.Command(bin, "-test.run", "^TestServer_OtherUserRefused$")
		cmd.Env = append(os.Environ(), "TLD_CONTROL_CLIENT="+s.Path())
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 13 {
			t.Errorf("client as nobody: %v, want permission denied\n%s", err, out)
		}
	}
	client() // kept out by the directory's mode
	for p := s.Path(); p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		os.Chmod(p, 0o777)
	}
	os.Chmod(s.Path(), 0o777)
	client() // through the open modes, refused by the peer check
}

// binaryFor copies the test binary where uid can run it.
func binaryFor(t *testing.T, uid int) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tld-control")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	raw, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "control.test")
	if err := os.WriteFile(bin, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func errString(err error) string {
	if err == nil {
		return "no error\n"
	}
	return err.Error() + "\n"
}
