//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package actions

// lockFile is a no-op where flock(2) is missing: edits are serialised
// within the process only.
func lockFile(string) (unlock func(), err error) {
	return func() {}, nil
}
