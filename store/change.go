package store

import (
	"fmt"
	"slices"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// maxKeySize is bbolt's limit on a key; with 8 bytes of expiry prefix in the
// index, it bounds entry keys too.
const maxKeySize = 32768 - 8

// validate rejects a Change that cannot be written, before anything is. Both
// implementations call it, so they fail alike.
func validate(c engine.Change) error {
	for _, e := range c.Put {
		if err := checkKey("entry key", e.Key); err != nil {
			return err
		}
		if err := checkTimes(e); err != nil {
			return err
		}
	}
	for _, refs := range []struct {
		what string
		refs []engine.EntryRef
	}{{"deleted entry key", c.Del}, {"marked entry key", c.Mark}, {"unmarked entry key", c.Unmark}} {
		for _, r := range refs.refs {
			if err := checkKey(refs.what, r.Key); err != nil {
				return err
			}
		}
	}
	for k, n := range c.Offences {
		if err := checkKey("offence key", k); err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("%w: offence count %d for %q is negative", ErrInvalid, n, k)
		}
	}
	for _, p := range c.Positions {
		if err := checkKey("position source", p.Source); err != nil {
			return err
		}
	}
	return validateHistory(c.History)
}

// checkTimes keeps times within the years 0-9999: the range the store has
// always accepted (schema 1 wrote RFC 3339 text). The records could hold
// any time; Memory applies the same rule, so both fail alike.
func checkTimes(e engine.Entry) error {
	for _, t := range []time.Time{e.Created, e.Expires} {
		if y := t.UTC().Year(); y < 0 || y > 9999 {
			return fmt.Errorf("%w: entry %q has a time in year %d", ErrInvalid, e.Key, y)
		}
	}
	return nil
}

func checkKey(what, k string) error {
	switch {
	case k == "":
		return fmt.Errorf("%w: empty %s", ErrInvalid, what)
	case len(k) > maxKeySize:
		return fmt.Errorf("%w: %s of %d bytes is longer than %d", ErrInvalid, what, len(k), maxKeySize)
	}
	return nil
}

// cloneEntry and cloneJob copy the slices inside, so that a store never
// shares memory with its callers.
// An empty slice becomes nil, as it does on a round trip through DB.
func cloneEntry(e engine.Entry) engine.Entry {
	e.Params = clone(e.Params)
	e.Command = cloneCommand(e.Command)
	return e
}

func cloneJob(j engine.Job) engine.Job {
	j.Params = clone(j.Params)
	j.Command = cloneCommand(j.Command)
	j.Repeated = clone(j.Repeated)
	return j
}

// cloneCommand copies c as DB keeps it: a nil c as the zero Command, Expect
// as its flags read back.
func cloneCommand(c *engine.Command) *engine.Command {
	var n engine.Command
	if c != nil {
		n = *c
	}
	n.ExtraArgs = clone(n.ExtraArgs)
	n.Expect = expectOf(expectFlags(n.Expect))
	return &n
}

func clone[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
