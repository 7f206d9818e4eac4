package actions

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestIPFilter_HalfPresent checks that only the missing line of the two is
// fed to ipf, and only the present one removed.
func TestIPFilter_HalfPresent(t *testing.T) {
	m := &xosIPF{rules: map[string]bool{"block in quick from 203.0.113.5/32 to any": true}}
	f := newXOSFake()
	f.tools["ipf"], f.tools["ipfstat"] = m.ipf, m.ipfstat
	fw := NewIPFilter(Config{Exec: f, Logger: xosLogger(nil)})
	tgt := Target{Addr: netip.MustParseAddr("203.0.113.5")}
	if err := fw.Add(context.Background(), tgt, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(f.take(), "|"), "$ ipfstat -io|$ ipf -f -|< block out quick from any to 203.0.113.5"; got != want {
		t.Errorf("ran %s\nwant %s", got, want)
	}
	delete(m.rules, "block in quick from 203.0.113.5/32 to any")
	if err := fw.Delete(context.Background(), tgt); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(f.take(), "|"), "$ ipfstat -io|$ ipf -rf -|< block out quick from any to 203.0.113.5"; got != want {
		t.Errorf("ran %s\nwant %s", got, want)
	}
}

// noStdinExec is an Execer that cannot feed standard input.
type noStdinExec struct{ f *xosFake }

func (e noStdinExec) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return e.f.Run(ctx, name, args...)
}

// TestIPFilter_NoStdin checks the error when the Execer cannot feed stdin.
func TestIPFilter_NoStdin(t *testing.T) {
	m := &xosIPF{rules: map[string]bool{}}
	f := newXOSFake()
	f.tools["ipfstat"] = m.ipfstat
	fw := NewIPFilter(Config{Exec: noStdinExec{f}, Logger: xosLogger(nil)})
	err := fw.Add(context.Background(), Target{Addr: netip.MustParseAddr("203.0.113.5")}, time.Time{})
	if !errors.Is(err, errNoStdin) {
		t.Errorf("got %v, want errNoStdin", err)
	}
}

func TestIPFListed(t *testing.T) {
	a := netip.MustParseAddr("203.0.113.5")
	out := ipfRules(a)[0]
	for listing, want := range map[string]bool{
		"block out quick from any to 203.0.113.5/32\n":          true,
		"@3 block out quick from any to 203.0.113.5/32\n":       true,
		"pass out all\nblock out quick from any to 203.0.113.5": true,
		"block out quick from any to 203.0.113.50/32\n":         false,
		"block out quick from any to 203.0.113.0/24\n":          false,
		"block out from any to 203.0.113.5/32\n":                false,
		"block in quick from 203.0.113.5/32 to any\n":           false,
	} {
		if got := ipfListed([]byte(listing), out); got != want {
			t.Errorf("ipfListed(%q) = %v, want %v", listing, got, want)
		}
	}
}
