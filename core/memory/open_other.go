//go:build !unix

package memory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// dirHandle is the file's directory path on systems without openat.
type dirHandle string

// ErrNotRegular is returned when a memory path names something other than
// a regular file.
var ErrNotRegular = errors.New("memory: not a regular file")

// openBeneath opens root/rel for appending, creating directories (0700)
// and the file (0600). Without openat it checks each segment with Lstat
// and refuses links; a race with a local attacker remains possible here,
// which the unix version closes.
func openBeneath(root, rel string) (*os.File, dirHandle, error) {
	dir := root
	segs := strings.Split(rel, "/")
	for _, seg := range segs[:len(segs)-1] {
		dir = filepath.Join(dir, seg)
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, "", err
		}
		if st, err := os.Lstat(dir); err != nil || !st.IsDir() {
			return nil, "", fmt.Errorf("%w: %s", ErrNotRegular, dir)
		}
	}
	path := filepath.Join(dir, segs[len(segs)-1])
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%w: %s", ErrNotRegular, path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	return f, dirHandle(dir), err
}

func closeDir(dirHandle) {}

func renameIn(d dirHandle, from, to string) error {
	return os.Rename(filepath.Join(string(d), from), filepath.Join(string(d), to))
}

func openIn(d dirHandle, name string, create bool) (*os.File, error) {
	if create {
		return os.OpenFile(filepath.Join(string(d), name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	return os.Open(filepath.Join(string(d), name))
}

func removeIn(d dirHandle, name string) error { return os.Remove(filepath.Join(string(d), name)) }
