package actions

import (
	"context"
	"net/netip"
	"time"
)

// HostDeny is Wazuh's host-deny on Linux: the TCP-wrappers line "ALL:ADDR"
// ("ALL:[ADDR]" for IPv6, the form hosts_access(5) needs) appended to
// /etc/hosts.deny. Delete removes exactly that line, where Wazuh removes
// every line containing the address (and so "ALL:1.2.3.45" with
// "ALL:1.2.3.4"). Add of a present line and Delete of a missing one change
// nothing. Edits hold an flock(2) on the file, so concurrent editors that
// lock it too do not lose each other's lines, and a changed file is replaced
// atomically (temporary file and rename) with its mode kept (see
// editHostsFile).
type HostDeny struct {
	Path string // "/etc/hosts.deny"
}

var _ Action = (*HostDeny)(nil)

// hostsDenyFormat is the hosts.deny format: the line goes at the end.
var hostsDenyFormat = hostsFormat{line: hostDenyLine}

// NewHostDeny returns host-deny on /etc/hosts.deny.
func NewHostDeny(Config) *HostDeny {
	return &HostDeny{Path: "/etc/hosts.deny"}
}

// Name is "host-deny".
func (h *HostDeny) Name() string { return "host-deny" }

// Add appends the deny line for t.Addr unless it is present. A missing file
// is created.
func (h *HostDeny) Add(_ context.Context, t Target, _ time.Time) error {
	return hostsDenyFormat.add(h.Path, t)
}

// Delete removes every copy of exactly the deny line for t.Addr.
func (h *HostDeny) Delete(_ context.Context, t Target) error {
	return hostsDenyFormat.remove(h.Path, t)
}

// hostDenyLine is the hosts.deny line for a.
func hostDenyLine(a netip.Addr) string {
	if a.Is6() {
		return "ALL:[" + a.String() + "]"
	}
	return "ALL:" + a.String()
}

var _ lister = (*HostDeny)(nil)

// present reads hosts.deny for the lines of blocked addresses.
func (h *HostDeny) present(context.Context) (func(Target) bool, error) {
	return hostsDenyFormat.present(h.Path)
}
