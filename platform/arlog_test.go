package platform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestARLog_Format(t *testing.T) {
	l, path := openTestARLog(t)
	p := l.Programs(nil)
	for _, msg := range []string{"Starting", `{"a":1}` + "\n", "two\nlines\r\n", ""} {
		p.Line("active-response/bin/firewall-drop", msg)
	}
	want := "2025/01/02 03:04:05 active-response/bin/firewall-drop: Starting\n" +
		"2025/01/02 03:04:05 active-response/bin/firewall-drop: {\"a\":1}\n" +
		"2025/01/02 03:04:05 active-response/bin/firewall-drop: two lines\n" +
		"2025/01/02 03:04:05 active-response/bin/firewall-drop: \n"
	if got := readFile(t, path); got != want {
		t.Errorf("file =\n%s\nwant\n%s", got, want)
	}
}

func TestARLog_LocalTime(t *testing.T) {
	l, path := openTestARLog(t)
	at := time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)
	l.Now = func() time.Time { return at }
	l.Programs(nil).Line("x", "m")
	if got, want := readFile(t, path), at.Local().Format("2006/01/02 15:04:05")+" x: m\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestARLogPath: Wazuh keeps the file in logs/ on Unix and in
// active-response\ on Windows.
func TestARLogPath(t *testing.T) {
	if got := arLogDir("windows"); got != "active-response" {
		t.Errorf("windows: %q", got)
	}
	for _, goos := range []string{"linux", "darwin", "freebsd"} {
		if got := arLogDir(goos); got != "logs" {
			t.Errorf("%s: %q", goos, got)
		}
	}
	if got, want := ARLogPath("root"), filepath.Join("root", arLogDir(runtime.GOOS), "active-responses.log"); got != want {
		t.Errorf("ARLogPath = %q, want %q", got, want)
	}
}

func openTestARLog(t *testing.T) (*ARLog, string) {
	t.Helper()
	path := ARLogPath(filepath.Join(t.TempDir(), "root")) // logs/ does not exist yet
	l, err := OpenARLog(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Now = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.Local) }
	t.Cleanup(func() { l.Close() })
	return l, path
}

func TestARLog_Closed(t *testing.T) {
	l, _ := openTestARLog(t)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.programLine("x", "after close"); !errors.Is(err, errARLogClosed) {
		t.Errorf("a line after Close = %v", err)
	}
}

func TestARLog_Appends(t *testing.T) {
	l, path := openTestARLog(t)
	l.Programs(nil).Line("a", "one")
	l.Close()
	l2, err := OpenARLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	l2.Now = l.Now
	l2.Programs(nil).Line("a", "two")
	if n := strings.Count(readFile(t, path), "\n"); n != 2 {
		t.Errorf("%d lines, want 2", n)
	}
}

func TestARLog_Concurrent(t *testing.T) {
	l, path := openTestARLog(t)
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			for i := range 50 {
				l.Programs(nil).Line("active-response/bin/fw", fmt.Sprintf("g%d line %d %s", g, i, strings.Repeat("x", 300)))
			}
		})
	}
	wg.Wait()
	re := regexp.MustCompile(`^2025/01/02 03:04:05 active-response/bin/fw: g\d+ line \d+ x{300}$`)
	lines := strings.Split(strings.TrimSuffix(readFile(t, path), "\n"), "\n")
	if len(lines) != 1000 {
		t.Fatalf("%d lines, want 1000", len(lines))
	}
	for _, line := range lines {
		if !re.MatchString(line) {
			t.Fatalf("torn line %q", line)
		}
	}
}

func TestARLog_Programs(t *testing.T) {
	l, path := openTestARLog(t)
	var p interface{ Line(program, msg string) } = l.Programs(nil)
	p.Line("active-response/bin/firewall-drop", "Ended\n")
	want := "2025/01/02 03:04:05 active-response/bin/firewall-drop: Ended\n"
	if got := readFile(t, path); got != want {
		t.Errorf("file = %q, want %q", got, want)
	}
	l.Close()
	p.Line("x", "after close: logged, not panicking")
}

func TestARLog_Nil(t *testing.T) {
	var l *ARLog
	if err := l.programLine("x", "y"); err != nil {
		t.Error(err)
	}
	if err := l.Close(); err != nil {
		t.Error(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
