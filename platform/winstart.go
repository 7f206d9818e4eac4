package platform

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
)

// How Windows finds and starts an <executable>. This file builds on every
// OS so that its exact command lines are tested everywhere; the runner
// uses it on Windows only.

// windowsExts are the extensions tried, in order, for an <executable>
// without one: Wazuh's documentation lets users leave the extension out
// unless two files share a name.
var windowsExts = []string{".exe", ".cmd", ".bat", ".ps1"}

// startLine is how a command is started: argv (argv[0] is what exec
// starts, looked up in PATH when it has no separator) and, when not
// empty, the raw Windows command line that replaces argv's quoting.
type startLine struct {
	argv    []string
	cmdLine string
}

// findWindows returns the file path names: path itself when its name has
// an extension, else the one of path+ext for ext in windowsExts that
// exists. None is an error wrapping fs.ErrNotExist; two are an error
// naming both.
func findWindows(path string, exists func(string) (bool, error)) (string, error) {
	if filepath.Ext(path) != "" {
		if ok, err := exists(path); !ok {
			return "", notFound(path, err)
		}
		return path, nil
	}
	var found []string
	for _, ext := range windowsExts {
		ok, err := exists(path + ext)
		if err != nil {
			return "", notFound(path+ext, err)
		}
		if ok {
			found = append(found, path+ext)
		}
	}
	switch len(found) {
	case 0:
		return "", notFound(path+"{"+strings.Join(windowsExts, ",")+"}", nil)
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = filepath.Base(f)
	}
	return "", fmt.Errorf("%w: %s: ambiguous: %s all exist; name the file with its extension in <executable>",
		engine.ErrNotStarted, path, strings.Join(names, " and "))
}

// notFound wraps fs.ErrNotExist (err nil) or err with engine.ErrNotStarted.
func notFound(path string, err error) error {
	if err == nil {
		err = fs.ErrNotExist
	}
	return fmt.Errorf("%w: %s: %w", engine.ErrNotStarted, path, err)
}

// windowsStart returns how Windows starts the file at path (as the
// program is to see it) with args: an .exe (or any other extension)
// directly; .cmd and .bat through cmd.exe /c; .ps1 through PowerShell
// with no profile, no prompt and no execution policy in the way, the
// common way Wazuh users run PowerShell responses.
//
// cmd.exe parses its command line itself: /c followed by a quote strips
// that quote and the last one, and outside quotes &, |, <, > and ^ are
// operators. So the whole command goes inside one more pair of quotes and
// every argument is quoted; a value with a quote, a percent sign (cmd
// expands %VAR% even inside quotes) or a line break cannot be passed
// safely and is refused. cmd.exe is the one in %SystemRoot%\System32, not
// the first on PATH, started with /d (no AutoRun commands from the
// registry), /v:off (no !VAR! expansion, even where the registry turns
// delayed expansion on) and /s (the quote rule above, whatever follows).
func windowsStart(path string, args []string) (startLine, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".cmd", ".bat":
		var b strings.Builder
		b.WriteString(`cmd.exe /d /v:off /s /c "`)
		for i, a := range append([]string{path}, args...) {
			if strings.ContainsAny(a, "\"%\r\n\x00") {
				return startLine{}, fmt.Errorf("%w: %s: argument %q cannot be passed to cmd.exe safely", engine.ErrNotStarted, path, a)
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(`"` + a + `"`)
		}
		b.WriteByte('"')
		return startLine{argv: append([]string{systemCmd(), "/d", "/v:off", "/s", "/c", path}, args...), cmdLine: b.String()}, nil
	case ".ps1":
		argv := []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", path}
		return startLine{argv: append(argv, args...)}, nil
	}
	return startLine{argv: append([]string{path}, args...)}, nil
}

// systemCmd is Windows' own cmd.exe: %SystemRoot%\System32\cmd.exe, or
// cmd.exe when SystemRoot is not set (not on Windows: the tests).
func systemCmd() string {
	if root := os.Getenv("SystemRoot"); root != "" {
		return root + `\System32\cmd.exe`
	}
	return "cmd.exe"
}
