//go:build !windows

package platform

import "os/exec"

// setCmdLine does nothing: only Windows programs parse a command line.
func setCmdLine(*exec.Cmd, string) {}
