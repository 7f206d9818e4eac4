//go:build unix

package watch

import (
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// fileID returns the identity of an open file: "device:inode".
func fileID(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	return infoID(fi)
}

// pathID returns the identity of the file at path without opening it.
func pathID(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return infoID(fi)
}

// statID returns the file at path's information and identity.
func statID(path string) (fs.FileInfo, string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	id, err := infoID(fi)
	return fi, id, err
}

func infoID(fi fs.FileInfo) (string, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("no device and inode for %s", fi.Name())
	}
	b := strconv.AppendUint(make([]byte, 0, 40), uint64(st.Dev), 10)
	b = append(b, ':')
	return string(strconv.AppendUint(b, uint64(st.Ino), 10)), nil
}

// openShared opens path for reading. Unix lets the writer rename or remove
// a file that is open, so a plain open will do.
func openShared(path string) (*os.File, error) { return os.Open(path) }
