package actions

import (
	"context"
	"net/netip"
	"strings"
	"time"
)

// IPFilter is firewall-drop on FreeBSD and NetBSD (Wazuh also runs it on
// Solaris): two IPFilter rules per address, fed to "ipf -f -" on standard
// input and removed with "ipf -rf -":
//
//	block out quick from any to ADDR
//	block in quick from ADDR to any
//
// Wazuh runs ipf once per line; we send both lines in one run. IPv6 rules
// get "-6", which old ipf needs and new ipf ignores.
//
// Idempotency comes from state: the active rules are listed with
// "ipfstat -io" first, so only missing lines are added and only present lines
// removed (ipf itself fails on a duplicate or missing rule).
type IPFilter struct {
	exec Execer
}

var _ Action = (*IPFilter)(nil)

// NewIPFilter returns the ipf-backed firewall-drop. cfg.Exec must be a
// StdinExecer (OSExec is).
func NewIPFilter(cfg Config) *IPFilter {
	return &IPFilter{exec: cfg.Exec}
}

// Name implements Action.
func (f *IPFilter) Name() string { return "firewall-drop" }

// Add loads whichever of the two block rules is not active yet.
func (f *IPFilter) Add(ctx context.Context, t Target, _ time.Time) error {
	return f.change(ctx, t, false)
}

// Delete removes whichever of the two block rules is active.
func (f *IPFilter) Delete(ctx context.Context, t Target) error {
	return f.change(ctx, t, true)
}

// change lists the rules and feeds ipf the lines whose presence equals
// remove: missing ones to add, present ones to remove.
func (f *IPFilter) change(ctx context.Context, t Target, remove bool) error {
	a, err := targetAddr(t)
	if err != nil {
		return wrapExec("firewall-drop", err)
	}
	out, err := f.exec.Run(ctx, "ipfstat", ipfstatArgs(a)...)
	if err != nil {
		return wrapExec("firewall-drop", err)
	}
	var lines []string
	for _, r := range ipfRules(a) {
		if ipfListed(out, r) == remove {
			lines = append(lines, strings.Join(r, " ")+"\n")
		}
	}
	if len(lines) == 0 {
		return nil
	}
	stdin := []byte(strings.Join(lines, ""))
	if _, err := runInput(ctx, f.exec, stdin, "ipf", ipfArgs(a, remove)...); err != nil {
		return wrapExec("firewall-drop", err)
	}
	return nil
}

// ipfRules are Wazuh's two rules for a, as words.
func ipfRules(a netip.Addr) [][]string {
	s := a.String()
	return [][]string{
		{"block", "out", "quick", "from", "any", "to", s},
		{"block", "in", "quick", "from", s, "to", "any"},
	}
}

// ipfArgs is "ipf [-6] -f -" to add or "ipf [-6] -rf -" to remove.
func ipfArgs(a netip.Addr, remove bool) []string {
	flag := "-f"
	if remove {
		flag = "-rf"
	}
	if a.Is6() {
		return []string{"-6", flag, "-"}
	}
	return []string{flag, "-"}
}

// ipfstatArgs is "ipfstat [-6] -io": the active in and out rules.
func ipfstatArgs(a netip.Addr) []string {
	if a.Is6() {
		return []string{"-6", "-io"}
	}
	return []string{"-io"}
}

// ipfListed reports whether "ipfstat -io" output has rule. ipfstat prints
// hosts as prefixes ("203.0.113.5/32") and, with -n, an "@N" rule number.
func ipfListed(out []byte, rule []string) bool {
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], "@") {
			f = f[1:]
		}
		if ipfSameRule(f, rule) {
			return true
		}
	}
	return false
}

// ipfSameRule compares words, taking an address word of rule to match the
// same host in got with or without its prefix length.
func ipfSameRule(got, rule []string) bool {
	if len(got) != len(rule) {
		return false
	}
	for i, w := range rule {
		if got[i] == w {
			continue
		}
		a, err := netip.ParseAddr(w)
		if err != nil || !sameHost(got[i], a) {
			return false
		}
	}
	return true
}
