//go:build windows

package watch

import (
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/windows"
)

// fileID returns the identity of an open file: "volume serial:file index".
// (ReFS has 128-bit file IDs; the 64-bit index is what NTFS uses.)
func fileID(f *os.File) (string, error) {
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return "", &os.PathError{Op: "GetFileInformationByHandle", Path: f.Name(), Err: err}
	}
	idx := uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow)
	b := strconv.AppendUint(make([]byte, 0, 32), uint64(info.VolumeSerialNumber), 10)
	b = append(b, ':')
	return string(strconv.AppendUint(b, idx, 10)), nil
}

// pathID returns the identity of the file at path; Windows needs a handle.
func pathID(path string) (string, error) {
	f, err := openShared(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return fileID(f)
}

// statID returns the file at path's information and identity.
func statID(path string) (fs.FileInfo, string, error) {
	f, err := openShared(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	id, err := fileID(f)
	return fi, id, err
}

// openShared opens path for reading with FILE_SHARE_DELETE, which os.Open
// leaves out: without it the writer could not rename the file to rotate it
// while we hold it open.
func openShared(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	const share = windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE
	h, err := windows.CreateFile(p, windows.GENERIC_READ, share, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}
