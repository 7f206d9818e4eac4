package actions

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// shadowHash returns the password field of name in /etc/shadow.
func shadowHash(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("/etc/shadow")
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(string(b)) {
		if f := strings.Split(l, ":"); len(f) > 1 && f[0] == name {
			return f[1]
		}
	}
	t.Fatalf("%s not in /etc/shadow", name)
	return ""
}

func TestDisableAccount_Real(t *testing.T) {
	requireRoot(t, "creates, locks and removes a throwaway user", "useradd", "userdel", "chpasswd", "passwd")
	name := fmt.Sprintf("tldtest%d", os.Getpid()%100000)
	if out, err := exec.Command("useradd", "-M", "-s", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	set := exec.Command("chpasswd")
	set.Stdin = strings.NewReader(name + ":not-a-real-secret\n")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	hash := shadowHash(t, name)
	d := NewDisableAccount(Config{Exec: OSExec{}})
	ctx := context.Background()
	for range 2 {
		if err := d.Add(ctx, Target{User: name}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got := shadowHash(t, name); got != "!"+hash {
			t.Errorf("after lock: %.8s..., want one '!' before the hash", got)
		}
	}
	for range 2 {
		if err := d.Delete(ctx, Target{User: name}); err != nil {
			t.Fatal(err)
		}
		if got := shadowHash(t, name); got != hash {
			t.Errorf("after unlock: %.8s..., want the hash back", got)
		}
	}
	if err := d.Add(ctx, Target{User: "root"}, time.Time{}); err == nil {
		t.Error("locked root")
	}
}
