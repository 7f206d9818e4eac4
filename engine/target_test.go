package engine

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

func TestFields_Target(t *testing.T) {
	for _, c := range []struct {
		name string
		f    Fields
		want Target
	}{
		{"address", Fields{SrcIP: "203.0.113.7", User: "-"}, Target{Addr: netip.MustParseAddr("203.0.113.7")}},
		{"IPv6 in canonical form", Fields{SrcIP: "2001:DB8:0:0::4", User: "-"}, Target{Addr: netip.MustParseAddr("2001:db8::4")}},
		{"IPv4-mapped is IPv4", Fields{SrcIP: "::ffff:198.51.100.9", User: "-"}, Target{Addr: netip.MustParseAddr("198.51.100.9")}},
		{"user only", Fields{SrcIP: "-", User: "mallory"}, Target{User: "mallory"}},
		{"both", Fields{SrcIP: "203.0.113.7", User: "mallory"}, Target{Addr: netip.MustParseAddr("203.0.113.7"), User: "mallory"}},
		{"zone is not an address", Fields{SrcIP: "fe80::1%eth0", User: "-"}, Target{}},
		{"neither", Fields{SrcIP: "-", User: "-"}, Target{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.f.Target()
			if got != c.want {
				t.Fatalf("Target() = %+v, want %+v", got, c.want)
			}
			if got.IsZero() != (c.want == Target{}) {
				t.Errorf("IsZero() = %v", got.IsZero())
			}
		})
	}
	if k := (Target{Addr: netip.MustParseAddr("2001:db8::4"), User: "x"}).Key(); k != "2001:db8::4" {
		t.Errorf("Key() = %q, want the address", k)
	}
	if k := (Target{User: "x"}).Key(); k != "x" {
		t.Errorf("Key() = %q, want the user", k)
	}
}

// TestAlert_Target: the stand-alone decoding of a target applies validate's
// rules to each field on its own and gives the canonical form.
func TestAlert_Target(t *testing.T) {
	host := newHostSet("192.0.2.10") // the host's own (this machine's subnet), never a target
	for _, c := range []struct {
		name, alert string
		want        Target
		own, bad    bool // the error wraps ErrOwnAddress; it wraps ErrInvalidTarget
	}{
		{"address and user", `{"data":{"srcip":"203.0.113.7","dstuser":"bob"}}`,
			Target{Addr: netip.MustParseAddr("203.0.113.7"), User: "bob"}, false, false},
		{"IPv6 canonical", `{"data":{"srcip":"2001:DB8:0:0::4"}}`, Target{Addr: netip.MustParseAddr("2001:db8::4")}, false, false},
		{"IPv4-mapped is IPv4", `{"data":{"srcip":"::ffff:198.51.100.9"}}`, Target{Addr: netip.MustParseAddr("198.51.100.9")}, false, false},
		{"destinationIp only", `{"data":{"win":{"eventdata":{"destinationIp":"203.0.113.30"}}}}`,
			Target{Addr: netip.MustParseAddr("203.0.113.30")}, false, false},
		{"neither", `{"rule":{"level":3}}`, Target{}, false, false},
		{"host's own", `{"data":{"srcip":"192.0.2.10","dstuser":"bob"}}`, Target{User: "bob"}, true, true},
		{"loopback", `{"data":{"srcip":"::ffff:127.0.0.1"}}`, Target{}, true, true},
		{"not an address", `{"data":{"srcip":"1.2.3.4;rm -rf /"}}`, Target{}, false, true},
		{"zone", `{"data":{"srcip":"fe80::1%eth0"}}`, Target{}, false, true},
		{"bad user keeps the address", `{"data":{"srcip":"203.0.113.7","dstuser":"$(reboot)"}}`,
			Target{Addr: netip.MustParseAddr("203.0.113.7")}, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var a Alert
			if err := a.Decode([]byte(c.alert)); err != nil {
				t.Fatal(err)
			}
			got, err := a.Target(host)
			if got != c.want {
				t.Errorf("Target = %+v, want %+v", got, c.want)
			}
			if errors.Is(err, ErrInvalidTarget) != c.bad || errors.Is(err, ErrOwnAddress) != c.own {
				t.Errorf("err = %v; want invalid %v, own address %v", err, c.bad, c.own)
			}
		})
	}
}

// TestEngine_DestinationIPOnly: an alert whose only address is a Sysmon
// event's destinationIp runs its command with that address as target
// (Wazuh 4.14.7's programs block it); before, the engine saw no address.
func TestEngine_DestinationIPOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []Invocation
		r := &fakeRunner{hook: func(inv Invocation) { got = append(got, inv) }}
		h := startEngine(t, newMemStore(), r, testConfig(time.Minute), "b")
		defer h.stop()
		line := `{"rule":{"level":10,"id":"5712","groups":["sysmon"]},"id":"7.1","data":{"win":{"eventdata":{"destinationIp":"2001:DB8::0:30"}}}}`
		if err := h.e.Handle(context.Background(), Record{Data: []byte(line), Pos: Position{Source: "alerts.json", FileID: "1:2", Offset: int64(len(line)) + 1}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if len(got) != 1 {
			t.Fatalf("%d runs, want 1", len(got))
		}
		if want := netip.MustParseAddr("2001:db8::30"); got[0].Target.Addr != want || got[0].Fields.SrcIP != "2001:DB8::0:30" {
			t.Errorf("target %+v, fields %+v; want %v", got[0].Target, got[0].Fields, want)
		}
	})
}
