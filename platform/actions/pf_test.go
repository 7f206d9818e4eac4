package actions

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// newTestPF returns a PF on a fake pfctl with pf.conf holding conf.
func newTestPF(t *testing.T, m *xosPF, conf string) (*PF, *xosFake, *bytes.Buffer) {
	f := newXOSFake()
	f.tools["pfctl"] = m.tool
	var logBuf bytes.Buffer
	p := NewPF(Config{Exec: f, Logger: xosLogger(&logBuf)})
	p.Conf = xosPFConf(t, conf)
	return p, f, &logBuf
}

// TestPF_Disabled checks that a disabled pf is reported as Wazuh does, in
// one log line, and that the address is still added (it takes effect when
// pf is enabled).
func TestPF_Disabled(t *testing.T) {
	m := &xosPF{loaded: true}
	p, f, logBuf := newTestPF(t, m, "")
	got := xosRun(t, p, f, logBuf, m.state, xosSteps[:1])
	xosGolden(t, "pf-disabled", got)
}

// TestPF_ConfNotLoaded checks that a pf.conf that has the table while the
// loaded rules do not is reported, not edited or reloaded.
func TestPF_ConfNotLoaded(t *testing.T) {
	m := &xosPF{enabled: true}
	conf := "table <wazuh_fwtable> persist\nblock in quick from <wazuh_fwtable> to any"
	p, f, logBuf := newTestPF(t, m, conf)
	if err := p.Add(context.Background(), Target{Addr: netip.MustParseAddr("203.0.113.5")}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := xosFile(t, p.Conf); got != strings.ReplaceAll(conf, "\n", `\n`) {
		t.Errorf("pf.conf changed: %s", got)
	}
	if cmds := strings.Join(f.take(), "\n"); strings.Contains(cmds, "pfctl -f") {
		t.Errorf("reloaded pf.conf:\n%s", cmds)
	}
	if !strings.Contains(logBuf.String(), "pfctl -f") {
		t.Errorf("no warning logged: %q", logBuf.String())
	}
}

// TestPF_NoConf checks that a missing pf.conf is one clear error.
func TestPF_NoConf(t *testing.T) {
	p, _, _ := newTestPF(t, &xosPF{enabled: true}, "")
	p.Conf += ".missing"
	err := p.Add(context.Background(), Target{Addr: netip.MustParseAddr("203.0.113.5")}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "pf rules file") {
		t.Errorf("got %v, want an error naming the pf rules file", err)
	}
}

// TestPF_Batch checks that AddMany and DeleteMany pass the addresses to
// pfctl pfBatchSize at a time, with one rules check and status report.
func TestPF_Batch(t *testing.T) {
	m := &xosPF{enabled: true, loaded: true}
	p, f, _ := newTestPF(t, m, "")
	var blocks []Block
	var targets []Target
	for i := range pfBatchSize + 2 {
		a := netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
		blocks = append(blocks, Block{Target: Target{Addr: a}})
		targets = append(targets, Target{Addr: a})
	}
	if err := p.AddMany(context.Background(), blocks); err != nil {
		t.Fatal(err)
	}
	if got, want := xosShape(f.take()), "pfctl -s rules|pfctl -s info|pfctl -t wazuh_fwtable -T add x1000|pfctl -t wazuh_fwtable -T add x2"; got != want {
		t.Errorf("AddMany ran %s, want %s", got, want)
	}
	if len(m.table) != pfBatchSize+2 {
		t.Errorf("table holds %d addresses", len(m.table))
	}
	if err := p.DeleteMany(context.Background(), targets); err != nil {
		t.Fatal(err)
	}
	if got, want := xosShape(f.take()), "pfctl -t wazuh_fwtable -T delete x1000|pfctl -t wazuh_fwtable -T delete x2"; got != want {
		t.Errorf("DeleteMany ran %s, want %s", got, want)
	}
}

// xosShape abbreviates command lines: the first four words after the tool
// and the count of the rest.
func xosShape(cmds []string) string {
	var s []string
	for _, c := range cmds {
		f := strings.Fields(strings.TrimPrefix(c, "$ "))
		if len(f) > 5 {
			s = append(s, fmt.Sprintf("%s x%d", strings.Join(f[:5], " "), len(f)-5))
			continue
		}
		s = append(s, strings.Join(f, " "))
	}
	return strings.Join(s, "|")
}

func TestPFEnabled(t *testing.T) {
	for out, want := range map[string]bool{
		"Status: Enabled for 0 days 01:02:03           Debug: Urgent\n": true,
		"Status: Disabled for 0 days 00:00:00          Debug: Urgent\n": false,
		"No ALTQ support in kernel\nStatus: Enabled for 2 days\n":       true,
		"pfctl: /dev/pf: No such file or directory\n":                   false,
		"": false,
	} {
		if got := pfEnabled([]byte(out)); got != want {
			t.Errorf("pfEnabled(%q) = %v, want %v", out, got, want)
		}
	}
}

func TestPFRulesUseTable(t *testing.T) {
	for out, want := range map[string]bool{
		"block drop in quick from <wazuh_fwtable> to any\n":                              true,
		"anchor \"com.apple/*\" all\nblock drop out quick from any to <wazuh_fwtable>\n": true,
		"pass in quick from <wazuh_fwtable> to any\n":                                    false,
		"block drop in quick from <wazuh_fwtable2> to any\n":                             false,
		"": false,
	} {
		if got := pfRulesUseTable([]byte(out), "wazuh_fwtable"); got != want {
			t.Errorf("pfRulesUseTable(%q) = %v, want %v", out, got, want)
		}
	}
}

func TestPFConfHasTable(t *testing.T) {
	for conf, want := range map[string]bool{
		"table <wazuh_fwtable> persist #wazuh_fwtable\n": true,
		"# table <wazuh_fwtable> persist\n":              false,
		"pass all # wazuh_fwtable\n":                     false,
		"block in from <wazuh_fwtable>":                  true,
	} {
		if got := pfConfHasTable([]byte(conf), "wazuh_fwtable"); got != want {
			t.Errorf("pfConfHasTable(%q) = %v, want %v", conf, got, want)
		}
	}
}

// TestPF_Present lists the addresses in the table, none before it exists.
func TestPF_Present(t *testing.T) {
	m := &xosPF{loaded: true, enabled: true}
	p, _, _ := newTestPF(t, m, "")
	ctx := context.Background()
	a, b := netip.MustParseAddr("203.0.113.4"), netip.MustParseAddr("2001:db8::4")
	if has, err := p.present(ctx); err != nil || has(Target{Addr: a}) {
		t.Fatalf("before any block: %v", err)
	}
	if err := p.AddMany(ctx, []Block{{Target: Target{Addr: a}}, {Target: Target{Addr: b}}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Delete(ctx, Target{Addr: b}); err != nil {
		t.Fatal(err)
	}
	has, err := p.present(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !has(Target{Addr: a}) || has(Target{Addr: b}) {
		t.Errorf("present: %v %v, want true false", has(Target{Addr: a}), has(Target{Addr: b}))
	}
}
