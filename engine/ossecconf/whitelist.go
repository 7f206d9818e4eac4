package ossecconf

import (
	"errors"
	"math/bits"
	"net/netip"
	"regexp"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
)

// global reads the <white_list> elements of a <global> block; its other
// elements belong to analysisd and are skipped.
func (b *builder) global(s section) {
	for _, f := range s.fields {
		if f.name != "white_list" || !b.plain(f, "global") || f.text == "" {
			continue
		}
		e, err := whiteListEntry(f.text)
		if err != nil {
			b.p.invalid(f, err.Error())
			continue
		}
		b.cfg.WhiteList = append(b.cfg.WhiteList, e)
	}
}

// looksIPv4 is what Wazuh takes for an address (global-config.c): four dotted
// numbers, maybe with a prefix length or netmask. Such an entry must parse;
// anything else is a pattern.
var looksIPv4 = regexp.MustCompile(`^!?[0-9]{1,3}(\.[0-9]{1,3}){3}(/.*)?$`)

// whiteListEntry parses one <white_list> value: an IPv4 address, CIDR or
// address/netmask, an IPv6 address or CIDR, or else a substring pattern.
func whiteListEntry(s string) (engine.WhiteListEntry, error) {
	if looksIPv4.MatchString(s) {
		p, err := parseIPv4(s)
		return engine.WhiteListEntry{Prefix: p}, err
	}
	if strings.Contains(s, ":") {
		if p, err := parsePrefix(s); err == nil {
			return engine.WhiteListEntry{Prefix: p}, nil
		}
	}
	// Wazuh compiles this as an OSMatch pattern on the source IP text.
	return engine.WhiteListEntry{Pattern: strings.ToLower(s)}, nil
}

func parseIPv4(s string) (netip.Prefix, error) {
	if strings.HasPrefix(s, "!") {
		return netip.Prefix{}, errors.New(`negated entries ("!") are not supported`)
	}
	addr, mask, ok := strings.Cut(s, "/")
	if ok && strings.Contains(mask, ".") {
		return parseNetmask(addr, mask)
	}
	p, err := parsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errors.New("not an IPv4 address, CIDR (10.0.0.0/8) or netmask (10.0.0.0/255.0.0.0)")
	}
	return p, nil
}

// parsePrefix parses an address (as a single-host prefix) or a CIDR, with
// the host bits cleared. IPv4-mapped IPv6 becomes IPv4, as alerts' source
// addresses are compared without "::ffff:".
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.WithZone("").Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// parseNetmask parses the 10.0.0.0/255.0.0.0 form.
func parseNetmask(addr, mask string) (netip.Prefix, error) {
	a, err1 := netip.ParseAddr(addr)
	m, err2 := netip.ParseAddr(mask)
	if err1 != nil || err2 != nil || !a.Is4() || !m.Is4() {
		return netip.Prefix{}, errors.New("not an IPv4 address with a netmask such as 10.0.0.0/255.0.0.0")
	}
	b := m.As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := bits.LeadingZeros32(^n)
	if n != ^uint32(0)<<(32-ones) {
		return netip.Prefix{}, errors.New("netmask " + mask + " is not contiguous")
	}
	return netip.PrefixFrom(a, ones).Masked(), nil
}
