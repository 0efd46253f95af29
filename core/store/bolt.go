package store

// Bucket schema. Keys and values are bytes; "BE" is big-endian.
//
//	meta
//	├── "schema"       → 0x02 (0x01: policies inside records; see migrate.go)
//	├── "revision"     → uint64 BE: revision of the latest change
//	├── "pruned"       → uint64 BE: highest revision of a pruned tombstone
//	├── "hash_check"   → HMAC-SHA256(hash key, hashCheckLabel)
//	└── "enc_check"    → nonce ‖ AES-GCM(encCheckLabel); present once an
//	                     encryption key has been used with the file
//	records
//	└── hex HMAC(hash key, token) → format ‖ revision ‖ policy key ‖ body (see value.go)
//	policies
//	└── policy key → refs ‖ format ‖ policy (see policies.go)
//	tombstones
//	└── hash → uint64 BE revision ‖ int64 BE deleted_at (unix ns)
//	changes
//	└── uint64 BE revision → hash
//
// Invariant: changes holds exactly one entry per live record and per
// tombstone, under its latest revision, so Changes(since) seeks to since+1
// and reads only what changed after it. Each policy value's refs is the
// number of records naming its key, and no record names a missing key.

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var (
	bucketMeta       = []byte("meta")
	bucketRecords    = []byte("records")
	bucketTombstones = []byte("tombstones")
	bucketChanges    = []byte("changes")

	keySchema    = []byte("schema")
	keyRevision  = []byte("revision")
	keyPruned    = []byte("pruned")
	keyHashCheck = []byte("hash_check")
	keyEncCheck  = []byte("enc_check")

	hashCheckLabel = []byte("tokenomics/store/hash-key-check/v1")
	encCheckLabel  = []byte("tokenomics/store/encryption-key-check/v1")
)

const schemaVersion byte = 2

const (
	// DefaultLockTimeout bounds the wait for another process's file lock.
	DefaultLockTimeout = 500 * time.Millisecond
	// DefaultTombstoneRetention is how long Compact keeps tombstones.
	DefaultTombstoneRetention = 30 * 24 * time.Hour
)

