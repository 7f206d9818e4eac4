package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/user"
	"time"
)

// DisableAccount is Wazuh's disable-account on Linux: "passwd -l USER" to
// lock, "passwd -u USER" to unlock. It never touches root, an account with
// uid 0, or a name that fails ValidUser (checked again here, whoever built
// the Target). Locking twice and unlocking twice leave the account as once;
// unlocking an account that never had a password (passwd refuses to make it
// passwordless) is not an error.
//
// Caveat (as in Wazuh): an account locked by an administrator before the
// block is unlocked when the block is lifted.
type DisableAccount struct {
	exec Execer
	// lookupUID returns the uid of a user name; os/user by default.
	lookupUID func(name string) (string, error)
}

var _ Action = (*DisableAccount)(nil)

// NewDisableAccount returns disable-account running passwd through cfg.Exec.
func NewDisableAccount(cfg Config) *DisableAccount {
	return &DisableAccount{exec: cfg.Exec, lookupUID: lookupUID}
}

func lookupUID(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", err
	}
	return u.Uid, nil
}

// Name is "disable-account".
func (d *DisableAccount) Name() string { return "disable-account" }

// Add locks t.User.
func (d *DisableAccount) Add(ctx context.Context, t Target, _ time.Time) error {
	return d.passwd(ctx, "-l", t.User)
}

// Delete unlocks t.User.
func (d *DisableAccount) Delete(ctx context.Context, t Target) error {
	return d.passwd(ctx, "-u", t.User)
}

func (d *DisableAccount) passwd(ctx context.Context, op, name string) error {
	if err := d.check(name); err != nil {
		return fmt.Errorf("disable-account: %w", err)
	}
	out, err := d.exec.Run(ctx, "passwd", passwdArgs(op, name)...)
	if err != nil && !(op == "-u" && passwdWouldBeEmpty(out)) {
		return wrapExec("disable-account", err)
	}
	return nil
}

// check refuses invalid names, root and any account with uid 0.
func (d *DisableAccount) check(name string) error {
	if err := ValidUser(name); err != nil {
		return err
	}
	uid, err := d.lookupUID(name)
	var unknown user.UnknownUserError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("%w: no user %q", ErrInvalidTarget, name)
	case err != nil:
		return fmt.Errorf("look up user %q: %w", name, err)
	case uid == "0":
		return fmt.Errorf("%w: user %q has uid 0", ErrRefused, name)
	}
	return nil
}

// passwdArgs is passwd's argv for op (-l or -u). "--" ends the options, so
// no name can ever be read as one (ValidUser already forbids a leading '-').
func passwdArgs(op, name string) []string {
	return []string{op, "--", name}
}

// passwdWouldBeEmpty reports whether passwd -u refused because the account
// has no password to unlock (shadow's passwd exits 3 and says so): it is as
// it was before the lock.
func passwdWouldBeEmpty(out []byte) bool {
	return bytes.Contains(out, []byte("passwordless"))
}
