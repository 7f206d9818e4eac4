package actions

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// xosCase builds one non-Linux action on a fake OS and returns it with a
// function rendering the fake's state.
type xosCase struct {
	golden string
	build  func(t *testing.T, f *xosFake, cfg Config) (Action, func() string)
}

// xosCases are the actions checked against golden transcripts of xosSteps
// (firewall-drop's iptables backend is not an action of its own: see
// iptables_test.go).
var xosCases = []xosCase{
	{"pf", func(t *testing.T, f *xosFake, cfg Config) (Action, func() string) {
		m := &xosPF{enabled: true}
		f.tools["pfctl"] = m.tool
		p := NewPF(cfg)
		p.Conf = xosPFConf(t, "set skip on lo0\npass all")
		return p, func() string { return m.state() + " conf=" + xosFile(t, p.Conf) }
	}},
	{"ipfw", func(t *testing.T, f *xosFake, cfg Config) (Action, func() string) {
		m := &xosIPFW{}
		f.tools["ipfw"] = m.tool
		return NewIPFW(cfg), m.state
	}},
	{"npf", func(t *testing.T, f *xosFake, cfg Config) (Action, func() string) {
		m := &xosNPF{active: true, hasTable: true, table: map[netip.Addr]bool{}}
		f.tools["npfctl"] = m.tool
		return NewNPF(cfg), m.state
	}},
	{"firewall-drop-ipf", func(t *testing.T, f *xosFake, cfg Config) (Action, func() string) {
		m := &xosIPF{rules: map[string]bool{}}
		f.tools["ipf"], f.tools["ipfstat"] = m.ipf, m.ipfstat
		return NewIPFilter(cfg), m.state
	}},
	{"route-null-bsd", func(t *testing.T, f *xosFake, cfg Config) (Action, func() string) {
		m := &xosRouteBSD{black: map[netip.Addr]bool{}}
		f.tools["route"] = m.tool
		return NewRouteBlackhole(cfg), m.state
	}},
	{"host-deny-freebsd", func(t *testing.T, f *xosFake, cfg Config) (Action, func() string) {
		h := NewHostsAllow(cfg)
		h.Path = filepath.Join(xosTempDir(t), "hosts.allow")
		xosWrite(t, h.Path, "# hosts.allow\n#\nALL : ALL : allow\nsshd : .evil.example : deny\n")
		return h, func() string { return xosFile(t, h.Path) }
	}},
	{"firewalld-drop", func(t *testing.T, f *xosFake, cfg Config) (Action, func() string) {
		m := &xosFirewalld{rules: map[string]bool{}}
		f.tools["firewall-cmd"] = m.tool
		return NewFirewalldDrop(cfg), m.state
	}},
	{"netsh", func(t *testing.T, f *xosFake, cfg Config) (Action, func() string) {
		m := &xosNetsh{profiles: map[string]string{"DomainProfile": "0x1", "StandardProfile": "0x1", "PublicProfile": "0x1"}}
		f.tools["netsh"], f.tools["reg"] = m.tool, m.reg
		return NewNetsh(cfg), m.state
	}},
	{"route-null-exe", func(t *testing.T, f *xosFake, cfg Config) (Action, func() string) {
		m := &xosRouteWin{hosts: map[netip.Prefix]string{}}
		f.tools["route"] = m.tool
		return NewRouteNullWindows(cfg), m.state
	}},
}

// TestXOS_Golden checks the exact command lines of add and delete, twice
// each and for both families, against testdata/NAME.golden, and that the
// second call of each changes nothing.
func TestXOS_Golden(t *testing.T) {
	for _, c := range xosCases {
		t.Run(c.golden, func(t *testing.T) {
			f := newXOSFake()
			var logBuf bytes.Buffer
			a, state := c.build(t, f, Config{Exec: f, Logger: xosLogger(&logBuf)})
			got := xosRun(t, a, f, &logBuf, state, xosSteps)
			xosGolden(t, c.golden, xosScrub(got))
		})
	}
}