// Options configures Open.
type Options struct {
	// HashKey keys the HMAC of tokens; at least MinHashKeyLen bytes. It must
	// stay the same for the life of the file (checked on open).
	HashKey []byte
	// EncryptionKey, when set, is a 32-byte AES-256 key sealing policies.
	// nil stores policies in plain JSON.
	EncryptionKey []byte
	// EncryptionPassphrase, instead of EncryptionKey, is stretched into
	// the key with the derivation the database records (keys.go): scrypt
	// with a stored salt for new databases, the legacy SHA-256 for those
	// created before it was recorded.
	EncryptionPassphrase []byte
	// LockTimeout bounds the wait for the file lock; default DefaultLockTimeout.
	LockTimeout time.Duration
	// TombstoneRetention is how long Compact keeps tombstones; default
	// DefaultTombstoneRetention.
	TombstoneRetention time.Duration
	// ReadOnly opens with a shared lock; writes fail.
	ReadOnly bool
	// SkipVerify leaves out the pass over the whole file that Open makes
	// by default, which turns a damaged page into a *CorruptError at open
	// rather than a failed request later.
	SkipVerify bool
	// CompactAlways rewrites the file compactly at a writable open even
	// when little of it is free (`tokenomics compact`), and makes a failed
	// compaction fail the open; by default a writable open compacts only a
	// mostly free file and logs a failure (compact.go).
	CompactAlways bool
	// Logger receives debug lines; nil discards them.
	Logger hclog.Logger
	// Now replaces time.Now in tests.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.TombstoneRetention <= 0 {
		o.TombstoneRetention = DefaultTombstoneRetention
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// DB is an open token database. It is safe for concurrent use.
type DB struct {
	bolt      *bbolt.DB
	path      string
	hasher    *Hasher
	keyer     policyKeyer
	codec     codec
	logger    hclog.Logger
	now       func() time.Time
	retention time.Duration
	// passphrase is kept only until init derives the key from it.
	passphrase []byte
	// legacyKDF: the passphrase is stretched the old way (see LegacyKDF).
	legacyKDF bool

	revision atomic.Uint64 // cache of meta/revision, for Revision()

	// writeMu spans a write transaction and its notifications, so
	// subscribers see changes in revision order.
	writeMu sync.Mutex
	// codecMu guards codec against Rekey, which holds it across its
	// transaction and the swap: read transactions hold it shared;
	// writers read codec under writeMu, which the swap holds too, so no
	// write after Rekey's commit seals with the old key.
	codecMu sync.RWMutex
	subsMu  sync.Mutex
	subs    map[uint64]func([]Change)
	nextSub uint64

	// txHook runs inside every write transaction that changed something;
	// see OnWrite.
	txHook atomic.Pointer[func(tx *bbolt.Tx, changes []Change) error]
}

// Open opens or creates the database at path. A file held by another
// process gives a *LockedError after opts.LockTimeout; a hash key or
// encryption key that does not match the file's gives ErrHashKeyMismatch or
// ErrDecrypt.
func Open(path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	hasher, err := NewHasher(opts.HashKey)
	if err != nil {
		return nil, fmt.Errorf("opening database %q: %w", path, err)
	}
	if opts.EncryptionKey != nil && opts.EncryptionPassphrase != nil {
		return nil, fmt.Errorf("opening database %q: %w: give an encryption key or a passphrase, not both", path, ErrInvalidKey)
	}
	c, err := newCodec(opts.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("opening database %q: %w", path, err)
	}
	opts.setDefaults()

	if !opts.ReadOnly {
		if err := ensureDir(filepath.Dir(path)); err != nil {
			return nil, fmt.Errorf("opening database %q: %w", path, err)
		}
	}
	var bdb *bbolt.DB
	err = guard(path, func() error {
		var oerr error
		bdb, oerr = openLocked(path, opts)
		return oerr
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, &LockedError{Path: path}
	}
	if err != nil {
		if ce := corruptOpenError(path, err); ce != err {
			return nil, ce
		}
		if errors.Is(err, ErrCorrupt) {
			return nil, err
		}
		return nil, fmt.Errorf("opening database %q: %w", path, err)
	}
	db := &DB{
		bolt:       bdb,
		path:       path,
		hasher:     hasher,
		keyer:      newPolicyKeyer(hasher),
		codec:      c,
		logger:     opts.Logger.Named("store"),
		now:        opts.Now,
		retention:  opts.TombstoneRetention,
		subs:       make(map[uint64]func([]Change)),
		passphrase: opts.EncryptionPassphrase,
	}
	err = guard(path, func() error {
		var fix map[policyKey]uint64
		if !opts.SkipVerify {
			err := bdb.View(func(tx *bbolt.Tx) error {
				var err error
				if err = verify(tx); err == nil {
					fix, err = checkRefs(tx)
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("opening database %q: %w", path, err)
			}
		}
		return db.init(opts.ReadOnly, fix)
	})
	if err != nil {
		_ = guard(path, bdb.Close)
		return nil, err
	}
	if !opts.ReadOnly {
		db.removeLeftoverCopy()
		if err := db.compactIfWorth(opts); err != nil {
			_ = guard(path, db.bolt.Close)
			return nil, err
		}
	}
	db.passphrase = nil
	if !opts.SkipVerify {
		db.releasePages() // verify read every page; requests read few
	}
	if db.legacyKDF {
		db.logger.Warn("the encryption passphrase is stretched with one unsalted SHA-256 (a database from an older build); run `tokenomics rekey` to move it to scrypt", "path", path)
	}
	db.logger.Debug("opened database", "path", path, "encrypted", db.codec.encrypted(),
		"read_only", opts.ReadOnly, "revision", db.revision.Load())
	return db, nil
}

// openLocked opens path with bbolt and its file lock. A compaction by
// another process renames a new file over the one this open may have been
// waiting to lock; the lock then holds a file no longer at path, so it
// lets go and opens again.
func openLocked(path string, opts Options) (*bbolt.DB, error) {
	var f *os.File
	bopts := &bbolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			var err error
			f, err = os.OpenFile(name, flag, perm)
			return f, err
		}}
	for attempt := 0; ; attempt++ {
		bdb, err := bbolt.Open(path, 0o600, bopts)
		if err != nil || attempt >= 3 || stillAt(f, path) {
			return bdb, err
		}
		_ = bdb.Close()
	}
}

// stillAt reports whether f is the file at path; when either cannot be
// read it says yes, and the open goes on as before.
func stillAt(f *os.File, path string) bool {
	if f == nil {
		return true
	}
	held, err := f.Stat()
	if err != nil {
		return true
	}
	now, err := os.Stat(path)
	if err != nil {
		return true
	}
	return os.SameFile(held, now)
}

// ensureDir creates a missing parent directory, private to the user.
func ensureDir(dir string) error {
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return nil // exists, or an error bbolt.Open will report better
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating directory %q: %w", dir, err)
	}
	return nil
}

// init creates the buckets, checks the keys against the file's, converts
// a schema 1 file and repairs the reference counts verify found wrong, all
// in one transaction.
func (db *DB) init(readOnly bool, fix map[policyKey]uint64) error {
	check := func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if readOnly {
				return nil // a file no writer initialised yet: empty
			}
			var err error
			if meta, err = createBuckets(tx); err != nil {
				return err
			}
		}
		if s := meta.Get(keySchema); len(s) == 1 && s[0] > schemaVersion {
			return fmt.Errorf("%w: database %q has schema %d, this build reads up to %d", ErrCorrupt, db.path, s[0], schemaVersion)
		}
		if err := db.checkHashKey(meta, readOnly); err != nil {
			return err
		}
		if err := db.derivePassphraseKey(meta, readOnly); err != nil {
			return err
		}
		if err := db.checkEncryptionKey(meta, readOnly); err != nil {
			return err
		}
		db.revision.Store(getUint64(meta, keyRevision))
		if readOnly {
			return nil // a schema 1 file is read as it is
		}
		if err := db.migrate(meta.Tx()); err != nil {
			return err
		}
		if len(fix) > 0 {
			return db.repairRefs(meta.Tx().Bucket(bucketPolicies), fix)
		}
		return nil
	}
	if readOnly {
		return db.bolt.View(check)
	}
	return db.bolt.Update(check)
}

