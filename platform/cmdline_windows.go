package platform

import (
	"os/exec"
	"syscall"
)

// setCmdLine gives cmd a raw command line (see windowsStart), replacing
// the quoting of its Args that cmd.exe would misread.
func setCmdLine(cmd *exec.Cmd, line string) {
	if line == "" {
		return
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CmdLine = line
}
