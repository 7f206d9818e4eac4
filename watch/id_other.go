//go:build !unix && !windows

package watch

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

var errNoIdentity = fmt.Errorf("file identity unsupported on %q", runtime.GOOS)

func fileID(*os.File) (string, error) { return "", errNoIdentity }

func pathID(string) (string, error) { return "", errNoIdentity }

func statID(string) (fs.FileInfo, string, error) { return nil, "", errNoIdentity }

func openShared(path string) (*os.File, error) { return os.Open(path) }
