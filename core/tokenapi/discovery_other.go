//go:build !unix

package tokenapi

import (
	"io/fs"
	"os"
)

// checkPrivate cannot read POSIX modes here; the file is created private
// by the OS defaults for the user's profile directory.
func checkPrivate(string, fs.FileInfo) error { return nil }

// processAlive reports whether pid names a process. Without signal 0 the
// best cheap test is whether the OS can find it.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
