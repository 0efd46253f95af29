package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// bigPolicies is n policies of about 2 KB, roles of them sharing one: the
// shape of the loadgen file (ten thousand tokens, forty roles).
func bigPolicies(n, roles int) []json.RawMessage {
	pad := strings.Repeat("x", 2000)
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(fmt.Sprintf(`{"model":"m%d","pad":%q}`, i%roles, pad))
	}
	return out
}

// writeOldLayout writes a schema 1 file at path holding n tokens of
// bigPolicies (each record carrying its policy, as the schema 1 store
// wrote them) and returns the tokens and the file's size.
func writeOldLayout(t *testing.T, path string, n int, key []byte) ([]string, int64) {
	t.Helper()
	return writeOldLayoutOf(t, path, bigPolicies(n, 40), key)
}

func writeOldLayoutOf(t *testing.T, path string, policies []json.RawMessage, key []byte) ([]string, int64) {
	t.Helper()
	src := openTest(t, func(o *Options) { o.EncryptionKey = key })
	tokens, err := src.CreateMany(policies, nil)
	require.NoError(t, err)
	recs, err := src.List()
	require.NoError(t, err)
	rev := src.Revision()

	fresh := openAt(t, path, func(o *Options) { o.EncryptionKey = key })
	require.NoError(t, fresh.Close())
	c, err := newCodec(key)
	require.NoError(t, err)
	bdb, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, bdb.Update(func(tx *bbolt.Tx) error {
		require.NoError(t, tx.DeleteBucket(bucketPolicies))
		meta := tx.Bucket(bucketMeta)
		require.NoError(t, meta.Put(keySchema, []byte{1}))
		require.NoError(t, putUint64(meta, keyRevision, rev))
		for _, r := range recs {
			v, err := c.encode(r)
			require.NoError(t, err)
			require.NoError(t, tx.Bucket(bucketRecords).Put([]byte(r.Hash), v))
			k := revKey(r.Revision)
			require.NoError(t, tx.Bucket(bucketChanges).Put(k[:], []byte(r.Hash)))
		}
		return nil
	}))
	require.NoError(t, bdb.Close())
	return tokens, fileSize(t, path)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

func requireTokens(t *testing.T, db *DB, tokens []string) {
	t.Helper()
	for _, tk := range tokens {
		_, err := db.Lookup(tk)
		require.NoError(t, err)
	}
}

func requireNoCopy(t *testing.T, path string) {
	t.Helper()
	_, err := os.Stat(path + compactSuffix)
	require.ErrorIs(t, err, os.ErrNotExist, "no copy is left beside the database")
}

// TestOldLayoutConversionCompacts: converting a large schema 1 file leaves
// a file of about the size the same tokens take when written in schema 2,
// with the file's mode, its tokens (sealed with a key) and no copy beside
// it; the next open leaves it as it is. A read-only open of the schema 1
// file changes nothing.
func TestOldLayoutConversionCompacts(t *testing.T) {
	t.Parallel()
	for _, key := range [][]byte{nil, testEncKey} {
		t.Run(fmt.Sprintf("encrypted=%v", key != nil), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "tokens.db")
			tokens, before := writeOldLayout(t, path, 4000, key)
			require.NoError(t, os.Chmod(path, 0o640))
			orig, err := os.ReadFile(path)
			require.NoError(t, err)

			ro := openAt(t, path, func(o *Options) { o.EncryptionKey = key; o.ReadOnly = true })
			requireTokens(t, ro, tokens[:10])
			require.NoError(t, ro.Close())
			now, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, orig, now, "a read-only open never rewrites the file")
			requireNoCopy(t, path)

			// The same tokens written in schema 2 from the start.
			ref := openTest(t, func(o *Options) { o.EncryptionKey = key })
			_, err = ref.CreateMany(bigPolicies(4000, 40), nil)
			require.NoError(t, err)
			refSize := fileSize(t, ref.Path())

			db := openAt(t, path, func(o *Options) { o.EncryptionKey = key })
			after := fileSize(t, path)
			t.Logf("schema 1 file %d bytes; converted and compacted %d bytes; written in schema 2 %d bytes", before, after, refSize)
			assert.Less(t, after*4, before, "the conversion gives the space back")
			assert.LessOrEqual(t, after, refSize, "about the size schema 2 takes")
			requireTokens(t, db, tokens)
			requireRefs(t, db)
			requireNoCopy(t, path)
			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "the file keeps its mode")
			_, _, err = db.Create(policyJSON("after"), nil)
			require.NoError(t, err)
			require.NoError(t, db.Close())

			if key != nil {
				_, err = Open(path, Options{HashKey: testHashKey})
				require.ErrorIs(t, err, ErrDecrypt, "the copy is as sealed as the file")
			}
			ino := inode(t, path)
			db = openAt(t, path, func(o *Options) { o.EncryptionKey = key })
			requireTokens(t, db, tokens)
			assert.Equal(t, ino, inode(t, path), "a compact file is left as it is")
			assert.LessOrEqual(t, fileSize(t, path), refSize)
		})
	}
}

