//go:build linux

package main

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func TestParseElems(t *testing.T) {
	key := func(a string) []byte {
		ip := netip.MustParseAddr(a).AsSlice()
		return mustMarshal(t, netlink.Attribute{Type: unix.NFTA_SET_ELEM_KEY | unix.NLA_F_NESTED,
			Data: mustMarshal(t, netlink.Attribute{Type: unix.NFTA_DATA_VALUE, Data: ip})})
	}
	elem := func(a string) netlink.Attribute {
		return netlink.Attribute{Type: unix.NFTA_LIST_ELEM | unix.NLA_F_NESTED, Data: key(a)}
	}
	body := mustMarshal(t,
		netlink.Attribute{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: []byte("threatlockdown\x00")},
		netlink.Attribute{Type: unix.NFTA_SET_ELEM_LIST_SET, Data: []byte("blocked4\x00")},
		netlink.Attribute{Type: unix.NFTA_SET_ELEM_LIST_ELEMENTS | unix.NLA_F_NESTED,
			Data: mustMarshal(t, elem("198.18.0.1"), elem("203.0.113.9"))},
	)
	set, addrs, err := parseElems(append([]byte{unix.NFPROTO_INET, 0, 0, 0}, body...))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("203.0.113.9")}
	if set != "blocked4" || !slices.Equal(addrs, want) {
		t.Errorf("parseElems = %q, %v; want blocked4, %v", set, addrs, want)
	}
}

func mustMarshal(t *testing.T, attrs ...netlink.Attribute) []byte {
	t.Helper()
	b, err := netlink.MarshalAttributes(attrs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseNftSet(t *testing.T) {
	out := `{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"family": "inet", "name": "s", "table": "t", "type": "ipv4_addr",
 "elem": [{"elem": {"val": "198.18.0.1", "timeout": 3600, "expires": 3599}}, "198.18.0.2", {"elem": {"val": "203.0.113.254", "timeout": 60}}]}}]}`
	got, err := parseNftSet([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1] != netip.MustParseAddr("198.18.0.2") {
		t.Errorf("parseNftSet = %v", got)
	}
}

func TestParseUsage(t *testing.T) {
	status := "Name:\tthreatlockdown\nVmPeak:\t 1000 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 100 kB\nRssAnon:\t 60 kB\nRssFile:\t 40 kB\n"
	stat := "42 (thread lock) S 1 42 42 0 -1 4194560 100 0 0 0 150 50 7 3 20 0 8 0"
	u, err := parseUsage(status, stat)
	if err != nil {
		t.Fatal(err)
	}
	if u.PeakRSSKiB != 12345 || u.RssAnonKiB != 60 || u.RssFileKiB != 40 || u.CPU != 2 || u.ChildrenCPU != 0.1 {
		t.Errorf("parseUsage = %+v", u)
	}
}

func TestParseF2BRegex(t *testing.T) {
	out := "Lines: 20000 lines, 0 ignored, 19999 matched, 1 missed\n[processed in 0.93 sec]\n\nbench-peak: {\"peak_rss_kib\": 67436, \"cpu_s\": 1.46}\n"
	d, err := parseF2BRegex([]byte(out), 1.7, usage{CPU: 1.5})
	if err != nil {
		t.Fatal(err)
	}
	if d.Lines != 20000 || d.Matched != 19999 || d.Seconds != 0.93 || d.Usage.PeakRSSKiB != 67436 || d.Usage.CPU != 1.5 {
		t.Errorf("parseF2BRegex = %+v", d)
	}
}

func TestPercentile(t *testing.T) {
	xs := make([]float64, 200)
	for i := range xs {
		xs[i] = float64(200 - i) // 200 … 1
	}
	if p50, p99 := percentile(xs, 50), percentile(xs, 99); p50 != 100 || p99 != 198 {
		t.Errorf("p50, p99 = %v, %v; want 100, 198", p50, p99)
	}
}

func TestEstimate(t *testing.T) {
	// 11 blocks, the first at 1 s and one every 0.5 s: 1,000 take 1 + 999/2 s.
	if got := estimate(1000, 11, 1, 6); got != 500.5 {
		t.Errorf("estimate = %v, want 500.5", got)
	}
	if got := estimate(10, 10, 0.1, 0.2); got != 0.2 {
		t.Errorf("estimate of a finished run = %v, want its time", got)
	}
}

func TestLines(t *testing.T) {
	at := time.Date(2026, 12, 2, 8, 3, 4, 5e6, time.UTC)
	a := stormAddr(300)
	if a != netip.MustParseAddr("198.18.1.45") {
		t.Errorf("stormAddr(300) = %v", a)
	}
	if a := singleAddr(251); a != netip.MustParseAddr("198.51.100.2") {
		t.Errorf("singleAddr(251) = %v", a)
	}
	sshd := string(sshdLine(nil, a, 7, at))
	if want := "Dec  2 08:03:04 bench sshd[1007]: Failed password for root from 198.18.1.45 port 1031 ssh2\n"; sshd != want {
		t.Errorf("sshdLine = %q, want %q", sshd, want)
	}
	alert := alertLine(nil, a, 7, at)
	var v struct {
		Rule    struct{ ID string }
		FullLog string `json:"full_log"`
		Data    struct{ SrcIP string }
	}
	if err := json.Unmarshal(alert, &v); err != nil {
		t.Fatalf("alertLine is not JSON: %v\n%s", err, alert)
	}
	if v.Rule.ID != "5760" || v.Data.SrcIP != "198.18.1.45" || v.FullLog+"\n" != sshd || strings.Count(string(alert), "\n") != 1 {
		t.Errorf("alertLine = %s", alert)
	}
}

func TestNum(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q, want %q", n, got, want)
		}
	}
}