func createBuckets(tx *bbolt.Tx) (*bbolt.Bucket, error) {
	for _, name := range [][]byte{bucketRecords, bucketTombstones, bucketChanges, bucketPolicies} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return nil, fmt.Errorf("creating bucket %s: %w", name, err)
		}
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return nil, fmt.Errorf("creating bucket %s: %w", bucketMeta, err)
	}
	if err := meta.Put(keySchema, []byte{schemaVersion}); err != nil {
		return nil, fmt.Errorf("writing schema version: %w", err)
	}
	return meta, nil
}

func (db *DB) checkHashKey(meta *bbolt.Bucket, readOnly bool) error {
	want := db.hasher.sumRaw(hashCheckLabel)
	got := meta.Get(keyHashCheck)
	if got == nil {
		if readOnly {
			return nil
		}
		return meta.Put(keyHashCheck, want)
	}
	if !hmac.Equal(got, want) {
		return fmt.Errorf("opening database %q: %w; use the hash key it was created with", db.path, ErrHashKeyMismatch)
	}
	return nil
}

func (db *DB) checkEncryptionKey(meta *bbolt.Bucket, readOnly bool) error {
	sealed := meta.Get(keyEncCheck)
	switch {
	case sealed == nil && !db.codec.encrypted():
		return nil
	case sealed == nil:
		// First use of a key with this file: remember it, so opening without
		// it later fails up front rather than on the first sealed record,
		// and seal the records written before it. From now on a plain
		// record can only be an intrusion, and is refused.
		if readOnly {
			return nil
		}
		v, err := db.codec.seal(encCheckLabel, keyEncCheck)
		if err != nil {
			return fmt.Errorf("opening database %q: %w", db.path, err)
		}
		if err := meta.Put(keyEncCheck, v); err != nil {
			return err
		}
		db.codec.strict = true
		return db.sealPlainRecords(meta.Tx())
	case !db.codec.encrypted():
		return fmt.Errorf("opening database %q: %w: the database is encrypted and no encryption key was given", db.path, ErrDecrypt)
	}
	db.codec.strict = true
	if plain, err := db.codec.open(sealed, keyEncCheck); err != nil || !hmac.Equal(plain, encCheckLabel) {
		return fmt.Errorf("opening database %q: %w: the encryption key is not the one the database was encrypted with", db.path, ErrDecrypt)
	}
	return nil
}