// TestCompactAfterMassDelete: a file whose tokens were mostly deleted is
// compacted at the next writable open; one with little free is not
// touched (same file).
func TestCompactAfterMassDelete(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db := openAt(t, path, nil)
	tokens, err := db.CreateMany(bigPolicies(4000, 4000), nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	full := fileSize(t, path)

	db = openAt(t, path, nil)
	require.Equal(t, full, fileSize(t, path), "a file in use is not compacted")
	deleteAll(t, db, tokens[100:])
	require.NoError(t, db.Close())
	ino := inode(t, path)

	db = openAt(t, path, nil)
	after := fileSize(t, path)
	t.Logf("4000 tokens %d bytes; 100 left, compacted %d bytes", full, after)
	assert.Less(t, after*4, full)
	assert.NotEqual(t, ino, inode(t, path), "a new file took the name")
	requireTokens(t, db, tokens[:100])
	for _, tk := range tokens[100:110] {
		_, err := db.Lookup(tk)
		require.ErrorIs(t, err, ErrNotFound)
	}
	requireRefs(t, db)
	requireNoCopy(t, path)
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Sys().(*syscall.Stat_t).Ino
}

// mostlyFree writes a file at path of which most is free and returns the
// tokens left in it.
func mostlyFree(t *testing.T, path string) []string {
	t.Helper()
	db, err := Open(path, Options{HashKey: testHashKey})
	require.NoError(t, err)
	tokens, err := db.CreateMany(bigPolicies(4000, 4000), nil)
	require.NoError(t, err)
	deleteAll(t, db, tokens[50:])
	require.NoError(t, db.Close())
	return tokens[:50]
}

// deleteAll deletes tokens in one transaction (as a sync applies them).
func deleteAll(t *testing.T, db *DB, tokens []string) {
	t.Helper()
	rev := db.Revision()
	changes := make([]Change, len(tokens))
	for i, tk := range tokens {
		rev++
		changes[i] = Change{Revision: rev, Hash: db.Hasher().Hash(tk), Deleted: true}
	}
	require.NoError(t, db.Apply(changes, rev))
}

// TestCompactFailureKeepsFile: a copy that fails (here a hook; see
// TestCompactDiskFull for a full disk) leaves the database where it was,
// working, and no copy beside it.
func TestCompactFailureKeepsFile(t *testing.T) {
	// Not parallel: compactHook is package state.
	path := filepath.Join(t.TempDir(), "tokens.db")
	tokens := mostlyFree(t, path)
	ino, size := inode(t, path), fileSize(t, path)
	compactTxBytes = 16 << 10
	defer func() { compactTxBytes = 4 << 20 }()
	for _, step := range []string{"copying", "copied"} {
		compactHook = func(s string) error {
			if s == step {
				return syscall.ENOSPC
			}
			return nil
		}
		db, err := Open(path, Options{HashKey: testHashKey})
		compactHook = nil
		require.NoError(t, err, step)
		assert.Equal(t, ino, inode(t, path), step)
		assert.Equal(t, size, fileSize(t, path), step)
		requireNoCopy(t, path)
		requireTokens(t, db, tokens)
		_, _, err = db.Create(policyJSON("still works"), nil)
		require.NoError(t, err)
		require.NoError(t, db.Close())
	}
}

// TestCompactDiskFull: on a full file system (a 24 MiB tmpfs, filled up)
// the copy fails; the database stays whole and in use, and once there is
// room the next open compacts it. Needs root to mount the tmpfs.
func TestCompactDiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=24m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): TestCompactFailureKeepsFile covers the failure with a hook", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	path := filepath.Join(dir, "tokens.db")
	tokens := mostlyFree(t, path)
	ino, size := inode(t, path), fileSize(t, path)

	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	require.NoError(t, err)
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			break
		}
	}
	for i := 0; i < 64; i++ { // the last partial blocks
		if _, err := f.Write(chunk[:512]); err != nil {
			break
		}
	}
	require.NoError(t, f.Close())

	db, err := Open(path, Options{HashKey: testHashKey})
	require.NoError(t, err, "a failed compaction does not stop the open")
	assert.Equal(t, ino, inode(t, path))
	assert.Equal(t, size, fileSize(t, path))
	requireNoCopy(t, path)
	requireTokens(t, db, tokens)
	require.NoError(t, db.Close())

	require.NoError(t, os.Remove(filler))
	db, err = Open(path, Options{HashKey: testHashKey})
	require.NoError(t, err)
	defer db.Close()
	assert.Less(t, fileSize(t, path)*4, size, "compacted once there is room")
	requireTokens(t, db, tokens)
}

