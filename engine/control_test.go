package engine

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestEngine_UnblockRunsTheDeleteNow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(time.Hour), "b")
		defer h.stop()
		h.alert("203.0.113.7", "1.1")
		h.alert("203.0.113.8", "1.2")
		if a := h.e.Active(); len(a) != 2 || a[0].Key != "firewall-drop-203.0.113.7" || a[0].Offences != 1 ||
			a[0].Fields.AlertID != "1.1" || !a[0].Expires.Equal(a[0].Created.Add(time.Hour)) {
			t.Fatalf("active: %+v", a)
		}
		en, err := h.e.Unblock(context.Background(), "firewall-drop-203.0.113.7")
		if err != nil {
			t.Fatal(err)
		}
		if en.Fields.SrcIP != "203.0.113.7" {
			t.Errorf("unblocked entry %+v", en)
		}
		h.want("add firewall-drop 203.0.113.7 continue 1.1", "add firewall-drop 203.0.113.8 continue 1.2",
			"delete firewall-drop 203.0.113.7  1.1")
		if a := h.e.Active(); len(a) != 1 || a[0].Key != "firewall-drop-203.0.113.8" {
			t.Errorf("active after unblock: %+v", a)
		}
		if e := h.store.entries(); len(e) != 1 {
			t.Errorf("stored after unblock: %+v", e)
		}
		// Its old timer fires later and finds nothing: no second delete.
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.7 continue 1.1", "add firewall-drop 203.0.113.8 continue 1.2",
			"delete firewall-drop 203.0.113.7  1.1", "delete firewall-drop 203.0.113.8  1.2")
		// A new alert blocks it again: a first offence of a new generation? No:
		// offences are counted per key and kept.
		h.alert("203.0.113.7", "1.3")
		if a := h.e.Active(); len(a) != 1 || a[0].Offences != 2 {
			t.Errorf("active after a new alert: %+v", a)
		}
	})
}

func TestEngine_UnblockUnknownAndHostileKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(time.Hour), "b")
		defer h.stop()
		h.alert("203.0.113.7", "1.1")
		for _, key := range []string{"", "firewall-drop-1.2.3.4;rm -rf /", "1.2.3.4;rm -rf /", "firewall-drop-203.0.113.7\n"} {
			if _, err := h.e.Unblock(context.Background(), key); !errors.Is(err, ErrNotActive) {
				t.Errorf("Unblock(%q) = %v, want ErrNotActive", key, err)
			}
		}
		h.want("add firewall-drop 203.0.113.7 continue 1.1")
	})
}

// TestEngine_UnblockNotStarted: a delete whose command cannot start leaves
// the entry, says so, and is retried as an expired entry's is.
func TestEngine_UnblockNotStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &fakeRunner{}
		h := startEngine(t, newMemStore(), r, testConfig(time.Hour), "b")
		defer h.stop()
		h.alert("203.0.113.7", "1.1")
		r.set(func(f *fakeRunner) { f.notFound = true })
		if _, err := h.e.Unblock(context.Background(), "firewall-drop-203.0.113.7"); err == nil || errors.Is(err, ErrNotActive) {
			t.Fatalf("Unblock with the command missing: %v", err)
		}
		r.set(func(f *fakeRunner) { f.notFound = false })
		time.Sleep(2 * time.Minute) // retryNotStarted
		synctest.Wait()
		h.want("add firewall-drop 203.0.113.7 continue 1.1", "delete firewall-drop 203.0.113.7  1.1")
		if a := h.e.Active(); len(a) != 0 {
			t.Errorf("active: %+v", a)
		}
	})
}

func TestEngine_Trigger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(time.Hour), "b")
		defer h.stop()
		ctx := context.Background()
		err := h.e.Trigger(ctx, Trigger{Command: "firewall-drop", SrcIP: "198.51.100.9", Timeout: time.Minute, By: "uid 0"})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		a := h.e.Active()
		if len(a) != 1 || a[0].Key != "firewall-drop-198.51.100.9" || !a[0].Expires.Equal(a[0].Created.Add(time.Minute)) {
			t.Fatalf("active after trigger: %+v", a)
		}
		if got := h.runner.seen(); len(got) != 1 || !strings.HasPrefix(got[0], "add firewall-drop 198.51.100.9 continue ") {
			t.Errorf("runs: %q", got)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if a := h.e.Active(); len(a) != 0 {
			t.Errorf("not reverted after its timeout: %+v", a)
		}
		for _, tr := range []Trigger{
			{Command: "nope", SrcIP: "198.51.100.9"},
			{Command: "firewall-drop", SrcIP: "1.2.3.4;rm -rf /"},
			{Command: "firewall-drop", SrcIP: "127.0.0.1"},
			{Command: "firewall-drop", User: "root;reboot"},
			{Command: "firewall-drop"},
		} {
			if err := h.e.Trigger(ctx, tr); err == nil {
				t.Errorf("Trigger(%+v) accepted", tr)
			}
		}
	})
}

