package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// naming is what a rotation calls the rotated file.
type naming int

const (
	ascending naming = iota // path.k, k counting up: path.1 is the oldest
	shifted                 // logrotate's numbers: path.1 is the newest, older ones move up
	dated                   // logrotate's dateext: path-YYYYMMDD
	archived                // Wazuh's <dir>/YYYY/Mon/ossec-alerts-DD[-NNN].ext
)

func (n naming) String() string {
	return [...]string{"ascending", "shifted", "dated", "archived"}[n]
}

// rotate moves the file at path (or a copy of it) to the name of the k-th
// rotation (k counts from 1) and, for copyTruncate, truncates it.
func (n naming) rotate(path string, k int, kind rotation) error {
	if n == shifted {
		if err := shift(path); err != nil {
			return err
		}
	}
	to := n.name(path, k)
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	if kind == copyTruncate {
		return copyTrunc(path, to)
	}
	return os.Rename(path, to)
}

// name is the name of the k-th rotated file.
func (n naming) name(path string, k int) string {
	switch n {
	case shifted:
		return path + ".1"
	case dated: // one rotation a day
		return path + time.Date(2026, 1, k, 0, 0, 0, 0, time.UTC).Format("-20060102")
	case archived: // three rotations a day, across a month's end
		day := time.Date(2026, 1, 30+(k-1)/3, 0, 0, 0, 0, time.UTC)
		ext := filepath.Ext(path)
		name := fmt.Sprintf("ossec-alerts-%02d%s", day.Day(), ext)
		if c := (k - 1) % 3; c > 0 {
			name = fmt.Sprintf("ossec-alerts-%02d-%03d%s", day.Day(), c, ext)
		}
		return filepath.Join(filepath.Dir(path), day.Format("2006/Jan"), name)
	}
	return fmt.Sprintf("%s.%d", path, k)
}

// shift renames path.N to path.N+1, highest first, as logrotate does.
func shift(path string) error {
	n := 0
	for {
		if _, err := os.Stat(fmt.Sprintf("%s.%d", path, n+1)); err != nil {
			break
		}
		n++
	}
	for ; n > 0; n-- {
		if err := os.Rename(fmt.Sprintf("%s.%d", path, n), fmt.Sprintf("%s.%d", path, n+1)); err != nil {
			return err
		}
	}
	return nil
}
