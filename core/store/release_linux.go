package store

import (
	"go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releasePages unmaps from this process the file pages a pass over the
// whole file (verify at open, a walk with Each) brought in, with
// MADV_DONTNEED. They stay in the kernel's page cache, so a later read
// maps them back without I/O; until then they do not count in the
// process's resident set. The proxy reads its tokens once at start and
// serves from memory: without this, the pages of every record stay
// resident for the life of the process. The read transaction holds
// bbolt's mmap lock, so the mapping cannot move meanwhile.
func (db *DB) releasePages() {
	_ = db.bolt.View(func(tx *bbolt.Tx) error {
		db.releasePagesTx(tx)
		return nil
	})
}

// releasePagesTx is releasePages inside a transaction the caller holds
// (a write transaction only remaps the file itself, at commit). The pages
// stay valid to read: a transaction never overwrites a page it can see.
func (db *DB) releasePagesTx(tx *bbolt.Tx) {
	n := tx.Size()
	if n <= 0 {
		return
	}
	// The mapping is shared and read-only (bbolt writes with pwrite), so
	// dropping it loses nothing. An error leaves the pages mapped.
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, db.bolt.Info().Data, uintptr(n), unix.MADV_DONTNEED)
}
