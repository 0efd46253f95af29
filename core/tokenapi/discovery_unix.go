//go:build unix

package tokenapi

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkPrivate refuses a discovery file others could read (the secret would
// be theirs) or that another user owns (it could point us at their server).
func checkPrivate(path string, fi fs.FileInfo) error {
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %q has mode %04o, readable by group or others; it holds an admin secret: delete it and restart the server",
			ErrInsecureDiscovery, path, perm)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%w: %q belongs to uid %d, not to you (uid %d)", ErrInsecureDiscovery, path, st.Uid, os.Getuid())
	}
	return nil
}

// processAlive sends signal 0: no error or EPERM means the process exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
