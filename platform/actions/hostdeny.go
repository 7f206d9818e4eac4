package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"time"
)

// HostDeny is Wazuh's host-deny on Linux: the TCP-wrappers line "ALL:ADDR"
// ("ALL:[ADDR]" for IPv6, the form hosts_access(5) needs) appended to
// /etc/hosts.deny. Delete removes exactly that line, where Wazuh removes
// every line containing the address (and so "ALL:1.2.3.45" with
// "ALL:1.2.3.4"). Add of a present line and Delete of a missing one change
// nothing. Edits hold an flock(2) on the file, so concurrent editors that
// lock it too do not lose each other's lines, and a changed file is replaced
// atomically (temporary file and rename) with its mode kept.
type HostDeny struct {
	Path string // "/etc/hosts.deny"
}

var _ Action = (*HostDeny)(nil)

// NewHostDeny returns host-deny on /etc/hosts.deny.
func NewHostDeny(Config) *HostDeny {
	return &HostDeny{Path: "/etc/hosts.deny"}
}

// Name is "host-deny".
func (h *HostDeny) Name() string { return "host-deny" }

// Add appends the deny line for t.Addr unless it is present. A missing file
// is created.
func (h *HostDeny) Add(_ context.Context, t Target, _ time.Time) error {
	return h.edit(t, true, hostDenyAppend)
}

// Delete removes every copy of exactly the deny line for t.Addr.
func (h *HostDeny) Delete(_ context.Context, t Target) error {
	return h.edit(t, false, hostsAllowRemove)
}

// edit applies change to the file under its lock and writes the result
// back if it changed. create says whether a missing file is created.
func (h *HostDeny) edit(t Target, create bool, change func([]byte, string) ([]byte, bool)) error {
	a, err := targetAddr(t)
	if err != nil {
		return fmt.Errorf("host-deny: %w", err)
	}
	if _, err := os.Stat(h.Path); !create && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	hostsAllowMu.Lock()
	defer hostsAllowMu.Unlock()
	unlock, err := lockFile(h.Path)
	if err != nil {
		return fmt.Errorf("host-deny: %w", err)
	}
	defer unlock()
	old, err := os.ReadFile(h.Path)
	if err != nil {
		return fmt.Errorf("host-deny: %w", err)
	}
	data, changed := change(old, hostDenyLine(a))
	if !changed {
		return nil
	}
	if err := writeFileAtomic(h.Path, data, 0o644); err != nil {
		return fmt.Errorf("host-deny: %w", err)
	}
	return nil
}

// hostDenyLine is the hosts.deny line for a.
func hostDenyLine(a netip.Addr) string {
	if a.Is6() {
		return "ALL:[" + a.String() + "]"
	}
	return "ALL:" + a.String()
}

// hostDenyAppend adds line at the end unless a line equal to it, ignoring
// surrounding blanks, exists. It reports whether it changed anything.
func hostDenyAppend(content []byte, line string) ([]byte, bool) {
	for l := range bytes.Lines(content) {
		if strings.TrimSpace(string(l)) == line {
			return content, false
		}
	}
	var b bytes.Buffer
	b.Write(content)
	if len(content) > 0 && content[len(content)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString(line + "\n")
	return b.Bytes(), true
}
