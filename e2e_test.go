package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests run the daemon on a temporary root with a
// Wazuh-style shell script in active-response/bin, and append alerts to
// alerts.json as analysisd would. Most run it in-process (Open, Run,
// Close: see inprocess_test.go), so the race detector covers them; those
// about the process itself (kill -9, exit codes, signals, network
// namespaces) build and run the real binary.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tld-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "threatlockdown")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// arScript is an active-response script written the way Wazuh's are: read
// the message, send check_keys with the source address, act on the answer,
// and log the messages to active-responses.log named by its argv[0].
// It appends what it did to $ROOT/calls.log.
const arScript = `#!/bin/sh
read -r msg
arlog() { echo "$(date '+%Y/%m/%d %H:%M:%S') $0: $1" >> logs/active-responses.log; }
arlog "$msg"
cmd=$(printf '%s' "$msg" | sed -n 's/^{"version":1,"origin":{[^}]*},"command":"\([a-z_]*\)".*/\1/p')
ip=$(printf '%s' "$msg" | sed -n 's/.*"srcip":"\([^"]*\)".*/\1/p')
id=$(printf '%s' "$msg" | sed -n 's/.*"id":"\([0-9.]*\)".*/\1/p')
if [ "$cmd" = add ]; then
  printf '{"version":1,"origin":{"name":"test-ar","module":"active-response"},"command":"check_keys","parameters":{"keys":["%s"]}}\n' "$ip"
  read -r answer
  arlog "$answer"
  verdict=$(printf '%s' "$answer" | sed -n 's/.*"command":"\(continue\|abort\)".*/\1/p')
  if [ -e hold ]; then
    # Hold after the answer, before acting; if the daemon dies meanwhile,
    # die without acting, as a script that read end-of-file does.
    echo "$ip" > held
    while [ -e hold ] && kill -0 "$PPID" 2>/dev/null; do sleep 0.05; done
    kill -0 "$PPID" 2>/dev/null || { echo "$ip" > gone; exit 1; }
  fi
  echo "$(date +%s.%N) add $ip $verdict $id" >> calls.log
else
  echo "$(date +%s.%N) $cmd $ip $id" >> calls.log
fi
`

func confWith(timeout int) string { return confFor("test-drop", timeout) }

// confFor is an ossec.conf running executable with timeout on rule 5712
// (sshd brute force), locally.
func confFor(executable string, timeout int) string {
	return fmt.Sprintf(`<ossec_config>
  <command>
    <name>%[1]s</name>
    <executable>%[1]s</executable>
    <timeout_allowed>yes</timeout_allowed>
  </command>
  <active-response>
    <command>%[1]s</command>
    <location>local</location>
    <rules_id>5712</rules_id>
    <timeout>%[2]d</timeout>
  </active-response>
</ossec_config>
`, executable, timeout)
}

type daemon struct {
	t      testing.TB
	root   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	ready  chan struct{}

	// In-process daemons (startInProcess) have no cmd.
	main *Main
	stop func() error
	// limits are the memory limits the daemon set (in-process: recorded,
	// not set); limitSet is nudged at each.
	limits   []int64
	limitSet chan struct{}
}

// setMemoryLimit records what an in-process daemon would set as the
// process's memory limit and returns the previous one, as
// debug.SetMemoryLimit does.
func (d *daemon) setMemoryLimit(limit int64) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	prev := int64(math.MaxInt64)
	if n := len(d.limits); n > 0 {
		prev = d.limits[n-1]
	}
	d.limits = append(d.limits, limit)
	select {
	case d.limitSet <- struct{}{}:
	default:
	}
	return prev
}

func newRoot(t testing.TB, conf string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"etc", "logs/alerts", "active-response/bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(root, "etc/ossec.conf"), conf, 0o644)
	write(t, filepath.Join(root, "active-response/bin/test-drop"), arScript, 0o755)
	write(t, filepath.Join(root, "logs/alerts/alerts.json"), "", 0o644)
	return root
}

