//go:build unix

package platform

import (
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// fixture is an install root with a helper script "fw" and a Runner.
type fixture struct {
	root, out string
	r         *Runner
	logs      *syncBuffer
}

func newFixture(t *testing.T, mode string) *fixture {
	t.Helper()
	root := t.TempDir()
	bin := filepath.Join(root, "active-response", "bin")
	for _, d := range []string{bin, filepath.Dir(ARLogPath(root))} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{root: root, out: t.TempDir(), logs: &syncBuffer{}}
	installHelper(t, bin, "fw", mode, f.out)
	f.r = &Runner{
		Root:          root,
		HandshakeWait: 5 * time.Second,
		TimeLimit:     10 * time.Second,
		WaitDelay:     300 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return f
}

func invocation(op engine.Op, msg string) engine.Invocation {
	return engine.Invocation{Command: engine.Command{Name: "fw", Executable: "fw"}, Op: op, Message: []byte(msg)}
}

// arMessages returns the messages of the lines in active-responses.log,
// which only the helper writes (see helperMain).
func (f *fixture) arMessages(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(ARLogPath(f.root))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		_, msg, ok := strings.Cut(line, " active-response/bin/fw: ")
		if !ok {
			t.Fatalf("malformed line %q", line)
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

// recorder is a CheckKeys that records its calls and answers verdict.
type recorder struct {
	mu      sync.Mutex
	calls   [][]string
	verdict engine.Verdict
	err     error
}

func (c *recorder) check(keys []string) (engine.Decision, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, keys)
	return engine.Decision{Verdict: c.verdict}, c.err
}

func noCheck(t *testing.T) engine.CheckKeys {
	return func(keys []string) (engine.Decision, error) {
		t.Errorf("check called with %q", keys)
		return engine.Decision{}, nil
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
}

func grandchild(t *testing.T, out string) int {
	t.Helper()
	var s string
	for range 50 { // the helper writes it right after start
		if s = recorded(t, out, "grandchild"); s != "" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		t.Fatalf("no grandchild pid recorded (%q)", s)
	}
	return pid
}

// assertGone waits briefly for pid to be dead: gone, or a zombie that nobody
// reaps (as under a container's init).
func assertGone(t *testing.T, pid int) {
	t.Helper()
	for range 100 {
		if syscall.Kill(pid, 0) == syscall.ESRCH || isZombie(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("grandchild %d survived the kill", pid)
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z") || strings.HasPrefix(rest, "X")
}
