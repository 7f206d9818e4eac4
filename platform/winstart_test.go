package platform

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// TestFindWindows: a name without an extension is found as .exe, .cmd,
// .bat or .ps1; two matches are an error naming both; a name with an
// extension is used as is.
func TestFindWindows(t *testing.T) {
	files := map[string]bool{"b/fw.cmd": true, "b/two.exe": true, "b/two.ps1": true, "b/py.ps1": true, "b/x.exe": true, "b/x.exe.cmd": true}
	exists := func(p string) (bool, error) { return files[filepath.ToSlash(p)], nil }
	for _, tc := range []struct{ name, want, err string }{
		{"fw", "b/fw.cmd", ""},
		{"py", "b/py.ps1", ""},
		{"x.exe", "b/x.exe", ""},
		{"fw.cmd", "b/fw.cmd", ""},
		{"two", "", "b/two: ambiguous: two.exe and two.ps1 all exist; name the file with its extension in <executable>"},
		{"none", "", "b/none{.exe,.cmd,.bat,.ps1}: file does not exist"},
		{"fw.bat", "", "b/fw.bat: file does not exist"},
	} {
		got, err := findWindows(filepath.Join("b", tc.name), exists)
		if tc.err == "" {
			if err != nil || filepath.ToSlash(got) != tc.want {
				t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, engine.ErrNotStarted) || !strings.Contains(filepath.ToSlash(err.Error()), tc.err) {
			t.Errorf("%s: err = %v, want ErrNotStarted with %q", tc.name, err, tc.err)
		}
		if strings.Contains(tc.err, "does not exist") != errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: err = %v: fs.ErrNotExist wrapped wrongly", tc.name, err)
		}
	}
	boom := errors.New("access denied")
	if _, err := findWindows("b/fw", func(string) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("stat error: %v", err)
	}
}

// TestWindowsStart: the exact command lines Windows starts.
func TestWindowsStart(t *testing.T) {
	const abs = `C:\Program Files (x86)\ossec-agent\active-response\bin\`
	legacy := []string{"add", "-", "203.0.113.5", "1.2", "5712", "(host) any->/var/log/x", "-", "-"}
	for _, tc := range []struct {
		path    string
		args    []string
		argv    string // joined with |
		cmdLine string
	}{
		{"active-response/bin/fw.exe", nil, "active-response/bin/fw.exe", ""},
		{abs + "fw.exe", legacy, abs + "fw.exe|add|-|203.0.113.5|1.2|5712|(host) any->/var/log/x|-|-", ""},
		{"active-response/bin/fw.cmd", nil, "CMD|/d|/v:off|/s|/c|active-response/bin/fw.cmd",
			`cmd.exe /d /v:off /s /c ""active-response/bin/fw.cmd""`},
		{abs + "fw.BAT", legacy, "CMD|/d|/v:off|/s|/c|" + abs + "fw.BAT|add|-|203.0.113.5|1.2|5712|(host) any->/var/log/x|-|-",
			`cmd.exe /d /v:off /s /c ""` + abs + `fw.BAT" "add" "-" "203.0.113.5" "1.2" "5712" "(host) any->/var/log/x" "-" "-""`},
		{"active-response/bin/fw.ps1", nil,
			"powershell.exe|-NoProfile|-NonInteractive|-ExecutionPolicy|Bypass|-File|active-response/bin/fw.ps1", ""},
		{abs + "fw.ps1", []string{"add", "-"},
			"powershell.exe|-NoProfile|-NonInteractive|-ExecutionPolicy|Bypass|-File|" + abs + "fw.ps1|add|-", ""},
	} {
		s, err := windowsStart(tc.path, tc.args)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		tc.argv = strings.Replace(tc.argv, "CMD", systemCmd(), 1) // %SystemRoot%'s, where it is set
		if got := strings.Join(s.argv, "|"); got != tc.argv || s.cmdLine != tc.cmdLine {
			t.Errorf("%s:\n got  %s\n      %s\nwant %s\n      %s", tc.path, got, s.cmdLine, tc.argv, tc.cmdLine)
		}
	}
	for _, bad := range []string{`a"b`, "%PATH%", "a\nb"} {
		if _, err := windowsStart("fw.cmd", []string{"add", bad}); !errors.Is(err, engine.ErrNotStarted) {
			t.Errorf("cmd.exe argument %q: %v, want refused", bad, err)
		}
	}
	if _, err := windowsStart("fw.exe", []string{`a"b%`}); err != nil {
		t.Errorf("an .exe takes any argument: %v", err)
	}
}

// TestRunner_StartLineWindows: on Windows a JSON program is started by
// its path relative to the root, a legacy script by its absolute path.
func TestRunner_StartLineWindows(t *testing.T) {
	r := &Runner{Root: filepath.Join("some", "root"), goos: "windows"}
	file := filepath.Join(r.binDir(), "fw.cmd")
	s, err := r.startLine(file, engine.ProtocolJSON, nil)
	if want := `cmd.exe /d /v:off /s /c ""active-response/bin/fw.cmd""`; err != nil || s.cmdLine != want {
		t.Errorf("JSON: %q, %v; want %q", s.cmdLine, err, want)
	}
	abs, _ := filepath.Abs(file)
	s, err = r.startLine(file, engine.ProtocolLegacy, []string{"add"})
	if want := `cmd.exe /d /v:off /s /c ""` + abs + `" "add""`; err != nil || s.cmdLine != want {
		t.Errorf("legacy: %q, %v; want %q", s.cmdLine, err, want)
	}
}

// cmd.exe is Windows' own, not the first on PATH.
func TestSystemCmd(t *testing.T) {
	t.Setenv("SystemRoot", `C:\Windows`)
	if got := systemCmd(); got != `C:\Windows\System32\cmd.exe` {
		t.Errorf("systemCmd() = %q", got)
	}
	t.Setenv("SystemRoot", "")
	if got := systemCmd(); got != "cmd.exe" {
		t.Errorf("systemCmd() without SystemRoot = %q", got)
	}
}