// TestCompactLeftoverCopy: a copy left beside the database (a compaction
// killed part-way) is never opened as the database; a writable open
// deletes it, a read-only open leaves the directory as it is.
func TestCompactLeftoverCopy(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db := openAt(t, path, nil)
	tok, _, err := db.Create(policyJSON("a"), nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	tmp := path + compactSuffix
	require.NoError(t, os.WriteFile(tmp, []byte("half a copy"), 0o600))

	ro := openAt(t, path, func(o *Options) { o.ReadOnly = true })
	_, err = ro.Lookup(tok)
	require.NoError(t, err)
	require.NoError(t, ro.Close())
	_, err = os.Stat(tmp)
	require.NoError(t, err, "a read-only open touches nothing")

	db = openAt(t, path, nil)
	_, err = db.Lookup(tok)
	require.NoError(t, err)
	requireNoCopy(t, path)
}

// TestCompactKeepsLinksAndOwner: a file with a second hard link is not
// compacted (the rename would split them); a file owned by another user
// keeps its owner (as root).
func TestCompactKeepsLinksAndOwner(t *testing.T) {
	t.Parallel()
	t.Run("hard link", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "tokens.db")
		mostlyFree(t, path)
		require.NoError(t, os.Link(path, path+".link"))
		ino, size := inode(t, path), fileSize(t, path)
		db := openAt(t, path, nil)
		assert.Equal(t, ino, inode(t, path))
		assert.Equal(t, size, fileSize(t, path))
		requireNoCopy(t, path)
		require.NoError(t, db.Close())
	})
	t.Run("owner", func(t *testing.T) {
		t.Parallel()
		if os.Geteuid() != 0 {
			t.Skip("needs root to give the file another owner")
		}
		path := filepath.Join(t.TempDir(), "tokens.db")
		mostlyFree(t, path)
		require.NoError(t, os.Chown(path, 4321, 4322))
		size := fileSize(t, path)
		db := openAt(t, path, nil)
		assert.Less(t, fileSize(t, path)*4, size)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		st := fi.Sys().(*syscall.Stat_t)
		assert.Equal(t, [2]uint32{4321, 4322}, [2]uint32{st.Uid, st.Gid})
		require.NoError(t, db.Close())
	})
}

