//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2E_BuiltinFirewallDrop runs the daemon inside a network namespace of
// its own with no firewall-drop file in active-response/bin: the built-in
// runs in-process, puts the address in our nftables set, and the daemon's
// delete takes it out again on time (the kernel's own timeout is a minute
// later, so the element going away is the daemon's doing).
func TestE2E_BuiltinFirewallDrop(t *testing.T) {
	ns := newNetns(t, "tld-e2e")

	root := newRoot(t, `<ossec_config>
  <command>
    <name>firewall-drop</name>
    <executable>firewall-drop</executable>
    <timeout_allowed>yes</timeout_allowed>
  </command>
  <active-response>
    <command>firewall-drop</command>
    <location>local</location>
    <rules_id>5712</rules_id>
    <timeout>2</timeout>
  </active-response>
</ossec_config>
`)
	d := launch(t, root, exec.Command("ip", "netns", "exec", ns, binary, "run", "--root", root))
	d.alert("203.0.113.77", "7.1")
	set := func() string {
		out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "set", "inet", "threatlockdown", "blocked4").CombinedOutput()
		return string(out)
	}
	waitFor(t, d, "203.0.113.77 in the nftables set", func() bool { return strings.Contains(set(), "203.0.113.77") })
	added := time.Now()
	waitFor(t, d, "203.0.113.77 out of the set", func() bool { return !strings.Contains(set(), "203.0.113.77") })
	if took := time.Since(added); took > 3500*time.Millisecond {
		t.Errorf("unblocked %v after the block, want about 2 s", took)
	}
	arlog, _ := os.ReadFile(filepath.Join(root, "logs/active-responses.log"))
	for _, want := range []string{"active-response/bin/firewall-drop: ", `"command":"check_keys"`, `"command":"delete"`} {
		if !strings.Contains(string(arlog), want) {
			t.Errorf("active-responses.log lacks %s:\n%s", want, arlog)
		}
	}
}

// TestE2E_OwnAddressAddedWhileRunning: an address the host gets while the
// daemon runs is its own at once (rtnetlink tells the daemon; its periodic
// read is 10 s away), and an alert from it runs nothing.
func TestE2E_OwnAddressAddedWhileRunning(t *testing.T) {
	ns := newNetns(t, "tld-own")
	root := newRoot(t, confWith(60))
	d := launch(t, root, exec.Command("ip", "netns", "exec", ns, binary, "run", "--root", root))
	if out, err := exec.Command("ip", "-n", ns, "addr", "add", "198.51.100.200/32", "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("ip addr add: %v: %s", err, out)
	}
	waitLog(t, d, `msg="host addresses changed" component=host added=198.51.100.200 removed=""`)
	d.alert("198.51.100.200", "13.1")
	d.alert("203.0.113.31", "13.2")
	c := waitCalls(t, d, 1, 5*time.Second)
	wantCall(t, c, 0, "add 203.0.113.31 continue 13.2")
	if !strings.Contains(d.logs(), "reason=own_address") {
		t.Errorf("no own_address skip logged:\n%s", d.logs())
	}
}

func waitFor(t *testing.T, d *daemon, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; logs:\n%s", what, d.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2E_StandaloneAction drives the binary as Wazuh's execd would, over
// pipes, inside a network namespace: once as `threatlockdown ar route-null`
// and once through a link named firewall-drop (how packages install it into
// a Wazuh agent's active-response/bin).
func TestE2E_StandaloneAction(t *testing.T) {
	ns := newNetns(t, "tld-ar")
	root := newRoot(t, confWith(60))
	link := filepath.Join(root, "active-response/bin/firewall-drop")
	if err := os.Symlink(binary, link); err != nil {
		t.Fatal(err)
	}
	routes := func() string {
		out, _ := exec.Command("ip", "-n", ns, "route", "show", "table", "all", "type", "blackhole").CombinedOutput()
		return string(out)
	}
	set := func() string {
		out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "set", "inet", "threatlockdown", "blocked4").CombinedOutput()
		return string(out)
	}
	tests := []struct {
		name  string
		argv  []string
		state func() string
	}{
		{"ar route-null", []string{binary, "ar", "route-null"}, routes},
		{"argv[0] firewall-drop", []string{link}, set},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			execd(t, ns, root, tt.argv, "add", "203.0.113.88", true)
			if !strings.Contains(tt.state(), "203.0.113.88") {
				t.Fatalf("not blocked after add:\n%s", tt.state())
			}
			execd(t, ns, root, tt.argv, "delete", "203.0.113.88", false)
			if strings.Contains(tt.state(), "203.0.113.88") {
				t.Fatalf("still blocked after delete:\n%s", tt.state())
			}
		})
	}
}

