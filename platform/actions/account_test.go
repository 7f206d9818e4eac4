package actions

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var noExpiry time.Time

// accountOS is a fake OS with passwd and root, toor (uid 0 too) and bob,
// bob's password set, and disable-account on it.
func accountOS() (*xosFake, *xosPasswd, *DisableAccount) {
	f, m := newXOSFake(), &xosPasswd{users: map[string]*xosUser{
		"root": {"0", "$y$root"}, "toor": {"0", "$y$toor"}, "bob": {"1001", "$y$bob"},
	}}
	f.tools["passwd"] = m.tool
	d := NewDisableAccount(Config{Exec: f})
	d.lookupUID = m.lookup
	return f, m, d
}

// TestDisableAccount_LockTwiceUnlockTwice checks the command lines and that
// locking twice leaves one '!' and unlocking twice gives the hash back.
func TestDisableAccount_LockTwiceUnlockTwice(t *testing.T) {
	f, m, d := accountOS()
	ctx := context.Background()
	var got []string
	for _, op := range []string{"lock", "lock", "unlock", "unlock"} {
		var err error
		if op == "lock" {
			err = d.Add(ctx, Target{User: "bob"}, noExpiry)
		} else {
			err = d.Delete(ctx, Target{User: "bob"})
		}
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		got = append(append(got, f.take()...), "bob:"+m.users["bob"].hash)
	}
	want := []string{
		"$ passwd -l -- bob", "bob:!$y$bob", "$ passwd -l -- bob", "bob:!$y$bob",
		"$ passwd -u -- bob", "bob:$y$bob", "$ passwd -u -- bob", "bob:$y$bob",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("argv and state (-want +got):\n%s", diff)
	}
}

func TestDisableAccount_Refuses(t *testing.T) {
	tests := []struct {
		user string
		want error
	}{
		{"root", ErrRefused},
		{"toor", ErrRefused}, // uid 0 under another name
		{"-a", ErrInvalidTarget},
		{"bob;reboot", ErrInvalidTarget},
		{"", ErrInvalidTarget},
		{"ghost", ErrInvalidTarget}, // no such user
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			f, m, d := accountOS()
			before := m.state()
			ctx := context.Background()
			if err := d.Add(ctx, Target{User: tt.user}, noExpiry); !errors.Is(err, tt.want) {
				t.Errorf("Add: %v, want %v", err, tt.want)
			}
			if err := d.Delete(ctx, Target{User: tt.user}); !errors.Is(err, tt.want) {
				t.Errorf("Delete: %v, want %v", err, tt.want)
			}
			if got := f.take(); len(got) != 0 || m.state() != before {
				t.Errorf("ran %q; state %s", got, m.state())
			}
		})
	}
}

// TestDisableAccount_PasswdOutcomes: unlocking an account that never had a
// password ('!', as useradd leaves it) is no error and leaves it as it was;
// a user gone between the look-up and passwd, or no passwd, is an error.
func TestDisableAccount_PasswdOutcomes(t *testing.T) {
	ctx := context.Background()
	f, m, d := accountOS()
	m.users["bob"].hash = "!"
	if err := d.Add(ctx, Target{User: "bob"}, noExpiry); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, Target{User: "bob"}); err != nil || m.users["bob"].hash != "!" {
		t.Errorf("unlock of a never-set password: %v, hash %q", err, m.users["bob"].hash)
	}
	if got := f.take(); len(got) != 2 {
		t.Errorf("ran %q", got)
	}
	d.lookupUID = func(string) (string, error) { return "1002", nil } // deleted since
	if err := d.Add(ctx, Target{User: "gone"}, noExpiry); err == nil {
		t.Error("lock of a user passwd does not know succeeded")
	}
	delete(f.tools, "passwd")
	if err := d.Add(ctx, Target{User: "bob"}, noExpiry); !errors.Is(err, ErrToolMissing) {
		t.Errorf("no passwd: %v", err)
	}
}
