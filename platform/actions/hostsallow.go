package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// HostsAllow is host-deny on FreeBSD, whose TCP wrappers read only
// /etc/hosts.allow: it holds the line "ALL : ADDR : deny" ("ALL : [ADDR] :
// deny" for IPv6, which hosts_access(5) requires in brackets).
//
// Two fixes over Wazuh: the line goes before the first rule rather than at
// the end, since the first matching rule wins and FreeBSD's stock file starts
// with "ALL : ALL : allow", which would shadow an appended deny; and Delete
// removes exactly that line, where Wazuh removes every line containing the
// address. Add of a present line and Delete of a missing one change nothing.
// Edits hold the file's lock (see editHostsFile) and replace it atomically,
// keeping its mode.
type HostsAllow struct {
	Path string // "/etc/hosts.allow"
}

var _ Action = (*HostsAllow)(nil)

// hostsAllowMu serialises edits to TCP-wrappers files within this process,
// also where lockFile is a no-op (no flock(2)).
var hostsAllowMu sync.Mutex

// NewHostsAllow returns FreeBSD's host-deny on /etc/hosts.allow.
func NewHostsAllow(Config) *HostsAllow {
	return &HostsAllow{Path: "/etc/hosts.allow"}
}

// Name implements Action.
func (h *HostsAllow) Name() string { return "host-deny" }

// Add inserts the deny line before the first rule unless it is present.
// A missing file is created.
func (h *HostsAllow) Add(_ context.Context, t Target, _ time.Time) error {
	return h.edit(t, true, hostsAllowInsert)
}

// Delete removes every copy of exactly the deny line; a missing file or
// line is not an error.
func (h *HostsAllow) Delete(_ context.Context, t Target) error {
	return h.edit(t, false, hostsAllowRemove)
}

// edit applies change to the file for t's deny line; Add creates a
// missing file, Delete leaves it missing.
func (h *HostsAllow) edit(t Target, create bool, change func([]byte, string) ([]byte, bool)) error {
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("host-deny: %w", err)
	}
	if err := editHostsFile(h.Path, hostsAllowLine(a), create, change); err != nil {
		return fmt.Errorf("host-deny: %w", err)
	}
	return nil
}

// editHostsFile applies change to the TCP-wrappers file at path for line
// and writes the result back if it changed. It holds hostsAllowMu and,
// where the OS has flock(2), lockFile on path, so neither goroutines nor
// other processes that lock it lose each other's lines. A missing file is
// created only if create is set.
func editHostsFile(path, line string, create bool, change func([]byte, string) ([]byte, bool)) error {
	if _, err := os.Stat(path); !create && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	hostsAllowMu.Lock()
	defer hostsAllowMu.Unlock()
	unlock, err := lockFile(path)
	if err != nil {
		return err
	}
	defer unlock()
	old, err := os.ReadFile(path) // lockFile created it, where it locks
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	data, changed := change(old, line)
	if !changed {
		return nil
	}
	return writeFileAtomic(path, data, 0o644)
}

// hostsAllowLine is the FreeBSD deny line for a.
func hostsAllowLine(a netip.Addr) string {
	if a.Is6() {
		return "ALL : [" + a.String() + "] : deny"
	}
	return "ALL : " + a.String() + " : deny"
}

// hostsAllowInsert puts line before the first line that is neither blank
// nor a comment (after the header), unless a line equal to it, ignoring
// surrounding blanks, exists. It reports whether it changed anything.
func hostsAllowInsert(content []byte, line string) ([]byte, bool) {
	at, off := -1, 0
	for l := range bytes.Lines(content) {
		s := strings.TrimSpace(string(l))
		if s == line {
			return content, false
		}
		if at < 0 && s != "" && !strings.HasPrefix(s, "#") {
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

// hostsAllowRemove drops every line equal to line, ignoring surrounding
// blanks, and keeps all others byte for byte.
func hostsAllowRemove(content []byte, line string) ([]byte, bool) {
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
