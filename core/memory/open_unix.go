//go:build unix

package memory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// dirHandle is an open directory file descriptor (-1: none).
type dirHandle int

// ErrNotRegular is returned when a memory path names something other than
// a regular file with a single link (a FIFO, a device, a hard link).
var ErrNotRegular = errors.New("memory: not a regular file")

// openBeneath opens root/rel for appending, creating missing directories
// (0700) and the file (0600). It walks rel one segment at a time from a
// descriptor of root and never follows a symbolic link (openat2 with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS on Linux, O_NOFOLLOW elsewhere), so
// a link planted below an allowed directory cannot redirect the write. It
// returns the file and a descriptor of its directory.
func openBeneath(root, rel string) (*os.File, dirHandle, error) {
	dirfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, -1, fmt.Errorf("opening %s: %w", root, err)
	}
	segs := strings.Split(rel, "/")
	for _, seg := range segs[:len(segs)-1] {
		if err := unix.Mkdirat(dirfd, seg, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			unix.Close(dirfd)
			return nil, -1, fmt.Errorf("creating directory %s: %w", seg, err)
		}
		next, err := openat(dirfd, seg, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(dirfd)
		if err != nil {
			return nil, -1, fmt.Errorf("opening directory %s: %w", seg, err)
		}
		dirfd = next
	}
	name := segs[len(segs)-1]
	// O_NONBLOCK: opening a FIFO for writing must fail, not wait for a reader.
	fd, err := openat(dirfd, name, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NONBLOCK, 0o600)
	if err != nil {
		unix.Close(dirfd)
		return nil, -1, fmt.Errorf("opening %s: %w", name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
		unix.Close(fd)
		unix.Close(dirfd)
		if err != nil {
			return nil, -1, err
		}
		return nil, -1, fmt.Errorf("%w: %s", ErrNotRegular, name)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		unix.Close(dirfd)
		return nil, -1, err
	}
	return os.NewFile(uintptr(fd), filepath.Join(root, filepath.FromSlash(rel))), dirHandle(dirfd), nil
}

func closeDir(d dirHandle) {
	if d >= 0 {
		unix.Close(int(d))
	}
}

// renameIn renames a file within the directory d, following no link.
func renameIn(d dirHandle, from, to string) error {
	return unix.Renameat(int(d), from, int(d), to)
}

// openIn opens name in d without following a link: for reading, or
// creating a new file (flag unix.O_CREAT) that must not exist yet.
func openIn(d dirHandle, name string, create bool) (*os.File, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC
	if create {
		flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_CLOEXEC
	}
	fd, err := openat(int(d), name, flags, 0o600)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// removeIn removes name from d.
func removeIn(d dirHandle, name string) error { return unix.Unlinkat(int(d), name, 0) }
