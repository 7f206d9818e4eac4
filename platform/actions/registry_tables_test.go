package actions

import (
	"context"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"
)

// osTables are every OS's registry, by GOOS.
var osTables = map[string]func(string, Config) (Action, bool){
	"darwin":  darwinBuiltin,
	"freebsd": freebsdBuiltin,
	"netbsd":  netbsdBuiltin,
	"openbsd": openbsdBuiltin,
}

// TestRegistry_IPFWMac checks that ipfw_mac, the name old macOS configs
// use, is the ipfw action on macOS and FreeBSD: the same command lines
// against the fake OS, step for step, as ipfw itself.
func TestRegistry_IPFWMac(t *testing.T) {
	transcript := func(a Action, f *xosFake) []string {
		ctx := context.Background()
		ip := Target{Addr: netip.MustParseAddr("203.0.113.7")}
		for _, step := range []func() error{
			func() error { return a.Add(ctx, ip, time.Time{}) },
			func() error { return a.Add(ctx, ip, time.Time{}) },
			func() error { return a.Delete(ctx, ip) },
			func() error { return a.Delete(ctx, ip) },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		return f.take()
	}
	newFake := func() (*xosFake, *xosIPFW) {
		f, m := newXOSFake(), &xosIPFW{}
		f.tools["ipfw"] = m.tool
		return f, m
	}
	f, _ := newFake()
	want := transcript(NewIPFW(Config{Exec: f}), f)
	for _, goos := range []string{"darwin", "freebsd"} {
		f, m := newFake()
		a, ok := osTables[goos]("ipfw_mac", Config{Exec: f})
		if _, isIPFW := a.(*IPFW); !ok || !isIPFW {
			t.Fatalf("%s: ipfw_mac is %T, %v", goos, a, ok)
		}
		if got := transcript(a, f); !slices.Equal(got, want) {
			t.Errorf("%s: ipfw_mac ran\n%q\nwant ipfw's\n%q", goos, got, want)
		}
		if m.table[netip.MustParseAddr("203.0.113.7")] || len(m.rules) != 2 {
			t.Errorf("%s: state after add and delete: %s", goos, m.state())
		}
	}
	for _, goos := range []string{"netbsd", "openbsd"} {
		if _, ok := osTables[goos]("ipfw_mac", Config{}); ok {
			t.Errorf("%s has ipfw_mac", goos)
		}
	}
	if kind := KindOf("ipfw_mac"); kind != KeyAddr {
		t.Errorf("ipfw_mac keys on %v", kind)
	}
}

// TestRegistry_Portable checks that every Unix has ip-customblock and the
// two notifications, keyed as Wazuh's programs are: the address, and no
// key (stateless).
func TestRegistry_Portable(t *testing.T) {
	tables := map[string]func(string, Config) (Action, bool){}
	if runtime.GOOS != "windows" { // Wazuh has no ip-customblock there
		tables["this OS"] = builtin
	} else if a, ok := builtin("OSSEC-Slack.exe", Config{}); !ok || a.Name() != "ossec-slack" {
		t.Errorf("Windows: OSSEC-Slack.exe = %v, %v", a, ok)
	}
	for goos, table := range osTables {
		tables[goos] = table
	}
	for goos, table := range tables {
		if a, ok := table("ip-customblock", Config{}); !ok || a.Name() != "ip-customblock" {
			t.Errorf("%s: ip-customblock = %v, %v", goos, a, ok)
		}
		for _, name := range []string{"ossec-slack", "ossec-tweeter"} {
			a, ok := table(name, Config{})
			if n, isN := a.(*Notification); !ok || !isN || n.Name() != name {
				t.Errorf("%s: %s = %T, %v", goos, name, a, ok)
			}
		}
	}
	for name, want := range map[string]KeyKind{
		"ip-customblock": KeyAddr, "ossec-slack": KeyNone, "ossec-tweeter": KeyNone,
		"OSSEC-SLACK.EXE": KeyNone, "ossec-tweeter.exe": KeyNone,
	} {
		if got := KindOf(name); got != want {
			t.Errorf("KindOf(%q) = %v, want %v", name, got, want)
		}
	}
	if a, _ := notifyBuiltin("ossec-slack", Config{}); a.(*Notification).defaults.Format != FormatSlack {
		t.Error("ossec-slack does not default to Slack's payload")
	}
	if a, _ := notifyBuiltin("ossec-tweeter", Config{}); a.(*Notification).defaults.Format != FormatJSON {
		t.Error("ossec-tweeter does not default to the JSON payload")
	}
}
