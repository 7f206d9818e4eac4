package platform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFormatARLine(t *testing.T) {
	at := time.Date(2024, 3, 7, 9, 5, 2, 999, time.Local)
	for _, tc := range []struct{ msg, want string }{
		{"Starting", "2024/03/07 09:05:02 active-response/bin/firewall-drop: Starting\n"},
		{`{"a":1}` + "\n", "2024/03/07 09:05:02 active-response/bin/firewall-drop: {\"a\":1}\n"},
		{"two\nlines\r\n", "2024/03/07 09:05:02 active-response/bin/firewall-drop: two lines\n"},
		{"", "2024/03/07 09:05:02 active-response/bin/firewall-drop: \n"},
	} {
		if got := FormatARLine(at, "firewall-drop", tc.msg); got != tc.want {
			t.Errorf("FormatARLine(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestFormatARLine_LocalTime(t *testing.T) {
	at := time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)
	want := at.Local().Format("2006/01/02 15:04:05") + " active-response/bin/x: m\n"
	if got := FormatARLine(at, "x", "m"); got != want {
		t.Errorf("got %q, want %q", got, want)
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

func TestARLog_Line(t *testing.T) {
	l, path := openTestARLog(t)
	if err := l.Line("firewall-drop", "Starting"); err != nil {
		t.Fatal(err)
	}
	if err := l.Printf("route-null", "Unable to run (%s)", "exit 1"); err != nil {
		t.Fatal(err)
	}
	want := "2025/01/02 03:04:05 active-response/bin/firewall-drop: Starting\n" +
		"2025/01/02 03:04:05 active-response/bin/route-null: Unable to run (exit 1)\n"
	if got := readFile(t, path); got != want {
		t.Errorf("file =\n%s\nwant\n%s", got, want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Line("x", "after close"); !errors.Is(err, errARLogClosed) {
		t.Errorf("Line after Close = %v", err)
	}
}

func TestARLog_Appends(t *testing.T) {
	l, path := openTestARLog(t)
	l.Line("a", "one")
	l.Close()
	l2, err := OpenARLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	l2.Now = l.Now
	l2.Line("a", "two")
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
				l.Line("fw", fmt.Sprintf("g%d line %d %s", g, i, strings.Repeat("x", 300)))
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
	if err := l.Line("x", "y"); err != nil {
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