// TestEngine_TriggerWhiteListed: a trigger of an address on the white list
// is refused and runs nothing, unless forced.
func TestEngine_TriggerWhiteListed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(time.Hour)
		cfg.WhiteList = []WhiteListEntry{{Prefix: netip.MustParsePrefix("198.51.100.0/24")}}
		h := startEngine(t, newMemStore(), &fakeRunner{}, cfg, "b")
		defer h.stop()
		ctx := context.Background()
		tr := Trigger{Command: "firewall-drop", SrcIP: "198.51.100.9", Timeout: time.Minute}
		if err := h.e.Trigger(ctx, tr); !errors.Is(err, ErrWhiteListed) || !strings.Contains(err.Error(), "--force") {
			t.Errorf("trigger of a white-listed address: %v, want ErrWhiteListed naming --force", err)
		}
		synctest.Wait()
		if got := h.runner.seen(); len(got) != 0 {
			t.Errorf("ran for a white-listed address: %q", got)
		}
		tr.Force = true
		if err := h.e.Trigger(ctx, tr); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := h.runner.seen(); len(got) != 1 || !strings.HasPrefix(got[0], "add firewall-drop 198.51.100.9 continue ") {
			t.Errorf("forced trigger ran %q", got)
		}
	})
}

func TestExplainConfig(t *testing.T) {
	fw := &Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
	cfg := &Config{
		Commands: []*Command{fw},
		Responses: []*Response{
			{Command: fw, RulesID: []string{"5712"}, Line: 10},
			{Command: fw, Level: 12, Line: 20},
			{Command: fw, RulesGroup: []string{"web,"}, Line: 30},
			{Command: fw, Level: 5, Location: LocationDefinedAgent, AgentID: "007", Line: 40},
			{Command: fw, Level: 1, Disabled: true, Line: 50},
		},
		WhiteList: []WhiteListEntry{{Prefix: netip.MustParsePrefix("198.51.100.0/24")}},
	}
	sshd := func(ip string) []byte {
		return []byte(`{"rule":{"level":10,"id":"5712","groups":["syslog","sshd"]},"id":"1.1","agent":{"id":"000"},"data":{"srcip":"` + ip + `"}}`)
	}
	tests := []struct {
		name  string
		alert []byte
		want  []string // Runs or Reason, by block
	}{
		{"runs", sshd("203.0.113.7"), []string{"runs", "level 10 below 12", `groups "syslog,sshd," match no rules_group "web,"`, "location", "disabled"}},
		{"white list", sshd("198.51.100.7"), []string{"white_list", "level 10 below 12", `groups "syslog,sshd," match no rules_group "web,"`, "white_list", "disabled"}},
		{"own address", sshd("127.0.0.1"), []string{"own_address", "level 10 below 12", `groups "syslog,sshd," match no rules_group "web,"`, "own_address", "disabled"}},
		{"hostile", sshd("1.2.3.4;rm -rf /"), []string{"invalid_srcip", "level 10 below 12", `groups "syslog,sshd," match no rules_group "web,"`, "invalid_srcip", "disabled"}},
		{"level 0", []byte(`{"rule":{"level":0,"id":"5712"},"data":{"srcip":"203.0.113.7"}}`), []string{
			"rule level 0 never triggers", "rule level 0 never triggers", "rule level 0 never triggers", "rule level 0 never triggers", "disabled"}},
		{"other rule", []byte(`{"rule":{"level":3,"id":"1"},"data":{"srcip":"203.0.113.7"}}`), []string{
			"rule 1 is not in rules_id 5712", "level 3 below 12", `groups "" match no rules_group "web,"`, "level 3 below 5", "disabled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := ExplainConfig(cfg, "", nil, tt.alert)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range x.Responses {
				if v.Runs {
					got = append(got, "runs")
				} else {
					got = append(got, v.Reason)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("verdicts:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	if _, err := ExplainConfig(cfg, "", nil, []byte("{not json")); err == nil {
		t.Error("a malformed alert explained")
	}
}

// TestEngine_ActiveWhere: only the entries the filter accepts are copied,
// sorted by key and without their Params; a nil filter takes every one.
func TestEngine_ActiveWhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startEngine(t, newMemStore(), &fakeRunner{}, testConfig(time.Hour), "b")
		defer h.stop()
		for i, ip := range []string{"203.0.113.9", "203.0.113.7", "203.0.113.8"} {
			h.alert(ip, "1."+string(rune('1'+i)))
		}
		seen := 0
		got := h.e.ActiveWhere(func(en *Entry) bool {
			seen++
			return en.Fields.SrcIP != "203.0.113.8"
		})
		if seen != 3 || len(got) != 2 || got[0].Key != "firewall-drop-203.0.113.7" || got[1].Key != "firewall-drop-203.0.113.9" ||
			got[0].Params != nil || got[1].Params != nil || got[1].Fields.AlertID != "1.1" {
			t.Errorf("filtered (filter called %d times): %+v", seen, got)
		}
		if all := h.e.ActiveWhere(nil); len(all) != 3 || all[1].Key != "firewall-drop-203.0.113.8" {
			t.Errorf("every entry: %+v", all)
		}
		if none := h.e.ActiveWhere(func(*Entry) bool { return false }); len(none) != 0 {
			t.Errorf("none: %+v", none)
		}
	})
}
