package actions

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"strings"
	"testing"
)

// FuzzStandalone feeds stand-alone mode (execd's side of the protocol) any
// input: a message line and an answer to its check_keys. It must never
// panic, and whatever reaches an action must be a valid target: an address
// to block or a user name, never text from the input passed on as it came.
func FuzzStandalone(f *testing.F) {
	add := string(execdMessage("add", "firewall-drop", alertIP))
	f.Add([]byte(add + "\n" + withCommand([]byte(add), "continue") + "\n"))
	f.Add([]byte(add + "\n" + withCommand([]byte(add), "abort") + "\n"))
	f.Add([]byte(string(execdMessage("delete", "firewall-drop", alertIP)) + "\n"))
	f.Add([]byte(strings.Replace(add, "203.0.113.7", "1.2.3.4;rm -rf /", 1) + "\n"))
	f.Add([]byte(`{"version":1,"origin":{},"command":"add","parameters":{"alert":{"data":{"srcip":"::ffff:127.0.0.1"}}}}` + "\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, name := range []string{"firewall-drop", "disable-account"} {
			r, acts := fakeRunner(nil, name)
			_ = r.Standalone(context.Background(), name, bytes.NewReader(in), io.Discard)
			r.Close()
			for _, call := range acts[name].got() {
				checkCall(t, call)
			}
		}
	})
}

// checkCall checks one recorded action call ("add TARGET exp=..." or
// "delete TARGET") names a target the validation lets through.
func checkCall(t *testing.T, call string) {
	f := strings.Fields(call)
	if len(f) < 2 {
		t.Fatalf("call %q", call)
	}
	target := f[1]
	if u, ok := strings.CutPrefix(target, "user:"); ok {
		if err := ValidUser(u); err != nil {
			t.Fatalf("action got user %q: %v", u, err)
		}
		return
	}
	a, err := netip.ParseAddr(target)
	if err != nil || a.Zone() != "" || a.IsLoopback() || a.IsUnspecified() || a.Is4In6() {
		t.Fatalf("action got target %q", target)
	}
}

// FuzzTargetFromAlert: a target comes out valid or not at all, and its key
// is its canonical text.
func FuzzTargetFromAlert(f *testing.F) {
	f.Add([]byte(alertIP))
	f.Add([]byte(`{"data":{"srcip":"2001:DB8:0:0::4"}}`))
	f.Add([]byte(`{"data":{"win":{"eventdata":{"ipAddress":"-"}},"srcip":"198.51.100.1"}}`))
	f.Add([]byte(`{"data":{"dstuser":"-rf"}}`))
	f.Fuzz(func(t *testing.T, alert []byte) {
		for _, kind := range []KeyKind{KeyAddr, KeyUser} {
			tg, keys, err := TargetFromAlert(kind, alert)
			if err != nil {
				continue
			}
			if len(keys) != 1 {
				t.Fatalf("keys %q for %s", keys, alert)
			}
			if kind == KeyUser {
				if ValidUser(tg.User) != nil || keys[0] != tg.User {
					t.Fatalf("user %q, keys %q", tg.User, keys)
				}
				continue
			}
			checkCall(t, "add "+tg.Addr.String())
			if keys[0] != tg.Addr.String() {
				t.Fatalf("key %q for address %v", keys[0], tg.Addr)
			}
		}
	})
}
