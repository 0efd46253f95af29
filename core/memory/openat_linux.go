package memory

import (
	"errors"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// noOpenat2 is set once the kernel said it has no openat2 (before 5.6).
var noOpenat2 atomic.Bool

// openat opens one path segment below dirfd with openat2, refusing any
// symbolic link and any escape from dirfd; on kernels without openat2 it
// falls back to openat with O_NOFOLLOW, which is as strict for a single
// segment.
func openat(dirfd int, name string, flags int, mode uint32) (int, error) {
	if flags&(unix.O_CREAT|unix.O_TMPFILE) == 0 {
		mode = 0 // openat2 refuses a mode it would not use
	}
	if !noOpenat2.Load() {
		how := unix.OpenHow{Flags: uint64(flags) | unix.O_NOFOLLOW, Mode: uint64(mode),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
		for {
			fd, err := unix.Openat2(dirfd, name, &how)
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
				continue
			}
			if !errors.Is(err, unix.ENOSYS) {
				return fd, err
			}
			noOpenat2.Store(true)
			break
		}
	}
	return unix.Openat(dirfd, name, flags|unix.O_NOFOLLOW, mode)
}
