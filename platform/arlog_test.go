package platform

import (
	"bytes"
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

// TestARLog_LinesAsLine: a batch of lines, given in pieces, writes the bytes
// that as many single lines of the joined pieces write (line breaks inside
// and at the end included), in writes of whole lines about arChunk long.
func TestARLog_LinesAsLine(t *testing.T) {
	msg := []byte(`{"version":1,"command":"add","parameters":{"alert":{"full_log":"` + strings.Repeat("x", 2000) + `"}}}`)
	var lines [][][]byte
	for i := range 300 {
		switch i % 5 {
		case 0:
			lines = append(lines, [][]byte{[]byte("Starting")})
		case 1:
			lines = append(lines, [][]byte{msg[:20], []byte(`"command":"continue"`), msg[35:]})
		case 2:
			lines = append(lines, [][]byte{[]byte("two\nlines"), []byte("\r\n")})
		case 3:
			lines = append(lines, [][]byte{[]byte("split \r"), []byte("\nbreak")})
		default:
			lines = append(lines, [][]byte{{}, []byte(fmt.Sprint(i)), nil})
		}
	}
	alone, path := openTestARLog(t)
	for _, pieces := range lines {
		alone.Programs(nil).Line("active-response/bin/firewall-drop", string(bytes.Join(pieces, nil)))
	}
	want := readFile(t, path)

	defer func(n int) { arChunk = n }(arChunk)
	arChunk = 10_000 // a few writes, each over several lines
	l, path := openTestARLog(t)
	var writes []int
	l.afterWrite = func(b []byte) {
		if len(b) == 0 || b[len(b)-1] != '\n' {
			t.Errorf("a write of %d bytes ends inside a line", len(b))
		}
		writes = append(writes, len(b))
	}
	l.Programs(nil).Lines("active-response/bin/firewall-drop", lines)
	if got := readFile(t, path); got != want {
		t.Errorf("batch wrote %d bytes unlike %d of lines alone", len(got), len(want))
	}
	if len(writes) < len(want)/arChunk || len(writes) > len(want)/(arChunk/2)+1 {
		t.Errorf("%d writes (%v) for %d bytes in chunks of %d", len(writes), writes, len(want), arChunk)
	}
}

// TestARLog_LinesNotTorn: lines another writer appends to the file while a
// batch is written land between the batch's lines, never inside one.
func TestARLog_LinesNotTorn(t *testing.T) {
	defer func(n int) { arChunk = n }(arChunk)
	arChunk = 4096
	l, path := openTestARLog(t)
	other, err := OpenARLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.Now = l.Now
	var lines [][][]byte
	for i := range 2000 {
		lines = append(lines, [][]byte{[]byte(fmt.Sprintf("batch %d ", i)), bytes.Repeat([]byte("b"), 300)})
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
				other.Programs(nil).Line("active-response/bin/script", fmt.Sprintf("other %d %s", i, strings.Repeat("o", 300)))
			}
		}
	})
	l.Programs(nil).Lines("active-response/bin/firewall-drop", lines)
	close(done)
	wg.Wait()
	re := regexp.MustCompile(`^2025/01/02 03:04:05 active-response/bin/(firewall-drop: batch \d+ b{300}|script: other \d+ o{300})$`)
	n := 0
	for line := range strings.Lines(readFile(t, path)) {
		if !re.MatchString(strings.TrimSuffix(line, "\n")) {
			t.Fatalf("torn line %q", line)
		}
		if strings.Contains(line, "batch") {
			n++
		}
	}
	if n != len(lines) {
		t.Errorf("%d batch lines, want %d", n, len(lines))
	}
}