func write(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func startDaemon(t *testing.T, root string, args ...string) *daemon {
	t.Helper()
	return launch(t, root, exec.Command(binary, append([]string{"run", "--root", root, "--log-level", "debug"}, args...)...))
}

// launch starts cmd, a daemon on root, and waits until it logs msg=ready.
func launch(t testing.TB, root string, cmd *exec.Cmd) *daemon {
	t.Helper()
	d := &daemon{t: t, root: root, cmd: cmd, ready: make(chan struct{})}
	pipe, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go d.read(pipe)
	t.Cleanup(func() { d.cmd.Process.Kill(); d.cmd.Wait() })
	select {
	case <-d.ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("daemon not ready:\n%s", d.logs())
	}
	return d
}

func (d *daemon) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	ready := false
	for sc.Scan() {
		d.mu.Lock()
		d.stderr.Write(sc.Bytes())
		d.stderr.WriteByte('\n')
		d.mu.Unlock()
		if !ready && strings.Contains(sc.Text(), "msg=ready") {
			ready = true
			close(d.ready)
		}
	}
}

func (d *daemon) logs() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.String()
}

// alert appends one sshd brute-force alert for srcip.
func (d *daemon) alert(srcip, id string) {
	d.t.Helper()
	d.alertRule(srcip, id, "5712")
}

// alertRule appends one sshd alert of rule ruleID for srcip.
func (d *daemon) alertRule(srcip, id, ruleID string) {
	d.t.Helper()
	f, err := os.OpenFile(filepath.Join(d.root, "logs/alerts/alerts.json"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, `{"timestamp":"2026-11-23T12:00:00.000+0000","rule":{"level":10,"id":%q,"groups":["syslog","sshd","authentication_failures"]},"agent":{"id":"000","name":"local"},"id":%q,"full_log":"Invalid user paco from %s","data":{"srcip":%q,"srcuser":"paco"},"location":"/var/log/secure"}`+"\n", ruleID, id, srcip, srcip)
}

// call is one line of calls.log.
type call struct {
	at   time.Time
	what string
}

func calls(t *testing.T, root string) []call {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "calls.log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []call
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue // the script's shell created the file and has not written yet
		}
		ts, what, _ := strings.Cut(l, " ")
		var sec, nsec int64
		fmt.Sscanf(strings.Replace(ts, ".", " ", 1), "%d %d", &sec, &nsec)
		out = append(out, call{at: time.Unix(sec, nsec), what: what})
	}
	return out
}

