package watch

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// readUntil runs a tailer from start until c holds n lines, and stops it.
func readUntil(t *testing.T, path string, start engine.Position, c *tally, n int) {
	t.Helper()
	log, _ := newLogs(t)
	stop := startTailer(t, NewTailer(path, engine.FormatJSON, start, log), c.add)
	if !c.waitFor(n, 5*time.Second) {
		t.Fatalf("got %d lines, want %d", c.count(), n)
	}
	time.Sleep(10 * time.Millisecond) // room for a duplicate to show up
	stop()
}

func TestTailer_Resume(t *testing.T) {
	path, start := newFile(t)
	var c tally
	write(t, path, load{lines: 100})
	readUntil(t, path, start, &c, 100)

	write(t, path, load{lines: 50, from: 100})
	appendFile(t, path, `{"n":150,"pad":"cut before the`) // incomplete when the daemon stops
	readUntil(t, path, c.last, &c, 150)

	appendFile(t, path, ` stop"}`+"\n")
	write(t, path, load{lines: 49, from: 151})
	readUntil(t, path, c.last, &c, 200)
	if got := c.result(200); got != (result{}) {
		t.Errorf("lines lost/duplicated/out of order across restarts: %+v", got)
	}
}

func TestTailer_ResumeTruncated(t *testing.T) {
	path, start := newFile(t)
	var c tally
	write(t, path, load{lines: 100})
	readUntil(t, path, start, &c, 100)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	write(t, path, load{lines: 10, from: 100})
	readUntil(t, path, c.last, &c, 110)
	if got := c.result(110); got != (result{}) {
		t.Errorf("lines lost/duplicated/out of order: %+v", got)
	}
}

// TestTailer_RotatedWhileDown stops the tailer, rotates the file with lines
// still unread in it, and starts the tailer again at its last position.
func TestTailer_RotatedWhileDown(t *testing.T) {
	tests := []struct {
		name string
		to   string // where the old file goes, relative to the directory; "": away
		lost int    // lines that cannot be had
	}{
		{"next to it", "alerts.json.1", 0},
		{"wazuh archive", "2026/Nov/ossec-alerts-23.json", 0},
		{"gone", "", 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, start := newFile(t)
			dir := filepath.Dir(path)
			older := filepath.Join(dir, "2025", "Dec", "ossec-alerts-31.json") // a decoy
			if err := os.MkdirAll(filepath.Dir(older), 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, older, load{lines: 500, from: 10_000})
			var c tally
			write(t, path, load{lines: 100})
			readUntil(t, path, start, &c, 100)

			write(t, path, load{lines: 50, from: 100}) // unread when rotated
			to := tt.to
			if to == "" {
				to = "removed" // after the new file exists, lest its inode be reused
			}
			rotateTo(t, path, to)
			write(t, path, load{lines: 50, from: 150})
			if tt.to == "" {
				if err := os.Remove(filepath.Join(dir, to)); err != nil {
					t.Fatal(err)
				}
			}

			log, logs := newLogs(t)
			stop := startTailer(t, NewTailer(path, engine.FormatJSON, c.last, log), c.add)
			c.waitFor(200-tt.lost, 5*time.Second)
			time.Sleep(10 * time.Millisecond)
			stop()
			if got := c.result(200); got != (result{lost: tt.lost}) {
				t.Errorf("lines lost/duplicated/out of order: %+v, want %d lost", got, tt.lost)
			}
			if tt.lost > 0 && logs.count("rotated and is gone") != 1 {
				t.Error("no warning about the lost file")
			}
		})
	}
}

func write(t *testing.T, path string, l load) {
	t.Helper()
	if err := l.write(path); err != nil {
		t.Fatal(err)
	}
}

func rotateTo(t *testing.T, path, to string) {
	t.Helper()
	to = filepath.Join(filepath.Dir(path), to)
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, to); err != nil {
		t.Fatal(err)
	}
}

// TestTailer_StartedReportsFirstStart: a first start reports the end of the
// file, so a caller that stores it resumes there even if nothing was read,
// and lines written while it was down are not lost.
func TestTailer_StartedReportsFirstStart(t *testing.T) {
	path, want := newFile(t)
	write(t, path, load{lines: 10})
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	want.Offset = info.Size()
	want.FileID = fileIDAt(t, path, want.Offset)
	log, _ := newLogs(t)
	tl := NewTailer(path, engine.FormatJSON, engine.Position{}, log)
	started := make(chan engine.Position, 1)
	tl.Started = func(p engine.Position) { started <- p }
	var c tally
	stop := startTailer(t, tl, c.add)
	var got engine.Position
	select {
	case got = <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("Started not called")
	}
	stop()
	if got != want {
		t.Fatalf("Started(%+v), want %+v", got, want)
	}
	write(t, path, load{lines: 5, from: 10}) // while "down"
	readUntil(t, path, got, &c, 5)
}
