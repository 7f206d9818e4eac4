package engine

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Target is what a command acts upon, decoded from the alert and validated
// once, here: the alert's source address in canonical form (an IPv4-mapped
// address is the IPv4 address it carries), or, when it has none, the user
// it names. Actions receive it typed and never read the alert for it again.
// The zero Target is an alert with neither.
//
// Where each rule lives:
//   - which field is the address: Alert.Decode (Wazuh 4.14.7's order);
//   - its syntax and the user's characters (analysisd's), refusing the
//     host's own addresses, loopback, unspecified, link-local and multicast:
//     validate, when an alert matches, and Alert.Target for a stand-alone run;
//   - the white list: when an alert matches, not here;
//   - the canonical form (IPv6 compressed and lower-case, ::ffff:a.b.c.d as
//     IPv4): Fields.Target and Alert.Target;
//   - what a single action refuses on top (root, a leading '-' or ".." in a
//     user name; loopback again before a command line): package actions.
type Target struct {
	Addr netip.Addr // valid when the alert has a source address
	User string     // data.dstuser; "" when absent
}

// IsZero reports whether t names nothing to act upon.
func (t Target) IsZero() bool { return !t.Addr.IsValid() && t.User == "" }

// Key is the check_keys key a Wazuh stock script sends for t: the address,
// else the user; "" for the zero Target.
func (t Target) Key() string {
	if t.Addr.IsValid() {
		return t.Addr.String()
	}
	return t.User
}

// Target returns the target of the alert values in f: they were validated
// when the alert matched (see validate), so a value that no longer parses
// (a store written by an older version) counts as absent.
func (f Fields) Target() Target {
	var t Target
	if f.SrcIP != "" && f.SrcIP != "-" {
		if a, err := netip.ParseAddr(strings.TrimPrefix(f.SrcIP, "::ffff:")); err == nil && a.Zone() == "" {
			t.Addr = a.Unmap()
		}
	}
	if f.User != "-" {
		t.User = f.User
	}
	return t
}

// ErrOwnAddress is an alert's address that is the host itself or no single
// remote host (see validate): never acted upon. Alert.Target's errors wrap it
// with ErrInvalidTarget.
var ErrOwnAddress = errors.New("the host's own address or no single remote host")

// Target checks the address and the user of the alert a decoded with the
// rules an alert's fields meet when it matches (validate, host may be nil)
// and returns those that pass, in Target's canonical form: the one decoding
// of a target, for the stand-alone built-ins that get the alert from
// execd. Each field is checked on its own, as a Wazuh program reads only
// the one it keys on: a bad user does not hide a good address. err, wrapping
// ErrInvalidTarget (and ErrOwnAddress for such an address), says why a
// present field was refused; absent fields are no error.
func (a *Alert) Target(host HostAddrs) (Target, error) {
	var (
		t    Target
		errs []error
	)
	if len(a.SrcIP) > 0 {
		switch validate(&Alert{SrcIP: a.SrcIP}, host) {
		case "":
			t.Addr = Fields{SrcIP: string(a.SrcIP)}.Target().Addr
		case SkipOwnAddress:
			errs = append(errs, fmt.Errorf("%w: %w: %s", ErrInvalidTarget, ErrOwnAddress, a.SrcIP))
		default:
			errs = append(errs, fmt.Errorf("%w: %q is not an IP address", ErrInvalidTarget, a.SrcIP))
		}
	}
	if len(a.DstUser) > 0 {
		if validate(&Alert{DstUser: a.DstUser}, nil) == "" {
			t.User = string(a.DstUser)
		} else {
			errs = append(errs, fmt.Errorf("%w: %q is not a user name", ErrInvalidTarget, a.DstUser))
		}
	}
	return t, errors.Join(errs...)
}
