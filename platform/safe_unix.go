//go:build unix

package platform

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// unsafeMode says why a file or directory someone other than root or the
// daemon's user could change is unsafe, "" when it is not. anyOwner skips
// the owner check (containers, where files often belong to a build user);
// the mode check stays.
func unsafeMode(fi fs.FileInfo, anyOwner bool) string {
	perm := fi.Mode().Perm()
	switch {
	case perm&0o022 == 0o022:
		return fmt.Sprintf("writable by its group and by others (mode %#o)", perm)
	case perm&0o020 != 0:
		return fmt.Sprintf("writable by its group (mode %#o)", perm)
	case perm&0o002 != 0:
		return fmt.Sprintf("writable by others (mode %#o)", perm)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if anyOwner || !ok {
		return ""
	}
	if uid := int(st.Uid); uid != 0 && uid != os.Geteuid() {
		return fmt.Sprintf("owned by uid %d, not by root or the daemon's user (uid %d)", uid, os.Geteuid())
	}
	return ""
}
