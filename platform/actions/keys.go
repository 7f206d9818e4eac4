package actions

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
)

// KeyKind is what a built-in keys on: the part of the alert it acts upon.
type KeyKind int

const (
	KeyAddr KeyKind = iota // the alert's address (engine.Alert.Decode says which field)
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

// targetOf is the part of the engine's target t that a built-in of the
// given kind acts upon, and the check_keys keys a Wazuh program would send
// for it: the address (canonical text) or the user. KeyNone gives an empty
// Target and nil keys. The engine decoded and validated t (see
// engine.Target); this adds only what an action refuses on top: loopback and
// unspecified addresses (targetAddr, the last check before any command
// line) and the users ValidUser refuses. A target missing the part the kind
// needs fails with errNoSrcIP or errNoDstUser.
func targetOf(kind KeyKind, t engine.Target) (Target, []string, error) {
	switch kind {
	case KeyNone:
		return Target{}, nil, nil
	case KeyUser:
		if t.User == "" {
			return Target{}, nil, errNoDstUser
		}
		if err := ValidUser(t.User); err != nil {
			return Target{}, nil, err
		}
		return Target{User: t.User}, []string{t.User}, nil
	}
	if !t.Addr.IsValid() {
		return Target{}, nil, errNoSrcIP
	}
	a, err := targetAddr(Target{Addr: t.Addr})
	if err != nil {
		return Target{}, nil, err
	}
	return Target{Addr: a}, []string{a.String()}, nil
}

// The alert lacks the part of the target a built-in keys on.
var (
	errNoSrcIP   = fmt.Errorf("%w: no address in alert", ErrInvalidTarget)
	errNoDstUser = fmt.Errorf("%w: no data.dstuser in alert", ErrInvalidTarget)
)

// userRE is Wazuh's user name syntax (analysisd's validation), minus the
// empty name.
var userRE = regexp.MustCompile(`^[a-zA-Z._0-9@?-]+$`)

// ValidUser checks that s is a user name an account action may touch. The
// engine already holds users to analysisd's syntax when an alert matches;
// this is the account action's own policy, the one Wazuh 4.14.7's
// disable-account applies (is_valid_username): at most 256 characters, not
// starting with '-' (it would be read as an option), no "..", not root.
// Accounts with uid 0 under another name are refused where they are looked
// up (account.go).
func ValidUser(s string) error {
	switch {
	case len(s) > 256 || !userRE.MatchString(s) || strings.HasPrefix(s, "-") || strings.Contains(s, ".."):
		return fmt.Errorf("%w: %q is not a user name", ErrInvalidTarget, s)
	case s == "root":
		return fmt.Errorf("%w: user %q", ErrRefused, s)
	}
	return nil
}
