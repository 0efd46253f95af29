package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"go.etcd.io/bbolt"
)

// bbolt never gives pages back to the file system: a file converted from
// schema 1, or one whose tokens were mostly deleted or resynced, keeps its
// largest size, and every later start maps it. A writable Open that finds
// most of the file free copies the live data into a new file beside it and
// renames that over the old one, so the file ends the size its data needs.
//
// Crash safety: the database stays at its path, locked, until the copy is
// complete and synced; the rename is atomic, so a kill at any point leaves
// the old file or the compact one, never neither. A copy left by a crash
// (compactSuffix) is only ever deleted, by the next writable Open, which
// holds the lock on the database and so cannot race a live compaction. A
// failed copy (disk full) deletes its file and keeps the old one.

// compactSuffix names the copy beside the database while it is written.
const compactSuffix = ".compact-tmp"

var (
	// compactMinReclaim is the space a compaction must give back to be
	// worth a copy at open; half the file must be free too.
	compactMinReclaim int64 = 4 << 20
	// compactTxBytes bounds the keys and values one transaction of the
	// copy holds, and so the heap it takes.
	compactTxBytes = 4 << 20
	// compactHook, when set (tests), runs at each step of a compaction
	// ("copying" after each transaction of the copy, "copied" once the
	// copy is synced, "renamed" once it replaced the database); an error
	// aborts it.
	compactHook func(step string) error
)

// compactPath is the temporary copy's path: beside the file path resolves
// to, so a symlinked database keeps its link.
func compactPath(path string) (real, tmp string) {
	real = path
	if r, err := filepath.EvalSymlinks(path); err == nil {
		real = r
	}
	return real, real + compactSuffix
}

// removeLeftoverCopy deletes the copy a compaction killed part-way left.
// It is never opened: whether it was complete cannot be told, and the
// database it was copied from is still in place.
func (db *DB) removeLeftoverCopy() {
	_, tmp := compactPath(db.path)
	err := os.Remove(tmp)
	switch {
	case err == nil:
		db.logger.Info("removed the copy an interrupted compaction left", "path", tmp)
	case !errors.Is(err, fs.ErrNotExist):
		db.logger.Warn("could not remove the copy an interrupted compaction left", "path", tmp, "error", err)
	}
}

// liveBytes is the part of the file's pages in use: the high-water mark
// less the pages bbolt's freelist holds.
func (db *DB) liveBytes() (int64, error) {
	var hwm int64
	if err := db.bolt.View(func(tx *bbolt.Tx) error {
		hwm = tx.Size()
		return nil
	}); err != nil {
		return 0, err
	}
	st := db.bolt.Stats()
	free := int64(st.FreePageN+st.PendingPageN) * int64(db.bolt.Info().PageSize)
	return max(hwm-free, 0), nil
}

// compactIfWorth compacts the file when at least half of it, and at least
// compactMinReclaim, is free, or always with opts.CompactAlways. It runs
// inside Open, before the handle is shared, so swapping db.bolt races
// nothing. Unless asked for, a failure is logged and leaves the database
// as it was: a large file is not worth refusing to start.
func (db *DB) compactIfWorth(opts Options) error {
	real, _ := compactPath(db.path)
	err := db.compactWhenFree(real, opts)
	if err == nil || opts.CompactAlways {
		return err
	}
	db.logger.Warn("could not compact the database file; keeping it as it is", "path", real, "error", err)
	return nil
}

func (db *DB) compactWhenFree(real string, opts Options) error {
	if !compactSupported {
		if opts.CompactAlways {
			return errors.New("store: compacting is not supported on this system")
		}
		return nil
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	live, err := db.liveBytes()
	if err != nil {
		return err
	}
	size := fi.Size()
	if !opts.CompactAlways && (size-live < compactMinReclaim || live*2 > size) {
		return nil
	}
	// The copy reads the live pages, a fraction of those the open and a
	// conversion made resident, and allocates its own: let both go first,
	// so the compaction adds nothing to the start's peak.
	db.releasePages()
	runtime.GC()
	after, err := db.compactFile(opts)
	if err != nil {
		return fmt.Errorf("compacting database %q: %w", real, err)
	}
	db.logger.Info("compacted the database file", "path", real, "size_before", size, "size_after", after)
	return nil
}

// compactFile copies the live data into a new file, syncs it, renames it
// over the database and switches to it; it returns the new size.
func (db *DB) compactFile(opts Options) (int64, error) {
	real, tmp := compactPath(db.path)
	fi, err := os.Stat(real)
	if err != nil {
		return 0, err
	}
	own, err := ownerOf(fi)
	if err != nil {
		return 0, err
	}
	if own.links > 1 {
		// Renaming would split the file from its other names.
		return 0, fmt.Errorf("the file has %d hard links", own.links)
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmp)
		}
	}()
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: opts.LockTimeout, NoSync: true})
	if err != nil {
		return 0, fmt.Errorf("creating %q: %w", tmp, err)
	}
	// Same mode and owner as the database: a service account's file
	// compacted by root must stay the service account's.
	if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
		_ = dst.Close()
		return 0, err
	}
	if err := own.apply(tmp); err != nil {
		_ = dst.Close()
		return 0, err
	}
	var size int64
	err = guard(db.path, func() error {
		return db.bolt.View(func(src *bbolt.Tx) error {
			return db.copyInto(dst, src)
		})
	})
	if err == nil {
		err = dst.View(func(tx *bbolt.Tx) error {
			size = tx.Size()
			return nil
		})
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("copying into %q: %w", tmp, err)
	}
	if err := syncTrimmed(tmp, size); err != nil {
		return 0, err
	}
	if err := runCompactHook("copied"); err != nil {
		return 0, err
	}
	// Lock the copy before it takes the database's name, so no other
	// process can open it between the rename and our switch.
	ndb, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		return 0, fmt.Errorf("opening %q: %w", tmp, err)
	}
	if err := os.Rename(tmp, real); err != nil {
		_ = ndb.Close()
		return 0, err
	}
	ok = true
	if err := runCompactHook("renamed"); err != nil {
		// Tests only: the rename happened, carry on with the new file.
		db.logger.Debug("compact hook", "error", err)
	}
	if err := syncDir(filepath.Dir(real)); err != nil {
		// The rename is done in this boot; a power loss may undo it,
		// which leaves the old file, also whole.
		db.logger.Warn("could not sync the database directory after compacting", "path", real, "error", err)
	}
	old := db.bolt
	db.bolt = ndb
	_ = old.Close()
	return size, nil
}