// TestStillAt: an open that waited for the lock of a file a compaction
// renamed another over sees it no longer holds the database.
func TestStillAt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.db")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.True(t, stillAt(f, path))
	require.NoError(t, os.WriteFile(path+".new", []byte("new"), 0o600))
	require.NoError(t, os.Rename(path+".new", path))
	assert.False(t, stillAt(f, path))
}

// compactHelperEnv makes the test binary open the database it names,
// compact it and stop at the step compactStepEnv names, saying so, until
// it is killed (see TestMain).
const (
	compactHelperEnv = "TOKENOMICS_STORE_COMPACT_HELPER_DB"
	compactStepEnv   = "TOKENOMICS_STORE_COMPACT_HELPER_STEP"
)

func compactAndHang(path, step string) int {
	compactTxBytes = 64 << 10 // several transactions: killed between two
	compactHook = func(s string) error {
		if s == step {
			fmt.Println(s)
			select {}
		}
		return nil
	}
	_, err := Open(path, Options{HashKey: testHashKey, EncryptionKey: testEncKey})
	fmt.Fprintln(os.Stderr, "compaction was not interrupted:", err)
	return 2
}

// TestCompactKilled: a process killed with SIGKILL while copying, after
// the copy is synced, or right after the rename leaves a database that
// opens with every token (converted), and the next open ends with a
// compact file and no copy beside it.
func TestCompactKilled(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"copying", "copied", "renamed"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "tokens.db")
			tokens, before := writeOldLayout(t, path, 2000, testEncKey)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), compactHelperEnv+"="+path, compactStepEnv+"="+step)
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			line, err := bufio.NewReader(stdout).ReadString('\n')
			require.NoError(t, err, stderr.String())
			require.Equal(t, step+"\n", line)
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			err = cmd.Wait()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee))

			_, err = os.Stat(path + compactSuffix)
			if step == "renamed" {
				require.ErrorIs(t, err, os.ErrNotExist)
				assert.Less(t, fileSize(t, path)*4, before, "the compact file took the name")
			} else {
				require.NoError(t, err, "the copy was left")
			}
			assert.Equal(t, schemaVersion, schemaOf(t, path), "the conversion committed before the copy")
			db := openAt(t, path, func(o *Options) { o.EncryptionKey = testEncKey })
			requireTokens(t, db, tokens)
			requireRefs(t, db)
			requireNoCopy(t, path)
			assert.Less(t, fileSize(t, path)*4, before, "compact after the next open")
		})
	}
}

// TestCompactAlways: asked for, a compaction runs on a file with little
// free, and one that cannot run fails the open, leaving the file as it was.
func TestCompactAlways(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db := openAt(t, path, nil)
	tokens, err := db.CreateMany(bigPolicies(300, 300), nil)
	require.NoError(t, err)
	deleteAll(t, db, tokens[10:])
	require.NoError(t, db.Close())
	ino, size := inode(t, path), fileSize(t, path)

	db = openAt(t, path, nil)
	require.Equal(t, ino, inode(t, path), "too little free to compact by itself")
	require.NoError(t, db.Close())

	require.NoError(t, os.Link(path, path+".link"))
	_, err = Open(path, Options{HashKey: testHashKey, CompactAlways: true})
	require.ErrorContains(t, err, "hard links")
	assert.Equal(t, ino, inode(t, path))
	requireNoCopy(t, path)
	require.NoError(t, os.Remove(path+".link"))

	db = openAt(t, path, func(o *Options) { o.CompactAlways = true })
	assert.NotEqual(t, ino, inode(t, path))
	t.Logf("%d bytes compacted to %d", size, fileSize(t, path))
	assert.Less(t, fileSize(t, path), size)
	requireTokens(t, db, tokens[:10])
	requireRefs(t, db)
}
