//go:build unix

package store

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// compactSupported: renaming over a file another handle holds open is a
// POSIX guarantee.
const compactSupported = true

// owner is who owns a file, and how many names it has.
type owner struct {
	uid, gid int
	links    uint64
}

func ownerOf(fi fs.FileInfo) (owner, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return owner{}, errors.New("no owner in the file's status")
	}
	return owner{uid: int(st.Uid), gid: int(st.Gid), links: uint64(st.Nlink)}, nil
}

// apply gives path this owner, when it is not already its owner. A
// process that cannot (not root, another user's file) gets an error, and
// the compaction keeps the old file rather than change who owns it.
func (o owner) apply(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	cur, err := ownerOf(fi)
	if err != nil {
		return err
	}
	if cur.uid == o.uid && cur.gid == o.gid {
		return nil
	}
	return os.Chown(path, o.uid, o.gid)
}
