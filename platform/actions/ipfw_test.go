package actions

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestIPFW_PartialRules checks that only the missing one of the two deny
// rules is added.
func TestIPFW_PartialRules(t *testing.T) {
	m := &xosIPFW{rules: []string{"00001 deny ip from table(1) to any"}}
	f := newXOSFake()
	f.tools["ipfw"] = m.tool
	w := NewIPFW(Config{Exec: f, Logger: xosLogger(nil)})
	if err := w.Add(context.Background(), Target{Addr: netip.MustParseAddr("203.0.113.5")}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	want := "$ ipfw list|$ ipfw -q add 1 deny ip from any to table(1)|$ ipfw -q table 1 add 203.0.113.5"
	if got := strings.Join(f.take(), "|"); got != want {
		t.Errorf("ran %s\nwant %s", got, want)
	}
}

// TestIPFW_DeleteFails checks that a failure other than a missing table
// is reported.
func TestIPFW_DeleteFails(t *testing.T) {
	f := newXOSFake()
	f.tools["ipfw"] = func([]string, string) (string, error) {
		return "ipfw: socket: Operation not permitted\n", errXOSExit1
	}
	w := NewIPFW(Config{Exec: f, Logger: xosLogger(nil)})
	err := w.Delete(context.Background(), Target{Addr: netip.MustParseAddr("203.0.113.5")})
	if err == nil || errors.Is(err, ErrToolMissing) {
		t.Errorf("got %v, want the ipfw error", err)
	}
}

func TestIPFWHasRules(t *testing.T) {
	tests := []struct {
		out      string
		from, to bool
	}{
		{"00001 deny ip from table(1) to any\n00001 deny ip from any to table(1)\n65535 deny ip from any to any\n", true, true},
		{"00100 deny ip from any to table(1)\n", false, true},
		{"00100 allow ip from table(1) to any\n", false, false},
		{"00100 deny ip from table(10) to any\n", false, false},
		{"00100 deny ip from table(1) to me\n", false, false},
		{"65535 deny ip from any to any\n", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		from, to := ipfwHasRules([]byte(tt.out), "1")
		if from != tt.from || to != tt.to {
			t.Errorf("ipfwHasRules(%q) = %v, %v, want %v, %v", tt.out, from, to, tt.from, tt.to)
		}
	}
}
