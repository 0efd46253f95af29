//go:build unix && !linux

package memory

import "golang.org/x/sys/unix"

// openat opens one path segment below dirfd, refusing a symbolic link.
func openat(dirfd int, name string, flags int, mode uint32) (int, error) {
	return unix.Openat(dirfd, name, flags|unix.O_NOFOLLOW, mode)
}