// sealPlainRecords encrypts, in place and at their revisions, the records
// and policies written while the database had no encryption key (a schema
// 1 record comes out in schema 2, its policy stored once).
func (db *DB) sealPlainRecords(tx *bbolt.Tx) error {
	t, err := db.initTxn(tx)
	if err != nil || t.records == nil {
		return err
	}
	var plain [][]byte
	err = t.records.ForEach(func(k, v []byte) error {
		if len(v) > 0 && (v[0] == valuePlain || v[0] == valueRef) {
			plain = append(plain, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	lax := db.codec
	lax.strict = false
	for _, k := range plain {
		v := t.records.Get(k)
		if pk, ok := refKey(v); ok {
			rec, _, err := lax.decodeRef(string(k), v)
			if err != nil {
				return fmt.Errorf("sealing record %s: %w", short(string(k)), err)
			}
			if v, err = db.codec.encodeRef(rec, pk); err != nil {
				return err
			}
			if err := t.records.Put(k, v); err != nil {
				return fmt.Errorf("sealing record %s: %w", short(string(k)), err)
			}
			continue
		}
		rec, err := lax.decode(string(k), v)
		if err != nil {
			return fmt.Errorf("sealing record %s: %w", short(string(k)), err)
		}
		if _, err := t.storeRecord(rec); err != nil {
			return fmt.Errorf("sealing record %s: %w", short(string(k)), err)
		}
	}
	var blobs [][]byte
	err = t.policies.ForEach(func(k, v []byte) error {
		if len(v) >= blobHeadLen && v[8] == blobPlain {
			blobs = append(blobs, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, kb := range blobs {
		k := policyKey(kb)
		v := t.policies.Get(kb)
		p, err := lax.decodeBlob(k, v)
		if err != nil {
			return fmt.Errorf("sealing policy %x: %w", kb[:6], err)
		}
		sealed, err := db.codec.encodeBlob(k, blobRefs(v), p)
		if err != nil {
			return err
		}
		if err := t.policies.Put(kb, sealed); err != nil {
			return fmt.Errorf("sealing policy %x: %w", kb[:6], err)
		}
	}
	if len(plain) > 0 {
		db.logger.Info("sealed the records written before the encryption key was set", "records", len(plain))
	}
	return t.flushRefs()
}

// skipUnsealed reports an unsealed record of an encrypted database, which
// listings leave out: one planted record must not take every other token
// down with it, and must never be served.
func (db *DB) skipUnsealed(hash []byte) {
	db.logger.Error("refusing a record stored in the clear in an encrypted database; it was not written by tokenomics",
		"token_hash", short(string(hash)))
}

// Close releases the file and its lock.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("closing database %q: %w", db.path, err)
	}
	return nil
}

// Path returns the file path the database was opened with.
func (db *DB) Path() string { return db.path }

// Hasher returns the hasher keyed with the database's hash key.
func (db *DB) Hasher() *Hasher { return db.hasher }

// Encrypted reports whether policies are sealed on write.
func (db *DB) Encrypted() bool { return db.codec.encrypted() }

// Revision returns the revision of the latest committed change.
func (db *DB) Revision() uint64 { return db.revision.Load() }

// Subscribe calls fn after each committed change, in revision order, outside
// the transaction. fn runs while the database holds its write lock: it must
// be quick and must not write to the database. cancel stops the calls.
func (db *DB) Subscribe(fn func(Change)) (cancel func()) {
	return db.SubscribeBatch(func(cs []Change) {
		for _, c := range cs {
			fn(c)
		}
	})
}

// SubscribeBatch is Subscribe with one call per committed transaction: a
// sync that applies ten thousand changes is one call with all of them, so a
// subscriber can fold them in at once. The slice must not be kept or
// modified. The same call is made by Publish for changes that could not be
// persisted.
func (db *DB) SubscribeBatch(fn func([]Change)) (cancel func()) {
	db.subsMu.Lock()
	id := db.nextSub
	db.nextSub++
	db.subs[id] = fn
	db.subsMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			db.subsMu.Lock()
			delete(db.subs, id)
			db.subsMu.Unlock()
		})
	}
}

// OnWrite registers fn to run inside every write transaction that changed
// a record or tombstone, after the changes and before the commit, with the
// transaction and its changes in revision order. An error from fn aborts
// the whole change. The central server writes its push intent here, so a
// change and the promise to announce it commit together. One hook at a
// time; nil removes it.
func (db *DB) OnWrite(fn func(tx *bbolt.Tx, changes []Change) error) {
	if fn == nil {
		db.txHook.Store(nil)
		return
	}
	db.txHook.Store(&fn)
}

func (db *DB) notify(changes []Change) {
	if len(changes) == 0 {
		return
	}
	db.subsMu.Lock()
	fns := make([]func([]Change), 0, len(db.subs))
	for _, fn := range db.subs {
		fns = append(fns, fn)
	}
	db.subsMu.Unlock()
	for _, fn := range fns {
		fn(changes)
	}
}

// txn is one write transaction's view of the buckets and the revision.
type txn struct {
	db                                        *DB
	meta, records, tombs, changeIdx, policies *bbolt.Bucket
	rev                                       uint64
	changes                                   []Change // to notify after commit
	// refs are the reference count changes flushRefs writes; shared is
	// the one copy of each policy written, which changes share.
	refs   map[policyKey]int
	shared map[policyKey]json.RawMessage
	// committed, when set, runs after the commit, still under writeMu.
	committed func()
}

func newTxn(db *DB, tx *bbolt.Tx) *txn {
	t := &txn{
		db:        db,
		meta:      tx.Bucket(bucketMeta),
		records:   tx.Bucket(bucketRecords),
		tombs:     tx.Bucket(bucketTombstones),
		changeIdx: tx.Bucket(bucketChanges),
		policies:  tx.Bucket(bucketPolicies),
		refs:      map[policyKey]int{},
		shared:    map[policyKey]json.RawMessage{},
	}
	t.pack()
	return t
}

// pack fills pages to packFill rather than bbolt's half: a bulk write
// (CreateMany, a full sync) spills its nodes into pages at that fill, and
// at half the file and the pages a start reads would double. The changes
// index is appended to in key order, where full pages cost nothing.
func (t *txn) pack() {
	for _, b := range []*bbolt.Bucket{t.records, t.tombs, t.changeIdx, t.policies} {
		if b != nil {
			b.FillPercent = packFill
		}
	}
}

const packFill = 0.9

// view reads the transaction's buckets.
func (t *txn) view() *view {
	return &view{db: t.db, records: t.records, tombs: t.tombs, changeIdx: t.changeIdx, meta: t.meta, policies: t.policies}
}

// initTxn is a txn for the conversions init makes, creating the policies
// bucket of a schema 1 file.
func (db *DB) initTxn(tx *bbolt.Tx) (*txn, error) {
	t := newTxn(db, tx)
	if t.policies == nil {
		var err error
		if t.policies, err = tx.CreateBucket(bucketPolicies); err != nil {
			return nil, fmt.Errorf("creating bucket %s: %w", bucketPolicies, err)
		}
		t.pack()
	}
	return t, nil
}

// write runs fn in a write transaction, then caches the revision and
// notifies subscribers.
func (db *DB) write(fn func(t *txn) error) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	var t *txn
	err := guard(db.path, func() error {
		return db.bolt.Update(func(tx *bbolt.Tx) error {
			t = newTxn(db, tx)
			if t.meta == nil || t.records == nil || t.tombs == nil || t.changeIdx == nil || t.policies == nil {
				return fmt.Errorf("%w: database %q lacks its buckets", ErrCorrupt, db.path)
			}
			t.rev = getUint64(t.meta, keyRevision)
			if err := fn(t); err != nil {
				return err
			}
			if err := t.flushRefs(); err != nil {
				return err
			}
			if hook := db.txHook.Load(); hook != nil && len(t.changes) > 0 {
				if err := (*hook)(tx, t.changes); err != nil {
					return err
				}
			}
			return putUint64(t.meta, keyRevision, t.rev)
		})
	})
	if err != nil {
		return err
	}
	if t.committed != nil {
		t.committed()
	}
	db.revision.Store(t.rev)
	db.notify(t.changes)
	return nil
}

// view is one read transaction's buckets. Buckets are nil only in a
// read-only database no writer has initialised (policies: nor converted).
type view struct {
	db                                        *DB
	records, tombs, changeIdx, meta, policies *bbolt.Bucket
	// cache, when set, holds each policy decoded so far, so the records
	// of one policy share its bytes (listings).
	cache map[policyKey]json.RawMessage
}

// read runs fn in a read transaction.
func (db *DB) read(fn func(v *view) error) error {
	db.codecMu.RLock()
	defer db.codecMu.RUnlock()
	return guard(db.path, func() error {
		return db.bolt.View(func(tx *bbolt.Tx) error {
			return fn(&view{db: db, records: tx.Bucket(bucketRecords), tombs: tx.Bucket(bucketTombstones),
				changeIdx: tx.Bucket(bucketChanges), meta: tx.Bucket(bucketMeta), policies: tx.Bucket(bucketPolicies)})
		})
	})
}

// record decodes the stored value val of hash, in either schema.
func (v *view) record(hash string, val []byte) (Record, error) {
	k, ok := refKey(val)
	if !ok {
		return v.db.codec.decode(hash, val)
	}
	rec, _, err := v.db.codec.decodeRef(hash, val)
	if err != nil {
		return Record{}, err
	}
	if rec.Policy, err = v.policy(k); err != nil {
		return Record{}, fmt.Errorf("record %s: %w", short(hash), err)
	}
	return rec, nil
}

// policy returns the policy stored under k.
func (v *view) policy(k policyKey) (json.RawMessage, error) {
	if p, ok := v.cache[k]; ok {
		return p, nil
	}
	var b []byte
	if v.policies != nil {
		b = v.policies.Get(k[:])
	}
	if b == nil {
		return nil, fmt.Errorf("%w: policy %s is missing", ErrCorrupt, k.short())
	}
	p, err := v.db.codec.decodeBlob(k, b)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache[k] = p
	}
	return p, nil
}

// unindex removes the changes entry of hash's live record or tombstone.
func (t *txn) unindex(hash []byte) error {
	var rev uint64
	if v := t.records.Get(hash); v != nil {
		rev = valueRevision(v)
	} else if v := t.tombs.Get(hash); len(v) >= 8 {
		rev = binary.BigEndian.Uint64(v)
	} else {
		return nil
	}
	k := revKey(rev)
	if string(t.changeIdx.Get(k[:])) != string(hash) {
		return nil
	}
	return t.changeIdx.Delete(k[:])
}

// putRecord writes rec (at rec.Revision) and indexes it, replacing any
// record or tombstone of the same hash.
func (t *txn) putRecord(rec Record) error {
	key := []byte(rec.Hash)
	if err := t.unindex(key); err != nil {
		return err
	}
	policy, err := t.storeRecord(rec)
	if err != nil {
		return err
	}
	if err := t.tombs.Delete(key); err != nil {
		return err
	}
	k := revKey(rec.Revision)
	if err := t.changeIdx.Put(k[:], key); err != nil {
		return fmt.Errorf("indexing record %s: %w", short(rec.Hash), err)
	}
	rc := rec
	rc.Policy = policy
	rc.ExpiresAt = copyTime(rec.ExpiresAt)
	t.changes = append(t.changes, Change{Revision: rec.Revision, Hash: rec.Hash, Record: &rc})
	return nil
}

// storeRecord writes rec's value, its policy stored once, and returns the
// transaction's copy of the policy. It moves the reference the record's
// previous value held.
func (t *txn) storeRecord(rec Record) (json.RawMessage, error) {
	key := []byte(rec.Hash)
	if old := t.records.Get(key); old != nil {
		t.unref(old)
	}
	k, policy, err := t.ref(rec.Policy)
	if err != nil {
		return nil, err
	}
	v, err := t.db.codec.encodeRef(rec, k)
	if err != nil {
		return nil, err
	}
	if err := t.records.Put(key, v); err != nil {
		return nil, fmt.Errorf("writing record %s: %w", short(rec.Hash), err)
	}
	return policy, nil
}

// putTombstone deletes hash's record (if any) and leaves a tombstone at rev.
func (t *txn) putTombstone(hash string, rev uint64, deletedAt time.Time) error {
	key := []byte(hash)
	if err := t.unindex(key); err != nil {
		return err
	}
	if old := t.records.Get(key); old != nil {
		t.unref(old)
	}
	if err := t.records.Delete(key); err != nil {
		return err
	}
	var v [16]byte
	binary.BigEndian.PutUint64(v[:8], rev)
	binary.BigEndian.PutUint64(v[8:], uint64(deletedAt.UnixNano()))
	if err := t.tombs.Put(key, v[:]); err != nil {
		return fmt.Errorf("writing tombstone %s: %w", short(hash), err)
	}
	k := revKey(rev)
	if err := t.changeIdx.Put(k[:], key); err != nil {
		return fmt.Errorf("indexing tombstone %s: %w", short(hash), err)
	}
	t.changes = append(t.changes, Change{Revision: rev, Hash: hash, Deleted: true})
	return nil
}

func revKey(rev uint64) [8]byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], rev)
	return k
}

