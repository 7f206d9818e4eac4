// Package actions holds ThreatLockDown's built-in active responses: Go
// implementations of Wazuh's stock scripts (firewall-drop, host-deny, route-null,
// pf, netsh, ...). Each is an Action that adds and deletes one Target; every Add
// and Delete is idempotent. Argument builders and output parsers are pure and
// build on every OS; only backend selection and syscalls sit behind build tags.
//
// The daemon runs them in-process through Runner, which stands in for a
// script: it takes the target the engine decoded and validated
// (engine.Invocation.Target), asks the engine's check_keys with the keys the
// script would send, acts only on "continue" and writes the script's
// active-responses.log lines. Standalone speaks execd's stdin/stdout
// protocol instead, for use as a drop-in script in a Wazuh agent's
// active-response/bin, decoding the alert with the engine's decoder
// (engine.Alert) so that both paths read a target by the same rules.
//
// firewall-drop on Linux has two backends, picked per command with
// <extra_args>backend=nftables</extra_args> or backend=iptables: nftables
// (the default when the kernel answers nf_tables requests) keeps blocks as
// elements of sets in its own table, inet threatlockdown, written over
// netlink in batches and carrying a kernel timeout a minute past the
// daemon's revert time; iptables inserts DROP rules in INPUT and FORWARD as
// Wazuh does. See FirewallDrop.
package actions

import (
	"context"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Target is what an action blocks: an address (address actions) or a user
// name (account actions), never both. It is the engine's Target, narrowed
// to the part the action keys on (see targetOf).
type Target = engine.Target

// Action is one built-in response.
type Action interface {
	// Name is the executable name it stands in for (e.g. "firewall-drop").
	Name() string
	// Add blocks t. expires, when not zero, is when the daemon will revert the
	// block; backends with kernel timeouts use it as a safety net.
	Add(ctx context.Context, t Target, expires time.Time) error
	// Delete lifts the block on t. Deleting a missing block is not an error.
	Delete(ctx context.Context, t Target) error
}
