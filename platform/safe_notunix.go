//go:build !unix

package platform

import "io/fs"

// unsafeMode finds nothing unsafe: Windows has no Unix modes and owners.
// Its ACLs are not checked; symlinks that leave active-response/bin still
// are (see checkSafe).
func unsafeMode(fs.FileInfo, bool) string { return "" }
