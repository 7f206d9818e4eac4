package engine

import (
	"bytes"
	"net/netip"
	"strings"
)

// Skip reasons, counted per alert-response pair that matched but did not run.
const (
	SkipWhiteList = "white_list"
	SkipLocation  = "location"
	SkipSrcIP     = "invalid_srcip"
	SkipUser      = "invalid_user"
	SkipAlertID   = "invalid_alert_id"
	// SkipOwnAddress is a source address of the host itself (see HostAddrs).
	SkipOwnAddress = "own_address"
)

// matcher is a compiled, read-only view of a Config for the hot path.
type matcher struct {
	cfg       *Config
	responses []*compiled
	allowNets []netip.Prefix
	allowPats []pattern
}

type compiled struct {
	*Response
	ruleIDs [][]byte
	groups  []pattern
	frame   paramsFrame // of Command's parameters
}

func compile(c *Config) *matcher {
	m := &matcher{cfg: c}
	if c == nil || c.Disabled {
		return m
	}
	for _, w := range c.WhiteList {
		if w.Prefix.IsValid() {
			m.allowNets = append(m.allowNets, w.Prefix)
		} else {
			m.allowPats = append(m.allowPats, compilePatterns(w.Pattern)...)
		}
	}
	for _, r := range c.Responses {
		if r.Disabled || r.Command == nil {
			continue
		}
		cr := &compiled{Response: r, frame: frameOf(r.Command)}
		for _, id := range r.RulesID {
			cr.ruleIDs = append(cr.ruleIDs, []byte(id))
		}
		cr.groups = compilePatterns(r.RulesGroup...)
		m.responses = append(m.responses, cr)
	}
	return m
}

// triggers reports whether an alert triggers r, by Wazuh 4.x's rules (which
// differ from its documentation): level 0 never; a listed rule id always;
// otherwise level and group must both hold where both are set, and a block
// with neither triggers nothing.
func (r *compiled) triggers(a *Alert) bool {
	if a.Level <= 0 {
		return false
	}
	for _, id := range r.ruleIDs {
		if bytes.Equal(id, a.RuleID) {
			return true
		}
	}
	levelSet, groupSet := r.Level > 0, len(r.groups) > 0
	if !levelSet && !groupSet {
		return false
	}
	if levelSet && a.Level < r.Level {
		return false
	}
	return !groupSet || r.groupMatch(a.Groups)
}

func (r *compiled) groupMatch(groups []byte) bool {
	return matchAny(r.groups, groups)
}

// runsHere reports whether r runs on this host (agent id self) for a.
func (r *compiled) runsHere(a *Alert, self string) bool {
	switch r.Location {
	case LocationServer, LocationAll:
		return true
	case LocationDefinedAgent:
		return r.AgentID == self
	}
	return !a.hasAgent || string(a.AgentID) == self
}

// whiteListed reports whether srcip (text as in the alert) is white-listed:
// inside a listed network, or, Wazuh's way, matching a listed pattern.
func (m *matcher) whiteListed(srcip []byte) bool {
	if len(srcip) == 0 || len(m.allowNets)+len(m.allowPats) == 0 {
		return false
	}
	s := strings.TrimPrefix(string(srcip), "::ffff:")
	if addr, err := netip.ParseAddr(s); err == nil {
		addr = addr.Unmap().WithZone("")
		for _, n := range m.allowNets {
			if n.Contains(addr) {
				return true
			}
		}
	}
	return matchAny(m.allowPats, []byte(strings.ToLower(s)))
}

// validate checks the alert fields a command receives, as Wazuh does before
// running anything, and refuses the host's own addresses (host may be nil),
// which Wazuh does not; it returns a skip reason or "".
func validate(a *Alert, host HostAddrs) string {
	if len(a.SrcIP) > 0 {
		// A zone ("fe80::1%eth0") is free text from the alert: never passed on.
		addr, err := netip.ParseAddr(strings.TrimPrefix(string(a.SrcIP), "::ffff:"))
		if err != nil || addr.Zone() != "" {
			return SkipSrcIP
		}
		if ownAddress(addr.Unmap(), host) {
			return SkipOwnAddress
		}
	}
	if !validChars(a.DstUser, true) {
		return SkipUser
	}
	if !validChars(a.ID, false) {
		return SkipAlertID
	}
	return ""
}

// ownAddress reports whether addr is the host itself (loopback, or one of
// host's addresses) or no single remote host at all (unspecified,
// link-local, multicast): blocking it would cut the host off, from itself
// or its own network. The white list has no say.
func ownAddress(addr netip.Addr, host HostAddrs) bool {
	return addr.IsLoopback() || addr.IsUnspecified() || addr.IsLinkLocalUnicast() || addr.IsMulticast() ||
		host != nil && host.Own(addr)
}

// validChars reports whether v matches ^[a-zA-Z._0-9@?-]*$ (user) or
// ^[0-9.]*$ (alert id).
func validChars(v []byte, user bool) bool {
	for _, c := range v {
		switch {
		case '0' <= c && c <= '9', c == '.':
		case user && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '@' || c == '?' || c == '-'):
		default:
			return false
		}
	}
	return true
}
