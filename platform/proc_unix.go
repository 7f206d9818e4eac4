//go:build unix

package platform

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr puts the command in a new process group (its pid is the group
// id) so that killTree reaches everything it started.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killTree sends SIGKILL to the process group of p.
func killTree(p *os.Process) error {
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// isExecutable reports whether anyone may execute the file.
func isExecutable(fi fs.FileInfo) bool {
	return fi.Mode().Perm()&0o111 != 0
}
