package actions

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// hostsFormat is one TCP-wrappers deny format (HostDeny's hosts.deny,
// HostsAllow's hosts.allow). The formats differ only in the line they write
// for an address and in where a new line goes; both add a line only if it
// is missing and remove exactly that line, leaving every other byte alone.
type hostsFormat struct {
	line        func(netip.Addr) string
	beforeRules bool // a new line goes before the first rule, else at the end
}

// add puts f's line for t.Addr into the file at path unless it is present.
// A missing file is created.
func (f hostsFormat) add(path string, t Target) error {
	return f.edit(path, t, true)
}

// remove drops every copy of exactly f's line for t.Addr; a missing file or
// line is not an error.
func (f hostsFormat) remove(path string, t Target) error {
	return f.edit(path, t, false)
}

func (f hostsFormat) edit(path string, t Target, add bool) error {
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("host-deny: %w", err)
	}
	line := f.line(a)
	change := func(content []byte) ([]byte, bool) {
		if add {
			return insertHostsLine(content, line, f.beforeRules)
		}
		return removeHostsLine(content, line)
	}
	if err := editHostsFile(path, add, change); err != nil {
		return fmt.Errorf("host-deny: %w", err)
	}
	return nil
}

// hostsFileMu serialises edits to TCP-wrappers files within this process,
// also where lockFile is a no-op (no flock(2)).
var hostsFileMu sync.Mutex

// editHostsFile applies change to the TCP-wrappers file at path and writes
// the result back atomically, keeping its mode, if it changed. It holds
// hostsFileMu and, where the OS has flock(2), lockFile on path, so neither
// goroutines nor other processes that lock it lose each other's lines. A
// missing file is created only if create is set.
func editHostsFile(path string, create bool, change func([]byte) ([]byte, bool)) error {
	if _, err := os.Stat(path); !create && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	hostsFileMu.Lock()
	defer hostsFileMu.Unlock()
	unlock, err := lockFile(path)
	if err != nil {
		return err
	}
	defer unlock()
	old, err := os.ReadFile(path) // lockFile created it, where it locks
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	data, changed := change(old)
	if !changed {
		return nil
	}
	return writeFileAtomic(path, data, 0o644)
}

// insertHostsLine adds line unless a line equal to it, ignoring surrounding
// blanks, exists: with beforeRules, before the first line that is neither
// blank nor a comment (after the header), else at the end. It reports
// whether it changed anything.
func insertHostsLine(content []byte, line string, beforeRules bool) ([]byte, bool) {
	at, off := -1, 0
	for l := range bytes.Lines(content) {
		s := strings.TrimSpace(string(l))
		if s == line {
			return content, false
		}
		if beforeRules && at < 0 && s != "" && !strings.HasPrefix(s, "#") {
			at = off
		}
		off += len(l)
	}
	if at < 0 {
		at = len(content)
	}
	var b bytes.Buffer
	b.Write(content[:at])
	if at > 0 && content[at-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString(line + "\n")
	b.Write(content[at:])
	return b.Bytes(), true
}

// removeHostsLine drops every line equal to line, ignoring surrounding
// blanks, and keeps all others byte for byte.
func removeHostsLine(content []byte, line string) ([]byte, bool) {
	var b bytes.Buffer
	changed := false
	for l := range bytes.Lines(content) {
		if strings.TrimSpace(string(l)) == line {
			changed = true
			continue
		}
		b.Write(l)
	}
	return b.Bytes(), changed
}

// writeFileAtomic replaces path with data through a temporary file in the
// same directory and a rename, keeping the mode of an existing file (perm
// otherwise), so readers see the old file or the new one, never a part.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// present reads the file at path and tests whether f's line for a target is
// in it (a missing file holds none).
func (f hostsFormat) present(path string) (func(Target) bool, error) {
	content, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("host-deny: %w", err)
	}
	lines := make(map[string]bool)
	for l := range bytes.Lines(content) {
		lines[string(bytes.TrimSpace(l))] = true
	}
	return func(t Target) bool { return t.Addr.IsValid() && lines[f.line(t.Addr.Unmap())] }, nil
}
