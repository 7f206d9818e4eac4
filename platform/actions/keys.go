package actions

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
)

// KeyKind is what a built-in keys on: the part of the alert it acts upon.
type KeyKind int

const (
	KeyAddr KeyKind = iota // data.srcip (Windows events: data.win.eventdata.ipAddress)
	KeyUser                // data.dstuser
	KeyNone                // stateless: no target, no check_keys (restart-wazuh)
)

// KindOf returns what the built-in called name keys on. A Windows name
// (any case, ".exe" or not) is the built-in's. The notifications keep no
// state: they post the alert, whatever it carries.
func KindOf(name string) KeyKind {
	switch strings.TrimSuffix(strings.ToLower(name), ".exe") {
	case "disable-account":
		return KeyUser
	case "restart-wazuh", "ossec-slack", "ossec-tweeter":
		return KeyNone
	}
	return KeyAddr
}

// TargetFromAlert extracts the target of a built-in of the given kind from
// alert (the alert JSON as execd passes it), and the check_keys keys a Wazuh
// script would send for it: the address (canonical text, ::ffff: stripped) or
// the user. KeyNone gives an empty Target and nil keys. Hostile values fail
// with ErrInvalidTarget and are never passed on.
func TargetFromAlert(kind KeyKind, alert []byte) (Target, []string, error) {
	var f alertFields
	if kind != KeyNone {
		f = decodeAlert(alert)
	}
	return f.target(kind)
}

// AddrFromAlert returns the validated source address of alert:
// data.win.eventdata.ipAddress when a Windows event carries one, else data.srcip.
func AddrFromAlert(alert []byte) (netip.Addr, error) {
	return decodeAlert(alert).addr()
}

// UserFromAlert returns the validated user of alert (data.dstuser).
func UserFromAlert(alert []byte) (string, error) {
	return decodeAlert(alert).user()
}

// alertFields are the alert fields built-ins key on. Leaves stay raw, so a
// value of the wrong JSON type is reported, not skipped.
type alertFields struct {
	Data struct {
		SrcIP   json.RawMessage `json:"srcip"`
		DstUser json.RawMessage `json:"dstuser"`
		Win     struct {
			EventData struct {
				IPAddress json.RawMessage `json:"ipAddress"`
			} `json:"eventdata"`
		} `json:"win"`
	} `json:"data"`
}

// decodeAlert reads the fields of alert. An object on the way that is not
// an object, or an alert that is not JSON, leaves the fields missing.
func decodeAlert(alert []byte) alertFields {
	var f alertFields
	if err := json.Unmarshal(alert, &f); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return alertFields{}
		}
	}
	return f
}

func (f alertFields) target(kind KeyKind) (Target, []string, error) {
	switch kind {
	case KeyNone:
		return Target{}, nil, nil
	case KeyUser:
		u, err := f.user()
		if err != nil {
			return Target{}, nil, err
		}
		return Target{User: u}, []string{u}, nil
	}
	a, err := f.addr()
	if err != nil {
		return Target{}, nil, err
	}
	return Target{Addr: a}, []string{a.String()}, nil
}

func (f alertFields) addr() (netip.Addr, error) {
	raw := f.Data.Win.EventData.IPAddress
	if s, ok, err := rawString(raw, "data.win.eventdata.ipAddress"); err == nil && ok && s != "" && s != "-" {
		return ParseAddr(s)
	}
	s, ok, err := rawString(f.Data.SrcIP, "data.srcip")
	switch {
	case err != nil:
		return netip.Addr{}, err
	case !ok:
		return netip.Addr{}, errNoSrcIP
	}
	return ParseAddr(s)
}

func (f alertFields) user() (string, error) {
	s, ok, err := rawString(f.Data.DstUser, "data.dstuser")
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", errNoDstUser
	}
	return s, ValidUser(s)
}

// rawString decodes a JSON string; ok is false for a missing value.
func rawString(raw json.RawMessage, name string) (s string, ok bool, err error) {
	if len(raw) == 0 {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, fmt.Errorf("%w: %s is not a string", ErrInvalidTarget, name)
	}
	return s, true, nil
}

// ParseAddr validates s as one IP address, the only thing ever passed on to
// a firewall. An IPv4-mapped IPv6 address (::ffff:1.2.3.4) becomes IPv4;
// zones, the unspecified and loopback addresses, and anything that is not an
// address (shell syntax, options such as "-j ACCEPT") are rejected.
func ParseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: %q is not an IP address", ErrInvalidTarget, s)
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsLoopback() {
		return netip.Addr{}, fmt.Errorf("%w: %q is not an address to block", ErrInvalidTarget, s)
	}
	return a, nil
}

// The alert lacks the field a built-in keys on.
var (
	errNoSrcIP   = fmt.Errorf("%w: no data.srcip in alert", ErrInvalidTarget)
	errNoDstUser = fmt.Errorf("%w: no data.dstuser in alert", ErrInvalidTarget)
)

// userRE is Wazuh's user name syntax (analysisd's validation), minus the
// empty name.
var userRE = regexp.MustCompile(`^[a-zA-Z._0-9@?-]+$`)

// ValidUser checks that s is a user name an account action may touch: Wazuh's
// syntax, not starting with '-' (it would be read as an option), not root.
// Accounts with uid 0 under another name are refused where they are looked up.
func ValidUser(s string) error {
	switch {
	case len(s) > 256 || !userRE.MatchString(s) || strings.HasPrefix(s, "-"):
		return fmt.Errorf("%w: %q is not a user name", ErrInvalidTarget, s)
	case s == "root":
		return fmt.Errorf("%w: user %q", ErrRefused, s)
	}
	return nil
}

// fieldsTarget is the target of a stored entry, read from the alert values
// the engine kept for it ("-" when missing) instead of decoding its alert
// again: the same address (the Windows event's first) or user, validated the
// same way.
func fieldsTarget(kind KeyKind, f engine.Fields) (Target, []string, error) {
	switch kind {
	case KeyNone:
		return Target{}, nil, nil
	case KeyUser:
		if f.User == "" || f.User == "-" {
			return Target{}, nil, errNoDstUser
		}
		if err := ValidUser(f.User); err != nil {
			return Target{}, nil, err
		}
		return Target{User: f.User}, []string{f.User}, nil
	}
	if f.SrcIP == "" || f.SrcIP == "-" {
		return Target{}, nil, errNoSrcIP
	}
	a, err := ParseAddr(f.SrcIP)
	if err != nil {
		return Target{}, nil, err
	}
	return Target{Addr: a}, []string{a.String()}, nil
}