// waitCalls waits until calls.log has n lines and returns them.
func waitCalls(t *testing.T, d *daemon, n int, within time.Duration) []call {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c := calls(t, d.root)
		if len(c) >= n {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls after %v, want %d: %v\nlogs:\n%s", len(c), within, n, c, d.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantCall(t *testing.T, c []call, i int, what string) {
	t.Helper()
	if c[i].what != what {
		t.Errorf("call %d = %q, want %q", i, c[i].what, what)
	}
}

func TestE2E_AddAbortDelete(t *testing.T) {
	root := newRoot(t, confWith(2))
	d := startInProcess(t, root)
	d.alert("203.0.113.5", "1.1")
	c := waitCalls(t, d, 1, 5*time.Second)
	wantCall(t, c, 0, "add 203.0.113.5 continue 1.1")

	time.Sleep(time.Second)
	d.alert("203.0.113.5", "1.2") // active: abort, and the timer restarts from now
	c = waitCalls(t, d, 2, 5*time.Second)
	wantCall(t, c, 1, "add 203.0.113.5 abort 1.2")

	c = waitCalls(t, d, 3, 5*time.Second)
	wantCall(t, c, 2, "delete 203.0.113.5 1.1") // the first add's alert
	// calls.log stamps each run as it ends, a few ms after the decision.
	if late := c[2].at.Sub(c[1].at); late < 1800*time.Millisecond || late > 3*time.Second {
		t.Errorf("delete %v after the re-trigger, want 2 s (+1 s)", late)
	}

	// Each line once, the script's own, named as Wazuh's ar_log_json
	// decoder reads it: the daemon writes none.
	arlog, err := os.ReadFile(filepath.Join(root, "logs/active-responses.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(arlog), "\n"), "\n")
	arLogJSON := regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d active-response/bin/test-drop: \{"version":1,"origin":\{"name":[^}]*\},"command":"([a-z]+)"`)
	var cmds []string
	for _, l := range lines {
		m := arLogJSON.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("active-responses.log line not the script's as ar_log_json reads it: %q", l)
			continue
		}
		cmds = append(cmds, m[1])
	}
	if got, want := strings.Join(cmds, " "), "add continue add abort delete"; got != want {
		t.Errorf("active-responses.log holds %q, want each message once: %q\n%s", got, want, arlog)
	}
	start := time.Now()
	if err := d.stop(); err != nil {
		t.Errorf("stop: %v\n%s", err, d.logs())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stopped %v after its context ended, want within 5 s", took)
	}
}

// TestE2E_SIGTERMStops: the binary stops within a few seconds of SIGTERM,
// exit status 0, with a revert pending (it stays for the next start).
func TestE2E_SIGTERMStops(t *testing.T) {
	root := newRoot(t, confWith(60))
	d := startDaemon(t, root)
	d.alert("203.0.113.4", "0.1")
	waitCalls(t, d, 1, 5*time.Second)
	d.sigterm(5 * time.Second)
}

// sigterm stops the daemon's process with SIGTERM and fails the test unless
// it exits cleanly within limit.
func (d *daemon) sigterm(limit time.Duration) {
	d.t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			d.t.Fatalf("exit after SIGTERM: %v\n%s", err, d.logs())
		}
	case <-time.After(limit):
		d.t.Fatalf("not stopped %s after SIGTERM", limit)
	}
}

// TestE2E_KillDashNineBeforeTheScriptActs kills the daemon after a script
// heard continue but before it blocked; the script dies with it. The next
// start runs the add again and the script hears continue again.
func TestE2E_KillDashNineBeforeTheScriptActs(t *testing.T) {
	root := newRoot(t, confWith(60))
	write(t, filepath.Join(root, "hold"), "", 0o644)
	d := startDaemon(t, root)
	d.alert("203.0.113.16", "2.5")
	waitFile(t, filepath.Join(root, "held"), 5*time.Second)
	d.cmd.Process.Kill()
	d.cmd.Wait()
	waitFile(t, filepath.Join(root, "gone"), 5*time.Second)
	if c := calls(t, root); len(c) != 0 {
		t.Fatalf("the script acted before the kill: %v", c)
	}
	os.Remove(filepath.Join(root, "hold"))

	d = startDaemon(t, root)
	c := waitCalls(t, d, 1, 5*time.Second)
	wantCall(t, c, 0, "add 203.0.113.16 continue 2.5")
}

// waitFile waits until path exists.
func waitFile(t *testing.T, path string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", path, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestE2E_KillDashNineKeepsReverts(t *testing.T) {
	root := newRoot(t, confWith(4))
	d := startDaemon(t, root)
	d.alert("203.0.113.6", "2.1")
	c := waitCalls(t, d, 1, 5*time.Second)
	wantCall(t, c, 0, "add 203.0.113.6 continue 2.1")
	waitLog(t, d, `msg="job done"`) // else the add runs again after the kill: at least once
	d.cmd.Process.Kill()            // kill -9 while the revert is pending
	d.cmd.Wait()

	d = startDaemon(t, root)
	c = waitCalls(t, d, 2, 8*time.Second)
	wantCall(t, c, 1, "delete 203.0.113.6 2.1")
	if late := c[1].at.Sub(c[0].at); late < 3800*time.Millisecond || late > 5*time.Second {
		t.Errorf("delete %v after the add, want 4 s (+1 s)", late)
	}
	// Nothing acted on twice: the alert is not read again after the restart.
	time.Sleep(300 * time.Millisecond)
	if c := calls(t, root); len(c) != 2 {
		t.Errorf("calls after restart: %v", c)
	}
}

func TestE2E_ExpiredWhileDownDeletedAtStart(t *testing.T) {
	root := newRoot(t, confWith(1))
	d := startDaemon(t, root)
	d.alert("198.51.100.6", "3.1")
	waitCalls(t, d, 1, 5*time.Second)
	waitLog(t, d, `msg="job done"`) // else the add runs again after the kill: at least once
	d.cmd.Process.Kill()
	d.cmd.Wait()
	time.Sleep(1500 * time.Millisecond)

	start := time.Now()
	d = startDaemon(t, root)
	c := waitCalls(t, d, 2, 5*time.Second)
	wantCall(t, c, 1, "delete 198.51.100.6 3.1")
	if late := c[1].at.Sub(start); late > 2*time.Second {
		t.Errorf("expired revert ran %v after start", late)
	}
}

func TestE2E_AlertsWhileDownAreRead(t *testing.T) {
	root := newRoot(t, confWith(60))
	d := startInProcess(t, root)
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	d.alert("203.0.113.8", "4.1") // written while the daemon is down
	d = startInProcess(t, root)
	c := waitCalls(t, d, 1, 5*time.Second)
	wantCall(t, c, 0, "add 203.0.113.8 continue 4.1")
}

func TestE2E_HostileAndMalformedAlerts(t *testing.T) {
	root := newRoot(t, confWith(60))
	d := startInProcess(t, root)
	d.alert("1.2.3.4;rm -rf /", "5.1")
	d.alert("$(reboot)", "5.2")
	f, _ := os.OpenFile(filepath.Join(root, "logs/alerts/alerts.json"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{not json\n\x00\x01\x02garbage\n" + strings.Repeat("x", 200_000) + "\n")
	f.Close()
	d.alert("203.0.113.9", "5.3")
	c := waitCalls(t, d, 1, 5*time.Second)
	wantCall(t, c, 0, "add 203.0.113.9 continue 5.3")
	logs := d.logs()
	for _, want := range []string{"reason=invalid_srcip", "skipping malformed alert"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}
}

func TestE2E_ConfigReload(t *testing.T) {
	root := newRoot(t, confWith(60))
	d := startInProcess(t, root)
	write(t, filepath.Join(root, "etc/ossec.conf"), "<ossec_config><command><name>x</name>", 0o644)
	waitLog(t, d, "config invalid; keeping the running config")
	d.alert("203.0.113.10", "6.1")
	waitCalls(t, d, 1, 5*time.Second) // the old config still runs

	write(t, filepath.Join(root, "etc/ossec.conf"), strings.Replace(confWith(60), "5712", "5713", 1), 0o644)
	waitLog(t, d, "config reloaded")
	d.alert("203.0.113.11", "6.2") // rule 5712 no longer triggers
	d.alertRule("203.0.113.12", "6.3", "5713")
	c := waitCalls(t, d, 2, 5*time.Second) // alerts are matched in order
	wantCall(t, c, 1, "add 203.0.113.12 continue 6.3")
	if len(c) != 2 {
		t.Errorf("calls after reload: %v", c)
	}
}

// TestE2E_EmptyConfigIsInvalid: an editor that truncates ossec.conf before
// writing it must not lift every response and the white list. An empty file
// is refused on reload (the running config stays) and at start; a file that
// says so with an empty <ossec_config> does remove every response.
func TestE2E_EmptyConfigIsInvalid(t *testing.T) {
	root := newRoot(t, confWith(60))
	conf := filepath.Join(root, "etc/ossec.conf")
	d := startInProcess(t, root)
	write(t, conf, "", 0o644)
	waitLog(t, d, "config invalid; keeping the running config")
	if !strings.Contains(d.logs(), conf+":1: the file is empty") {
		t.Errorf("no PATH:LINE problem for the empty file:\n%s", d.logs())
	}
	d.alert("203.0.113.12", "9.1")
	c := waitCalls(t, d, 1, 5*time.Second) // the old config still runs
	wantCall(t, c, 0, "add 203.0.113.12 continue 9.1")

	out, err := exec.Command(binary, "run", "--root", root).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.HasPrefix(string(out), conf+":1: ") {
		t.Errorf("start on an empty ossec.conf: %v, output %q; want exit 1 with %s:1: ...", err, out, conf)
	}

	write(t, conf, "<ossec_config/>\n", 0o644)
	waitLog(t, d, "config reloaded")
	if !strings.Contains(d.logs(), "no active response left") {
		t.Errorf("removing every response is not called out:\n%s", d.logs())
	}
}

// TestE2E_UnsafeScriptRefused: a world-writable script is named at start
// and refused when an alert triggers it; once fixed it runs, and the
// refused alert is not run after the fact.
func TestE2E_UnsafeScriptRefused(t *testing.T) {
	root := newRoot(t, confWith(60))
	script := filepath.Join(root, "active-response/bin/test-drop")
	if err := os.Chmod(script, 0o777); err != nil {
		t.Fatal(err)
	}
	d := startInProcess(t, root)
	refusal := script + ": refused as unsafe: writable by its group and by others (mode 0777)"
	if !strings.Contains(d.logs(), refusal) {
		t.Errorf("the start does not name the unsafe script:\n%s", d.logs())
	}
	d.alert("203.0.113.20", "10.1")
	waitLog(t, d, `command=test-drop executable=test-drop op=add err="command not started: `+refusal)

	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	d.alert("203.0.113.21", "10.2")
	c := waitCalls(t, d, 1, 5*time.Second)
	wantCall(t, c, 0, "add 203.0.113.21 continue 10.2")
	if len(c) != 1 {
		t.Errorf("calls: %v, want only the second alert's", c)
	}
}

// TestE2E_AllowAnyOwner: a script owned by another user is refused, unless
// the daemon runs with --allow-any-owner (containers).
func TestE2E_AllowAnyOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: gives the script to another user")
	}
	root := newRoot(t, confWith(60))
	script := filepath.Join(root, "active-response/bin/test-drop")
	if err := os.Chown(script, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	d := startInProcess(t, root)
	d.alert("203.0.113.22", "11.1")
	waitLog(t, d, "refused as unsafe: owned by uid 65534, not by root or the daemon's user (uid 0)")
	waitLog(t, d, `msg="command failed"`)
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}

	d = startInProcess(t, root, "--allow-any-owner")
	d.alert("203.0.113.23", "11.2")
	c := waitCalls(t, d, 1, 5*time.Second)
	wantCall(t, c, 0, "add 203.0.113.23 continue 11.2")
}

// TestE2E_NeverBlocksTheHost: alerts whose source is this host (an address
// of its interfaces, loopback in any form) run nothing; they are logged
// with reason own_address.
func TestE2E_NeverBlocksTheHost(t *testing.T) {
	root := newRoot(t, confWith(60))
	d := startInProcess(t, root)
	srcips := []string{"127.0.0.1", "::1", "::ffff:127.0.0.1", "0.0.0.0"}
	if own := hostAddr(t); own != "" {
		srcips = append(srcips, own)
	}
	for i, ip := range srcips {
		d.alert(ip, fmt.Sprintf("12.%d", i))
	}
	d.alert("203.0.113.30", "12.9")
	c := waitCalls(t, d, 1, 5*time.Second) // alerts are matched in order
	wantCall(t, c, 0, "add 203.0.113.30 continue 12.9")
	if len(c) != 1 {
		t.Errorf("calls: %v, want only 203.0.113.30's", c)
	}
	logs := strings.Split(d.logs(), "\n")
	for _, ip := range srcips {
		if !slices.ContainsFunc(logs, func(l string) bool {
			return strings.Contains(l, "reason=own_address command=test-drop") && strings.Contains(l, " srcip="+ip+" ")
		}) {
			t.Errorf("no own_address skip logged for %s:\n%s", ip, d.logs())
		}
	}
}

// hostAddr returns an address of one of this machine's interfaces that is
// not loopback or link-local, "" when it has none.
func hostAddr(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

func waitLog(t *testing.T, d *daemon, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(d.logs(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in logs:\n%s", s, d.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestE2E_CheckReportsLines(t *testing.T) {
	root := newRoot(t, "<ossec_config>\n<active-response>\n<command>nope</command>\n<location>local</location>\n</active-response>\n</ossec_config>\n")
	out, err := exec.Command(binary, "check", "--root", root).CombinedOutput()
	if err == nil {
		t.Fatalf("check passed a broken config:\n%s", out)
	}
	want := filepath.Join(root, "etc/ossec.conf") + ":3: "
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("check output %q, want it to start with %q", out, want)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("exit %v, want 1", err)
	}
}

func TestE2E_FirstRunLaysOutRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "fresh")
	d := startInProcess(t, root, "--dry-run")
	if !strings.Contains(d.logs(), "laid out a new root with the embedded default") {
		t.Errorf("no layout message:\n%s", d.logs())
	}
	out, err := exec.Command(binary, "check", "--root", root).CombinedOutput()
	if err != nil {
		t.Fatalf("the embedded default does not check: %v\n%s", err, out)
	}
}

// TestE2E_DryRun: the daemon's --dry-run runs no script, logs which would
// run with the key it plays, and writes no active-responses.log.
func TestE2E_DryRun(t *testing.T) {
	root := newRoot(t, confWith(60))
	d := startInProcess(t, root, "--dry-run")
	d.alert("203.0.113.45", "9.1")
	script := filepath.Join(root, "active-response", "bin", "test-drop")
	waitLog(t, d, `msg="dry run: check_keys" component=runner executable=test-drop op=add protocol=json path=`+script+` keys=[203.0.113.45] verdict=continue`)
	if c := calls(t, root); c != nil {
		t.Errorf("the script ran: %v", c)
	}
	if _, err := os.Stat(filepath.Join(root, "logs", "active-responses.log")); !os.IsNotExist(err) {
		t.Errorf("a dry run touched active-responses.log (%v)", err)
	}
}

// TestE2E_DryRunBesideADaemon: the control socket lives in a directory of
// its own, and var/run, which on a Wazuh host is Wazuh's (root:wazuh 0770),
// keeps its mode. A dry run started beside the daemon leaves the daemon's
// socket alone; a daemon started beside a dry run takes it over. Either
// way the CLI reaches the daemon, also once the dry run has stopped.
func TestE2E_DryRunBesideADaemon(t *testing.T) {
	root := newRoot(t, confWith(60))
	run := filepath.Join(root, "var", "run")
	os.MkdirAll(run, 0o770)
	os.Chmod(run, 0o770)
	daemonAnswers := func(when string) {
		t.Helper()
		var st statusView
		tldJSON(t, root, &st, "status")
		if st.DryRun {
			t.Errorf("%s: the dry run answered status", when)
		}
	}

	d := startInProcess(t, root)
	for path, want := range map[string]os.FileMode{run: 0o770, filepath.Join(run, "threatlockdown"): 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	dry := startInProcess(t, root, "--dry-run")
	if !strings.Contains(dry.logs(), "this dry run has none") {
		t.Errorf("the dry run did not say it goes without a socket:\n%s", dry.logs())
	}
	daemonAnswers("beside a dry run started second")
	dry.stop()
	daemonAnswers("after the dry run stopped")
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}

	dry = startInProcess(t, root, "--dry-run")
	d = startInProcess(t, root)
	if !strings.Contains(d.logs(), "a dry run answered on it; taken over") {
		t.Errorf("the daemon did not say it took the socket over:\n%s", d.logs())
	}
	daemonAnswers("beside a dry run started first")
	dry.stop()
	daemonAnswers("after the dry run started first stopped")
}

func TestE2E_SeveralAlertsFilesAndTextFormat(t *testing.T) {
	root := newRoot(t, confWith(60))
	jsonPath := filepath.Join(root, "logs/alerts/alerts.json")
	textPath := filepath.Join(root, "logs/alerts/alerts.log")
	write(t, textPath, "", 0o644)
	d := startInProcess(t, root, "--alerts", jsonPath, "--alerts", textPath)
	f, err := os.OpenFile(textPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "** Alert 1763900000.1: - syslog,sshd,\n2026 Nov 23 12:00:00 localhost->/var/log/secure\n"+
		"Rule: 5712 (level 10) -> 'sshd: brute force'\nSrc IP: 198.51.100.44\nInvalid user paco from 198.51.100.44\n\n")
	f.Close()
	c := waitCalls(t, d, 1, 5*time.Second)
	wantCall(t, c, 0, "add 198.51.100.44 continue 1763900000.1")
	d.alert("203.0.113.44", "8.2")
	c = waitCalls(t, d, 2, 5*time.Second)
	wantCall(t, c, 1, "add 203.0.113.44 continue 8.2")
}

// TestE2E_Metrics runs the daemon with --metrics and scrapes it after an
// alert: the wiring from the daemon to the endpoint.
func TestE2E_Metrics(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	root := newRoot(t, confWith(60))
	d := startDaemon(t, root, "--metrics", addr)
	d.alert("203.0.113.41", "8.1")
	waitCalls(t, d, 1, 5*time.Second)
	want := []string{
		`threatlockdown_alerts_matched_total 1`,
		`threatlockdown_commands_total{command="test-drop",op="add",outcome="continue"} 1`,
		`threatlockdown_active_responses{command="test-drop"} 1`,
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		missing := ""
		for _, w := range want {
			if !strings.Contains(string(body), w+"\n") {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %s (err %v):\n%s", missing, err, body)
		}
		time.Sleep(50 * time.Millisecond) // a poll of the endpoint, which updates after the run
	}
}
