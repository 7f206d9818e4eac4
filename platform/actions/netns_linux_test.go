package actions

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// requireRoot skips t, saying why it needs root, unless it runs as root
// with tools on PATH. CI runs as root with them installed, so there these
// tests run.
func requireRoot(t testing.TB, why string, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root: %s (CI runs it as root)", why)
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s on PATH (Debian: apt-get install iproute2 iputils-ping iptables nftables passwd)", tool)
		}
	}
}

var netnsSeq atomic.Int32

// testNetns is two network namespaces joined by a veth pair: a is the host
// under test, where blocks are made; b is the attacker. Addresses come from
// 198.51.100.0/24 and 2001:db8::/32 only; the process's own namespace is
// never touched.
type testNetns struct {
	a, b   string
	fd     int // a's namespace, for netlink sockets
	a4, b4 netip.Addr
	a6, b6 netip.Addr
}

// newTestNetns creates the pair and removes it when t ends.
func newTestNetns(t testing.TB) *testNetns {
	t.Helper()
	requireRoot(t, "creates network namespaces and firewall rules in them", "ip", "ping")
	p := fmt.Sprintf("tld%d-%d", os.Getpid(), netnsSeq.Add(1))
	n := &testNetns{
		a: p + "a", b: p + "b",
		a4: netip.MustParseAddr("198.51.100.1"), b4: netip.MustParseAddr("198.51.100.2"),
		a6: netip.MustParseAddr("2001:db8:5::1"), b6: netip.MustParseAddr("2001:db8:5::2"),
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", n.a).Run()
		exec.Command("ip", "netns", "del", n.b).Run()
	})
	steps := [][]string{
		{"netns", "add", n.a}, {"netns", "add", n.b},
		{"-n", n.a, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", n.b},
	}
	for _, side := range []struct {
		ns, dev string
		v4, v6  netip.Addr
	}{{n.a, "veth0", n.a4, n.a6}, {n.b, "veth1", n.b4, n.b6}} {
		steps = append(steps,
			[]string{"-n", side.ns, "addr", "add", side.v4.String() + "/24", "dev", side.dev},
			[]string{"-n", side.ns, "addr", "add", side.v6.String() + "/64", "dev", side.dev, "nodad"},
			[]string{"-n", side.ns, "link", "set", side.dev, "up"},
			[]string{"-n", side.ns, "link", "set", "lo", "up"})
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	fd, err := unix.Open("/run/netns/"+n.a, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	n.fd = fd
	return n
}

// ping reports whether one ping from b to addr (a's) is answered in wait.
func (n *testNetns) ping(addr netip.Addr, wait time.Duration) bool {
	w := fmt.Sprintf("%.1f", wait.Seconds())
	return exec.Command("ip", "netns", "exec", n.b, "ping", "-c1", "-q", "-W", w, addr.String()).Run() == nil
}

// reachable reports whether a answers b's pings at addr, allowing a few tries.
func (n *testNetns) reachable(addr netip.Addr) bool {
	for range 3 {
		if n.ping(addr, time.Second) {
			return true
		}
	}
	return false
}

// assertBlocked checks that a answers b at addr exactly when want is false.
func (n *testNetns) assertBlocked(t *testing.T, addr netip.Addr, want bool) {
	t.Helper()
	if want && n.ping(addr, 500*time.Millisecond) {
		t.Errorf("ping %s from the blocked peer passed", addr)
	}
	if !want && !n.reachable(addr) {
		t.Errorf("ping %s fails, want it to pass", addr)
	}
}

// run runs a command inside a and returns its output.
func (n *testNetns) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := n.exec().Run(context.Background(), name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// exec is an Execer running commands inside a.
func (n *testNetns) exec() Execer { return netnsExec{ns: n.a} }

type netnsExec struct{ ns string }

func (e netnsExec) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return OSExec{}.Run(ctx, "ip", append([]string{"netns", "exec", e.ns, name}, args...)...)
}

// countLines counts the lines of out equal to line.
func countLines(out, line string) int {
	n := 0
	for l := range strings.Lines(out) {
		if strings.TrimSpace(l) == line {
			n++
		}
	}
	return n
}
