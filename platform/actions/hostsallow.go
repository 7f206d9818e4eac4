package actions

import (
	"context"
	"net/netip"
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

// hostsAllowFormat is FreeBSD's hosts.allow format: the line goes before the
// first rule.
var hostsAllowFormat = hostsFormat{line: hostsAllowLine, beforeRules: true}

// NewHostsAllow returns FreeBSD's host-deny on /etc/hosts.allow.
func NewHostsAllow(Config) *HostsAllow {
	return &HostsAllow{Path: "/etc/hosts.allow"}
}

// Name implements Action.
func (h *HostsAllow) Name() string { return "host-deny" }

// Add inserts the deny line before the first rule unless it is present.
// A missing file is created.
func (h *HostsAllow) Add(_ context.Context, t Target, _ time.Time) error {
	return hostsAllowFormat.add(h.Path, t)
}

// Delete removes every copy of exactly the deny line; a missing file or
// line is not an error.
func (h *HostsAllow) Delete(_ context.Context, t Target) error {
	return hostsAllowFormat.remove(h.Path, t)
}

// hostsAllowLine is the FreeBSD deny line for a.
func hostsAllowLine(a netip.Addr) string {
	if a.Is6() {
		return "ALL : [" + a.String() + "] : deny"
	}
	return "ALL : " + a.String() + " : deny"
}

var _ lister = (*HostsAllow)(nil)

// present reads hosts.allow for the deny lines of blocked addresses.
func (h *HostsAllow) present(context.Context) (func(Target) bool, error) {
	return hostsAllowFormat.present(h.Path)
}
