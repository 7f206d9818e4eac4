package platform

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
)

// UnsafeError is an executable the runner refuses to start: someone other
// than root or the daemon's user could change it (or a directory it is
// reached through), or it is a symlink to a file outside
// active-response/bin. Wazuh tells users to make these files root:wazuh
// 750; a script anyone can rewrite runs whatever they write, as root.
// It wraps engine.ErrNotStarted.
type UnsafeError struct {
	Path   string // the executable as named in active-response/bin
	Reason string
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("%v: %s: refused as unsafe: %s", engine.ErrNotStarted, e.Path, e.Reason)
}

func (e *UnsafeError) Unwrap() error { return engine.ErrNotStarted }

// checkSafe refuses path, the executable in active-response/bin whose (followed) info is
// fi, unless it resolves to a file inside active-response/bin that only root or the
// daemon's user can change, in directories only they can change. Beyond
// active-response/bin the path is trusted: it is the install root's business.
func (r *Runner) checkSafe(path string, fi fs.FileInfo) error {
	bin, err := filepath.EvalSymlinks(r.binDir())
	if err != nil {
		return &UnsafeError{Path: path, Reason: fmt.Sprintf("cannot resolve %s: %v", r.binDir(), err)}
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return &UnsafeError{Path: path, Reason: fmt.Sprintf("cannot resolve it: %v", err)}
	}
	dirs, inside := dirsBetween(bin, real)
	if !inside {
		return &UnsafeError{Path: path, Reason: fmt.Sprintf("a symlink to %s, outside %s", real, bin)}
	}
	if why := unsafeMode(fi, r.AnyOwner); why != "" {
		return &UnsafeError{Path: path, Reason: why}
	}
	for _, d := range dirs {
		dfi, err := os.Stat(d)
		if err != nil {
			return &UnsafeError{Path: path, Reason: fmt.Sprintf("directory %s: %v", d, err)}
		}
		if why := unsafeMode(dfi, r.AnyOwner); why != "" {
			return &UnsafeError{Path: path, Reason: fmt.Sprintf("directory %s is %s", d, why)}
		}
	}
	return nil
}

// dirsBetween returns the directories from bin down to the one holding
// file (both resolved paths), and whether file is inside bin at all.
func dirsBetween(bin, file string) ([]string, bool) {
	rel, err := filepath.Rel(bin, file)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return nil, false
	}
	dirs := []string{bin}
	for d := filepath.Dir(file); d != bin && len(d) > len(bin); d = filepath.Dir(d) {
		dirs = append(dirs, d)
	}
	return dirs, true
}
