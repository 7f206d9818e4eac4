package platform

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the active-response scripts (os/exec's helper
// process pattern): a wrapper in active-response/bin execs it with
// TLD_HELPER_MODE naming the behaviour and TLD_HELPER_OUT a directory where it
// records what it saw.
const (
	envMode  = "TLD_HELPER_MODE"
	envOut   = "TLD_HELPER_OUT"
	envArgv0 = "TLD_HELPER_ARGV0" // the wrapper's $0: how it was started
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envMode); mode != "" {
		os.Exit(helperMain(mode, os.Getenv(envOut)))
	}
	os.Exit(m.Run())
}

// helperCheckKeys is what the helper scripts send, as firewall-drop would.
const helperCheckKeys = `{"version":1,"origin":{"name":"fw","module":"active-response"},"command":"check_keys","parameters":{"keys":["1.2.3.4"]}}`

func helperMain(mode, out string) int {
	in := bufio.NewReader(os.Stdin)
	rec := func(name, s string) { _ = os.WriteFile(filepath.Join(out, name), []byte(s), 0o644) }
	switch mode {
	case "handshake", "garbage":
		// Like Wazuh's programs, it logs its own lines to
		// active-responses.log, named by argv[0].
		rec("argv0", os.Getenv(envArgv0))
		msg := readLine(in)
		rec("message", msg)
		arLine(msg)
		if mode == "garbage" {
			fmt.Println("this is not json")
			fmt.Println(`{"version":1,"command":"hello","parameters":{}}`)
		}
		fmt.Println(helperCheckKeys)
		answer := readLine(in)
		rec("answer", answer)
		arLine(answer)
		rest, _ := io.ReadAll(in) // returns only once stdin is closed
		rec("rest", string(rest))
	case "silent":
		rec("message", readLine(in))
	case "record":
		rec("argv0", os.Getenv(envArgv0))
		wd, _ := os.Getwd()
		rec("wd", wd)
		rec("args", strings.Join(os.Args[1:], "\n"))
		all, _ := io.ReadAll(in)
		rec("stdin", string(all))
	case "env":
		rec("env", strings.Join(os.Environ(), "\n"))
	case "readall":
		all, _ := io.ReadAll(in)
		rec("stdin", string(all))
		fmt.Println(helperCheckKeys)
		rec("answer", readLine(in))
	case "crash":
		fmt.Fprintln(os.Stderr, "boom: the disk is on fire")
		return 3
	case "hang", "stray":
		rec("grandchild", strconv.Itoa(startGrandchild()))
		if mode == "hang" {
			time.Sleep(time.Hour)
		}
	case "sleep":
		time.Sleep(30 * time.Second)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
		return 2
	}
	return 0
}

// arLine appends msg to active-responses.log under the working directory
// (the install root), named by the helper's argv[0] as Wazuh's programs do.
func arLine(msg string) {
	f, err := os.OpenFile(ARLogPath("."), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s: %s\n", time.Now().Format(arTimeLayout), os.Getenv(envArgv0), strings.TrimSuffix(msg, "\n"))
}

func readLine(r *bufio.Reader) string {
	s, _ := r.ReadString('\n')
	return s
}

// startGrandchild starts a sleeping copy of the helper that shares stdout (a
// pipe to the runner) and the process group, and returns its pid.
func startGrandchild() int {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envMode+"=sleep")
	cmd.Stdout = os.Stdout
	if err := cmd.Start(); err != nil {
		return -1
	}
	return cmd.Process.Pid
}

// installHelper writes active-response/bin/<name>, a shell wrapper that runs
// the test binary in mode, recording into out.
func installHelper(t *testing.T, binDir, name, mode, out string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// GORACE: a race-enabled helper would otherwise sleep a second at exit.
	script := fmt.Sprintf("#!/bin/sh\n%s=%s %s=%s %s=\"$0\" GORACE=atexit_sleep_ms=0\nexport %s %s %s GORACE\nexec %s \"$@\"\n",
		envMode, shQuote(mode), envOut, shQuote(out), envArgv0, envMode, envOut, envArgv0, shQuote(exe))
	if err := os.WriteFile(filepath.Join(binDir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// recorded returns what the helper recorded under name, "" when nothing.
func recorded(t *testing.T, out, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}
