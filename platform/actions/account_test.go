package actions

import (
	"context"
	"errors"
	"os/user"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var noExpiry time.Time

// fakeUsers looks names up in a map of name to uid.
func fakeUsers(m map[string]string) func(string) (string, error) {
	return func(name string) (string, error) {
		if uid, ok := m[name]; ok {
			return uid, nil
		}
		return "", user.UnknownUserError(name)
	}
}

func TestDisableAccount_Argv(t *testing.T) {
	fake := new(argvExec)
	d := NewDisableAccount(Config{Exec: fake})
	d.lookupUID = fakeUsers(map[string]string{"bob": "1001"})
	ctx := context.Background()
	if err := d.Add(ctx, Target{User: "bob"}, noExpiry); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, Target{User: "bob"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"passwd -l -- bob", "passwd -u -- bob"}
	if diff := cmp.Diff(want, fake.lines()); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
}

func TestDisableAccount_Refuses(t *testing.T) {
	users := fakeUsers(map[string]string{"root": "0", "toor": "0", "bob": "1001"})
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
			fake := new(argvExec)
			d := NewDisableAccount(Config{Exec: fake})
			d.lookupUID = users
			ctx := context.Background()
			if err := d.Add(ctx, Target{User: tt.user}, noExpiry); !errors.Is(err, tt.want) {
				t.Errorf("Add: %v, want %v", err, tt.want)
			}
			if err := d.Delete(ctx, Target{User: tt.user}); !errors.Is(err, tt.want) {
				t.Errorf("Delete: %v, want %v", err, tt.want)
			}
			if got := fake.lines(); len(got) != 0 {
				t.Errorf("ran %q", got)
			}
		})
	}
}

func TestDisableAccount_PasswdOutcomes(t *testing.T) {
	ctx := context.Background()
	users := fakeUsers(map[string]string{"bob": "1001"})
	d := NewDisableAccount(Config{Exec: new(argvExec).on("passwd -u",
		"passwd: unlocking the password would result in a passwordless account.", errExit1)})
	d.lookupUID = users
	if err := d.Delete(ctx, Target{User: "bob"}); err != nil {
		t.Errorf("unlock of a never-set password: %v", err)
	}
	d = NewDisableAccount(Config{Exec: new(argvExec).on("passwd", "", errNotFound)})
	d.lookupUID = users
	if err := d.Add(ctx, Target{User: "bob"}, noExpiry); !errors.Is(err, ErrToolMissing) {
		t.Errorf("no passwd: %v", err)
	}
}
