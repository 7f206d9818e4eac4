package actions

import "errors"

// Errors every action may return; callers test them with errors.Is. The
// wrapping error names the action, the tool or the value concerned.
var (
	// ErrToolMissing means an OS tool an action needs is not installed
	// (iptables, firewall-cmd, passwd, pfctl, ...).
	ErrToolMissing = errors.New("tool missing")
	// ErrFirewallInactive means the firewall service an action drives is not
	// running (firewalld stopped, pf disabled, ...).
	ErrFirewallInactive = errors.New("firewall not running")
	// ErrInvalidTarget means an alert carries no usable target, or a hostile
	// one: an address that is not an IP, a user name that is not a name.
	ErrInvalidTarget = errors.New("invalid target")
	// ErrRefused means the target is valid but must never be acted on
	// (the root account, uid 0).
	ErrRefused = errors.New("refused target")
	// ErrUnknownAction means no built-in of that name exists on this OS.
	ErrUnknownAction = errors.New("no such built-in action")
)