// execd runs argv in ns with Wazuh's message for op on stdin and, for an
// add, answers its check_keys with continue.
func execd(t *testing.T, ns, root string, argv []string, op, ip string, handshake bool) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Dir = root
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprintf(`{"version":1,"origin":{"name":"node01","module":"wazuh-execd"},"command":%q,"parameters":{"extra_args":[],"alert":{"rule":{"level":10,"id":"5712"},"data":{"srcip":%q}},"program":"active-response/bin/x"}}`, op, ip)
	fmt.Fprintln(stdin, msg)
	if handshake {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.Contains(line, `"command":"check_keys"`) || !strings.Contains(line, ip) {
			t.Fatalf("no check_keys (%v): %q; stderr: %s", err, line, stderr.String())
		}
		fmt.Fprintln(stdin, strings.Replace(msg, `"command":"add"`, `"command":"continue"`, 1))
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v %s: %v; stderr: %s", argv, op, err, stderr.String())
	}
}

// newNetns creates a network namespace for the test and deletes it after;
// it skips the test without root or the tools it needs.
func newNetns(t *testing.T, prefix string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: works inside a network namespace it creates")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (apt-get install iproute2 nftables)", tool)
		}
	}
	ns := fmt.Sprintf("%s-%d", prefix, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	return ns
}

// TestE2E_DriftRepair flushes the daemon's nftables blocks behind its back,
// the way admins and config-management tools do, inside the daemon's own
// namespace: the whole ruleset, then one element, then the ruleset while
// the daemon is down. Each time the blocks come back within seconds, and
// the log names who removed them.
func TestE2E_DriftRepair(t *testing.T) {
	ns := newNetns(t, "tld-drift")
	root := newRoot(t, stormConf(600))
	os.Remove(filepath.Join(root, "active-response/bin/test-drop"))
	run := func() *daemon {
		return launch(t, root, exec.Command("ip", "netns", "exec", ns, binary, "run", "--root", root))
	}
	nft := func(args ...string) string {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...).CombinedOutput()
		if err != nil && args[0] != "list" {
			t.Fatalf("nft %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	addrs := []string{"203.0.113.31", "203.0.113.32", "198.51.100.33"}
	allBlocked := func() bool {
		set := nft("list", "set", "inet", "threatlockdown", "blocked4")
		for _, a := range addrs {
			if !strings.Contains(set, a) {
				return false
			}
		}
		return true
	}
	d := run()
	for i, a := range addrs {
		d.alert(a, fmt.Sprintf("9.%d", i))
	}
	waitFor(t, d, "the blocks", allBlocked)

	nft("flush", "ruleset")
	waitFor(t, d, "the blocks back after nft flush ruleset", allBlocked)
	waitLog(t, d, "drift repaired")
	if !strings.Contains(d.logs(), "removed_by=nft[") {
		t.Errorf("the log does not name nft as the remover:\n%s", d.logs())
	}

	nft("delete", "element", "inet", "threatlockdown", "blocked4", "{ 203.0.113.32 }")
	waitFor(t, d, "the element back after nft delete element", allBlocked)

	stopDaemon(t, d)
	nft("flush", "ruleset")
	d = run()
	waitFor(t, d, "the blocks back at start after a flush while down", allBlocked)
}

// TestE2E_StoreBoundedByActiveState sends 200,000 alerts over the same
// 1,000 attackers (the built-in firewall-drop, in a namespace): the store's
// file must not grow with the alerts, only with what is active, so its size
// after all of them is within 10% of its size after the first 20,000.
func TestE2E_StoreBoundedByActiveState(t *testing.T) {
	ns := newNetns(t, "tld-bound")
	conf := markerConf(stormConf(3600))
	root := newRoot(t, conf)
	write(t, filepath.Join(root, "active-response/bin/test-drop"), markerScript, 0o755)
	d := launch(t, root, exec.Command("ip", "netns", "exec", ns, binary, "run", "--root", root))
	db := filepath.Join(root, "var/db/threatlockdown.db")
	send := func(from, to int, mark string) int64 {
		var b strings.Builder
		for i := from; i < to; i++ {
			b.WriteString(sshdAlert(stormAddr(i%1000), fmt.Sprintf("1700000000.%d", i), i))
			b.WriteByte('\n')
		}
		b.WriteString(markerAlert(mark))
		appendAlertsT(t, root, b.String())
		waitFor(t, d, "the marker "+mark, func() bool {
			_, err := os.Stat(filepath.Join(root, mark))
			return err == nil
		})
		fi, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	first := send(0, 20_000, "999.1")
	for i := 1; i < 10; i++ {
		send(i*20_000, (i+1)*20_000, fmt.Sprintf("999.%d", i+1))
	}
	last, _ := os.Stat(db)
	t.Logf("store after 20,000 alerts: %d bytes; after 200,000: %d bytes", first, last.Size())
	if float64(last.Size()) > 1.1*float64(first) {
		t.Errorf("the store grew from %d to %d bytes over 200,000 alerts of 1,000 attackers", first, last.Size())
	}
}

// appendAlertsT writes lines to the root's alerts.json in one write.
func appendAlertsT(t *testing.T, root, lines string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(root, "logs/alerts/alerts.json"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines); err != nil {
		t.Fatal(err)
	}
}
