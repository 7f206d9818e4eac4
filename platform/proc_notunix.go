//go:build !unix

package platform

import (
	"io/fs"
	"os"
	"os/exec"
)

// setProcAttr does nothing: there are no process groups to join here.
func setProcAttr(*exec.Cmd) {}

// killTree kills the process only; processes it started live on.
func killTree(p *os.Process) error {
	return p.Kill()
}

// isExecutable is true: Windows decides by the file's extension at start.
func isExecutable(fs.FileInfo) bool {
	return true
}
