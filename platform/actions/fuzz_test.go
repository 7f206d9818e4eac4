package actions

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
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
	f.Add([]byte(`{"version":1,"origin":{},"command":"delete","parameters":{"alert":{"data":{"win":{"eventdata":{"destinationIp":"2001:DB8::1"}}}}}}` + "\n"))
	// The host's own address: 192.0.2.0/24 is the subnet of the machine the
	// tests run on, so it stands for "this host" and is never blocked.
	host := hostAddrs{netip.MustParseAddr("192.0.2.10"): true}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, name := range []string{"firewall-drop", "disable-account"} {
			r, acts := fakeRunner(nil, name)
			err := r.Standalone(context.Background(), name, bytes.NewReader(in), io.Discard, host)
			r.Close()
			calls := acts[name].got()
			for _, call := range calls {
				checkCall(t, call)
				if strings.Contains(call, "192.0.2.10") {
					t.Fatalf("acted on the host's own address: %q", call)
				}
			}
			if st := ExitStatus(err); st != 0 && st != 255 || st == 255 && len(calls) > 0 {
				t.Fatalf("exit status %d after calls %q (%v)", st, calls, err)
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

// FuzzAlertTarget: the stand-alone decoding gives a target valid for the
// built-in or none, its key is its canonical text, and it is the target the
// engine stores for the same alert (the in-process path): one set of rules.
func FuzzAlertTarget(f *testing.F) {
	f.Add([]byte(alertIP))
	f.Add([]byte(`{"data":{"srcip":"2001:DB8:0:0::4"}}`))
	f.Add([]byte(`{"data":{"win":{"eventdata":{"ipAddress":"-"}},"srcip":"198.51.100.1"}}`))
	f.Add([]byte(`{"data":{"win":{"eventdata":{"ipAddress":5,"destinationIp":"::ffff:198.51.100.2"}}}}`))
	f.Add([]byte(`{"data":{"dstuser":"-rf"}}`))
	f.Fuzz(func(t *testing.T, alert []byte) {
		et, _ := alertTarget(alert, nil)
		var a engine.Alert
		if a.Decode(alert) == nil && et.Addr.IsValid() {
			if stored := (engine.Fields{SrcIP: string(a.SrcIP)}).Target(); stored.Addr != et.Addr {
				t.Fatalf("stand-alone %v, stored %v for %s", et.Addr, stored.Addr, alert)
			}
		}
		for _, kind := range []KeyKind{KeyAddr, KeyUser} {
			tg, keys, err := targetOf(kind, et)
			if err != nil {
				continue
			}
			if len(keys) != 1 {
				t.Fatalf("keys %q for %s", keys, alert)
			}
			if kind == KeyUser {
				if ValidUser(tg.User) != nil || keys[0] != tg.User || tg.Addr.IsValid() {
					t.Fatalf("user %+v, keys %q", tg, keys)
				}
				continue
			}
			checkCall(t, "add "+tg.Addr.String())
			if keys[0] != tg.Addr.String() || tg.User != "" {
				t.Fatalf("key %q for %+v", keys[0], tg)
			}
		}
	})
}