// TestXOS_HostileTargets checks that no target that is not a plain host
// address reaches a command line: every action refuses it with
// ErrInvalidTarget before running anything.
func TestXOS_HostileTargets(t *testing.T) {
	hostile := []Target{
		{},
		{User: "root"},
		{Addr: netip.MustParseAddr("fe80::1").WithZone(`" & calc.exe & "`)},
		{Addr: netip.MustParseAddr("fe80::1").WithZone("eth0; rm -rf /")},
		{Addr: netip.MustParseAddr("0.0.0.0")},
		{Addr: netip.MustParseAddr("::")},
		{Addr: netip.MustParseAddr("127.0.0.1")},
		{Addr: netip.MustParseAddr("::ffff:127.0.0.1")},
		{Addr: netip.MustParseAddr("::1")},
	}
	for _, c := range xosCases {
		f := newXOSFake()
		a, _ := c.build(t, f, Config{Exec: f, Logger: xosLogger(new(bytes.Buffer))})
		for _, tgt := range hostile {
			errAdd := a.Add(context.Background(), tgt, time.Time{})
			errDel := a.Delete(context.Background(), tgt)
			if !errors.Is(errAdd, ErrInvalidTarget) || !errors.Is(errDel, ErrInvalidTarget) {
				t.Errorf("%s %+v: got %v / %v, want ErrInvalidTarget", c.golden, tgt, errAdd, errDel)
			}
			if cmds := f.take(); len(cmds) > 0 {
				t.Errorf("%s %+v ran %q", c.golden, tgt, cmds)
			}
		}
	}
}

// TestXOS_ToolMissing checks that a missing tool gives one error marked
// ErrToolMissing that names it, for add and delete.
func TestXOS_ToolMissing(t *testing.T) {
	for _, c := range xosCases {
		if c.golden == "host-deny-freebsd" {
			continue // runs no tool
		}
		t.Run(c.golden, func(t *testing.T) {
			f := newXOSFake()
			a, _ := c.build(t, f, Config{Exec: f, Logger: xosLogger(new(bytes.Buffer))})
			f.tools = map[string]xosTool{}
			tgt := Target{Addr: netip.MustParseAddr("203.0.113.7")}
			for _, err := range []error{
				a.Add(context.Background(), tgt, time.Time{}),
				a.Delete(context.Background(), tgt),
			} {
				if !errors.Is(err, ErrToolMissing) || !strings.Contains(err.Error(), "executable file not found") {
					t.Errorf("got %v, want ErrToolMissing naming the tool", err)
				}
			}
		})
	}
}

// xosPFConf writes a pf.conf into a temporary directory.
func xosPFConf(t *testing.T, content string) string {
	path := filepath.Join(xosTempDir(t), "pf.conf")
	xosWrite(t, path, content)
	return path
}

func xosWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func xosFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\n", `\n`)
}

// xosTempDirRE matches a path inside a directory made by xosTempDir.
var xosTempDirRE = regexp.MustCompile(`\S*xos-[0-9]+(\S*)`)

// xosScrub replaces paths in xosTempDir directories with "/TMP/...", the
// same on every OS.
func xosScrub(s string) string {
	return xosTempDirRE.ReplaceAllStringFunc(s, func(m string) string {
		rest := xosTempDirRE.FindStringSubmatch(m)[1]
		return "/TMP" + strings.ReplaceAll(rest, `\`, "/")
	})
}

// xosTempDir is t.TempDir for Wine too: Wine cannot run os.RemoveAll (Go's
// Windows RemoveAll needs a call Wine lacks), so cleanup removes the
// entries one by one with os.Remove, deepest first.
func xosTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "xos-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var paths []string
		filepath.WalkDir(dir, func(p string, _ fs.DirEntry, _ error) error {
			paths = append(paths, p)
			return nil
		})
		for _, p := range slices.Backward(paths) {
			if err := os.Remove(p); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return dir
}
