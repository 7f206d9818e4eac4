package actions

import (
	"context"
	"io"
)

// Remover is a built-in that keeps firewall objects of its own besides
// the blocks its deletes lift: firewall-drop's nftables table inet
// threatlockdown, with its sets and chains. The others only add entries
// to what the host has (rules in the host's chains, routes, lines of
// hosts.deny, Wazuh's pf and ipfw tables, which Wazuh's own scripts share)
// and have nothing to remove once their blocks are lifted.
type Remover interface {
	// RemoveAll removes those objects, with any block still in them, and
	// says what it removed (nil when nothing was there). Removing the
	// package for good calls it once every block is lifted.
	RemoveAll(ctx context.Context) (removed []string, err error)
}

// RemoveAll removes what the built-in action called name made for itself
// (see Remover), on a fresh instance of it: nothing for an action that is
// not a Remover or not a built-in on this OS.
func RemoveAll(ctx context.Context, name string, cfg Config) ([]string, error) {
	a, ok := New(name, cfg)
	if !ok {
		return nil, nil
	}
	if c, ok := a.(io.Closer); ok {
		defer c.Close()
	}
	r, ok := a.(Remover)
	if !ok {
		return nil, nil
	}
	return r.RemoveAll(ctx)
}
