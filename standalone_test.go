package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The stand-alone built-ins, as the real binary runs them under Wazuh's
// execd: installed as links named after the built-ins in a root's
// active-response/bin and started from elsewhere, they log to that root's
// logs/active-responses.log, exit as Wazuh's programs of the same name exit
// and print nothing. None of these cases reaches the firewall.

// standaloneRootDir makes an install root holding links to the binary named
// after names in active-response/bin, and returns the root.
func standaloneRootDir(t *testing.T, names ...string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("links to the binary: Unix only")
	}
	root := t.TempDir()
	bin := filepath.Join(root, "active-response", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.Symlink(binary, filepath.Join(bin, n)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// runStandalone runs argv (the prefix, e.g. "ip netns exec NS", then the
// program) with stdin from another working directory and returns its exit
// status, stdout and stderr.
func runStandalone(t *testing.T, argv []string, stdin string) (status int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = t.TempDir() // not the root: it is found from the executable
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		status = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return status, out.String(), errb.String()
}

var arStamp = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d `)

// arLines returns the lines of root's active-responses.log without their
// time stamps (each checked), and empties the file for the next case.
func arLines(t *testing.T, root string) []string {
	t.Helper()
	path := filepath.Join(root, "logs", "active-responses.log")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l == "" {
			continue
		}
		if !arStamp.MatchString(l) || !strings.HasSuffix(l, "\n") {
			t.Fatalf("not a line of active-responses.log: %q", l)
		}
		lines = append(lines, strings.TrimSuffix(arStamp.ReplaceAllString(l, ""), "\n"))
	}
	return lines
}

func execdMsg(command, prog, alert string) string {
	return fmt.Sprintf(`{"version":1,"origin":{"name":"node01","module":"wazuh-execd"},"command":%q,"parameters":{"extra_args":[],"alert":%s,"program":"active-response/bin/%s"}}`, command, alert, prog)
}

// TestStandalone_ExitStatusAndLog: the binary under a built-in's name, or
// as "threatlockdown ar NAME" from inside a root's active-response/bin,
// exits 255 where Wazuh's program exits OS_INVALID, 0 after an abort,
// writes Wazuh's lines to its own root's log and nothing to stderr.
func TestStandalone_ExitStatusAndLog(t *testing.T) {
	root := standaloneRootDir(t, "firewall-drop", "disable-account", "threatlockdown")
	bin := filepath.Join(root, "active-response", "bin")
	fd := filepath.Join(bin, "firewall-drop")
	addAlert := `{"rule":{"level":10,"id":"5712"},"data":{"srcip":"203.0.113.7"}}`
	add := execdMsg("add", "firewall-drop", addAlert)
	checkKeys := `{"version":1,"origin":{"name":"firewall-drop","module":"active-response"},"command":"check_keys","parameters":{"keys":["203.0.113.7"]}}`
	abort := execdMsg("abort", "firewall-drop", addAlert)
	noIP := execdMsg("add", "firewall-drop", `{"data":{"dstuser":"bob"}}`)
	loop := execdMsg("delete", "firewall-drop", `{"data":{"srcip":"127.0.0.1"}}`)
	rootUser := execdMsg("add", "disable-account", `{"data":{"dstuser":"root"}}`)
	tests := []struct {
		name   string
		argv   []string
		stdin  string
		status int
		stdout string
		log    []string // after "active-response/bin/NAME: "
	}{
		{"nothing on stdin", []string{fd}, "", 255, "", []string{"Starting", "Cannot read input from stdin"}},
		{"not JSON", []string{fd}, "hello\n", 255, "", []string{"Starting", "hello", "Invalid input format"}},
		{"no srcip", []string{fd}, noIP + "\n", 255, "", []string{"Starting", noIP, "Cannot read 'srcip' from data or invalid IP format"}},
		{"loopback", []string{fd}, loop + "\n", 255, "",
			[]string{"Starting", loop, "Refusing to block 127.0.0.1: it is this host's own address or not a single remote host"}},
		{"root", []string{filepath.Join(bin, "disable-account")}, rootUser + "\n", 255, "",
			[]string{"Starting", rootUser, "Cannot read 'dstuser' from data or invalid username format"}},
		{"execd hangs up", []string{fd}, add + "\n", 255, checkKeys + "\n",
			[]string{"Starting", add, checkKeys, "Cannot read input from stdin"}},
		{"abort", []string{fd}, add + "\n" + abort + "\n", 0, checkKeys + "\n",
			[]string{"Starting", add, checkKeys, abort, "Aborted"}},
		{"ar NAME", []string{filepath.Join(bin, "threatlockdown"), "ar", "firewall-drop"}, noIP + "\n", 255, "",
			[]string{"Starting", noIP, "Cannot read 'srcip' from data or invalid IP format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, stdout, stderr := runStandalone(t, tt.argv, tt.stdin)
			if status != tt.status || stdout != tt.stdout || stderr != "" {
				t.Errorf("status %d, stdout %q, stderr %q; want %d, %q and nothing", status, stdout, stderr, tt.status, tt.stdout)
			}
			name := "firewall-drop"
			if tt.name == "root" {
				name = "disable-account"
			}
			var want []string
			for _, l := range tt.log {
				want = append(want, "active-response/bin/"+name+": "+l)
			}
			if got := arLines(t, root); !slices.Equal(got, want) {
				t.Errorf("active-responses.log:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestStandalone_UnknownName: "ar" with a name that is no built-in is a
// command-line mistake, said on stderr.
func TestStandalone_UnknownName(t *testing.T) {
	status, stdout, stderr := runStandalone(t, []string{binary, "ar", "no-such-action"}, "")
	if status != 1 || stdout != "" || !strings.Contains(stderr, `no such built-in action: "no-such-action"`) {
		t.Errorf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
}

// TestStandalone_RefusesHostAddress: firewall-drop started stand-alone
// refuses an address of the host's own interfaces, read when it starts. It
// runs in a network namespace of its own, whose veth interface has the
// address, so that a failure could block nothing outside it.
func TestStandalone_RefusesHostAddress(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs Linux and root: a network namespace of its own")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	ns := fmt.Sprintf("tld-own-%d", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ip("-n", ns, "link", "add", "own0", "type", "veth", "peer", "name", "own1")
	ip("-n", ns, "addr", "add", "198.51.100.50/32", "dev", "own0")
	ip("-n", ns, "link", "set", "own0", "up")

	root := standaloneRootDir(t, "firewall-drop")
	msg := execdMsg("add", "firewall-drop", `{"data":{"srcip":"198.51.100.50"}}`)
	fd := filepath.Join(root, "active-response", "bin", "firewall-drop")
	status, stdout, stderr := runStandalone(t, []string{"ip", "netns", "exec", ns, fd}, msg+"\n")
	if status != 255 || stdout != "" || stderr != "" {
		t.Errorf("status %d, stdout %q, stderr %q; want 255 and nothing", status, stdout, stderr)
	}
	want := []string{"Starting", msg, "Refusing to block 198.51.100.50: it is this host's own address or not a single remote host"}
	for i := range want {
		want[i] = "active-response/bin/firewall-drop: " + want[i]
	}
	if got := arLines(t, root); !slices.Equal(got, want) {
		t.Errorf("active-responses.log:\n got %q\nwant %q", got, want)
	}
}

// TestStandaloneRoot: the root is two levels above the active-response/bin
// the executable was started from, links not resolved; else the working
// directory when it holds an install.
func TestStandaloneRoot(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix paths")
	}
	for _, c := range []struct{ argv0, want string }{
		{"/var/ossec/active-response/bin/firewall-drop", "/var/ossec"},
		{"/opt/bin-x/ossec/active-response/bin/route-null", "/opt/bin-x/ossec"}, // Wazuh cuts at the first "/bin": /opt
	} {
		if root, found := standaloneRoot(c.argv0); root != c.want || !found {
			t.Errorf("standaloneRoot(%q) = %q, %v; want %q", c.argv0, root, found, c.want)
		}
	}

	root := standaloneRootDir(t, "firewall-drop")
	t.Chdir(root)
	if got, found := standaloneRoot("active-response/bin/firewall-drop"); got != root || !found {
		t.Errorf("as execd starts it: %q, %v; want %q", got, found, root)
	}
	t.Setenv("PATH", filepath.Join(root, "active-response", "bin"))
	t.Chdir(t.TempDir())
	if got, found := standaloneRoot("firewall-drop"); got != root || !found {
		t.Errorf("found in PATH: %q, %v; want %q", got, found, root)
	}

	wd := t.TempDir()
	if err := os.Mkdir(filepath.Join(wd, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(wd)
	if got, found := standaloneRoot("/usr/sbin/threatlockdown"); got != wd || found {
		t.Errorf("outside any active-response/bin: %q, %v; want the working directory %q", got, found, wd)
	}
}