// copyInto copies every bucket of src, nested buckets and sequences
// included, into the empty dst, in transactions of about compactTxBytes,
// with pages full (keys arrive in order). Values are bytes as stored:
// sealed records stay sealed.
func (db *DB) copyInto(dst *bbolt.DB, src *bbolt.Tx) error {
	c := &copier{db: db, dst: dst, src: src}
	var err error
	if c.tx, err = dst.Begin(true); err != nil {
		return err
	}
	err = src.ForEach(func(name []byte, b *bbolt.Bucket) error {
		return c.bucket([][]byte{name}, b)
	})
	if err != nil {
		if c.tx != nil {
			_ = c.tx.Rollback()
		}
		return err
	}
	return c.tx.Commit()
}

type copier struct {
	db   *DB
	dst  *bbolt.DB
	src  *bbolt.Tx
	tx   *bbolt.Tx
	size int
}

// open returns the copy's bucket at path in the current transaction,
// creating it with seq the first time.
func (c *copier) open(path [][]byte, seq uint64, create bool) (*bbolt.Bucket, error) {
	var b *bbolt.Bucket
	for i, name := range path {
		var parent interface {
			Bucket([]byte) *bbolt.Bucket
			CreateBucket([]byte) (*bbolt.Bucket, error)
		} = c.tx
		if b != nil {
			parent = b
		}
		next := parent.Bucket(name)
		if next == nil && create && i == len(path)-1 {
			var err error
			if next, err = parent.CreateBucket(name); err != nil {
				return nil, err
			}
			if err := next.SetSequence(seq); err != nil {
				return nil, err
			}
		}
		if next == nil {
			return nil, fmt.Errorf("bucket %q vanished from the copy", name)
		}
		b = next
	}
	b.FillPercent = 1.0
	return b, nil
}

func (c *copier) bucket(path [][]byte, src *bbolt.Bucket) error {
	dst, err := c.open(path, src.Sequence(), true)
	if err != nil {
		return err
	}
	cur := src.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if v == nil {
			if nested := src.Bucket(k); nested != nil {
				if err := c.bucket(append(path[:len(path):len(path)], k), nested); err != nil {
					return err
				}
				dst = nil // the nested copy may have committed
				continue
			}
			v = []byte{}
		}
		if dst == nil {
			if dst, err = c.open(path, 0, false); err != nil {
				return err
			}
		}
		// Put keeps k and v until the commit: they point into the
		// source's mapping, valid while src is open.
		if err := dst.Put(k, v); err != nil {
			return err
		}
		c.size += len(k) + len(v)
		if c.size < compactTxBytes {
			continue
		}
		if err := c.tx.Commit(); err != nil {
			return err
		}
		// The source's pages just copied are read once: do not keep
		// them resident (as migrate does).
		c.db.releasePagesTx(c.src)
		if err := runCompactHook("copying"); err != nil {
			c.tx = nil
			return err
		}
		if c.tx, err = c.dst.Begin(true); err != nil {
			return err
		}
		c.size = 0
		dst = nil
	}
	return nil
}

func runCompactHook(step string) error {
	if compactHook == nil {
		return nil
	}
	return compactHook(step)
}

// syncTrimmed cuts the copy to its high-water mark (bbolt grows a file
// ahead of its data) and syncs it.
func syncTrimmed(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > size && size > 0 {
		if err := f.Truncate(size); err != nil {
			_ = f.Close()
			return fmt.Errorf("trimming %q: %w", path, err)
		}
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("syncing %q: %w", path, err)
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