func getUint64(b *bbolt.Bucket, key []byte) uint64 {
	if b == nil {
		return 0
	}
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint64(b *bbolt.Bucket, key []byte, n uint64) error {
	k := revKey(n)
	return b.Put(key, k[:])
}

// Check reads the meta bucket and the first record, cheaply, so a
// readiness probe notices a file that became unreadable.
func (db *DB) Check() error {
	return db.read(func(v *view) error {
		if v.meta == nil || v.records == nil {
			return fmt.Errorf("%w: database %q lacks its buckets", ErrCorrupt, db.path)
		}
		_ = getUint64(v.meta, keyRevision)
		k, val := v.records.Cursor().First()
		if k != nil && len(val) == 0 {
			return fmt.Errorf("%w: database %q holds an empty record", ErrCorrupt, db.path)
		}
		return nil
	})
}

// Publish hands changes that could not be persisted to the subscribers, as
// if committed, without touching the file or the revision. A proxy whose
// disk is full uses it for deletions, so a revocation takes effect in
// memory even though the synced copy cannot record it.
func (db *DB) Publish(changes []Change) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	db.notify(changes)
}

// Bolt returns the underlying bbolt handle, so other packages can keep
// their own buckets (usage counters, an event outbox) in the same file. They
// must not touch the store's buckets.
func (db *DB) Bolt() *bbolt.DB { return db.bolt }
