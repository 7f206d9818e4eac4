package platform

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fullDisk is a file with room for a number of bytes: a write past it
// writes what fits and fails, as write(2) does on a full disk.
type fullDisk struct {
	bytes.Buffer
	room int
}

func (f *fullDisk) Write(p []byte) (int, error) {
	n := min(len(p), f.room)
	f.room -= n
	f.Buffer.Write(p[:n])
	if n < len(p) {
		return n, syscall.ENOSPC
	}
	return n, nil
}

func (f *fullDisk) Close() error { return nil }

// A line cut by a full disk is ended before anything else is written, so
// that no later line (ours or a script's) runs on from it.
func TestARLog_LineCutByAFullDiskIsEnded(t *testing.T) {
	f := &fullDisk{room: 30}
	l := &ARLog{f: f, Now: func() time.Time { return time.Date(2026, 12, 2, 10, 0, 0, 0, time.Local) }}
	const prog = "active-response/bin/firewall-drop"
	if err := l.programLine(prog, "Starting"); err == nil {
		t.Fatal("no error from a full disk")
	}
	f.room = 1 << 20 // space freed
	if err := l.programLine(prog, "Ended"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(f.String(), "\n"), "\n")
	starting := "2026/12/02 10:00:00 " + prog + ": Starting"
	want := []string{starting[:30], "2026/12/02 10:00:00 " + prog + ": Ended"}
	if len(lines) != 2 || lines[0] != want[0] || lines[1] != want[1] {
		t.Errorf("log:\n%q\nwant the cut line ended, then the next:\n%q", lines, want)
	}
}
