package store

// Bucket schema of the plugin registry, inside a bbolt file (the central
// token database's, next to the token buckets):
//
//	plugin_registry
//	├── "revision"        → uint64 BE: bumped by every upload and delete
//	├── entries/          "<name>/<sha256 hex>" → manifest.Entry JSON (with the envelope)
//	└── blobs/            sha256 hex → the wasm binary

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

var (
	bucketPluginRegistry = []byte("plugin_registry")
	bucketPluginEntries  = []byte("entries")
	bucketPluginBlobs    = []byte("blobs")
	keyPluginRevision    = []byte("revision")
)

// BoltPlugins is a PluginStore in a bbolt file; bbolt serializes writers.
type BoltPlugins struct{ db *bbolt.DB }

// NewBoltPlugins creates the registry's buckets in db if needed.
func NewBoltPlugins(db *bbolt.DB) (*BoltPlugins, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketPluginRegistry)
		if err != nil {
			return err
		}
		if _, err := root.CreateBucketIfNotExists(bucketPluginEntries); err != nil {
			return err
		}
		_, err = root.CreateBucketIfNotExists(bucketPluginBlobs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating the plugin registry buckets: %w", err)
	}
	return &BoltPlugins{db: db}, nil
}

// UpdatePlugins runs fn in a bbolt write transaction.
func (p *BoltPlugins) UpdatePlugins(fn func(PluginTx) error) error {
	return p.db.Update(func(tx *bbolt.Tx) error { return fn(boltPluginTx{tx.Bucket(bucketPluginRegistry)}) })
}

// ViewPlugins runs fn in a bbolt read transaction.
func (p *BoltPlugins) ViewPlugins(fn func(PluginTx) error) error {
	return p.db.View(func(tx *bbolt.Tx) error { return fn(boltPluginTx{tx.Bucket(bucketPluginRegistry)}) })
}

type boltPluginTx struct{ root *bbolt.Bucket }

func (t boltPluginTx) entries() *bbolt.Bucket { return t.root.Bucket(bucketPluginEntries) }
func (t boltPluginTx) blobs() *bbolt.Bucket   { return t.root.Bucket(bucketPluginBlobs) }

// bbolt memory is valid only inside the transaction: every read is cloned.
func (t boltPluginTx) Entry(key string) ([]byte, error) {
	return bytes.Clone(t.entries().Get([]byte(key))), nil
}

func (t boltPluginTx) Entries(fn func(string, []byte) error) error {
	return t.entries().ForEach(func(k, v []byte) error { return fn(string(k), bytes.Clone(v)) })
}

func (t boltPluginTx) PutEntry(key string, v []byte) error { return t.entries().Put([]byte(key), v) }
func (t boltPluginTx) DeleteEntry(key string) error        { return t.entries().Delete([]byte(key)) }

func (t boltPluginTx) Blob(sha string) ([]byte, error) {
	return bytes.Clone(t.blobs().Get([]byte(sha))), nil
}

func (t boltPluginTx) PutBlob(sha string, wasm []byte) error {
	return t.blobs().Put([]byte(sha), wasm)
}
func (t boltPluginTx) DeleteBlob(sha string) error { return t.blobs().Delete([]byte(sha)) }

func (t boltPluginTx) Revision() (uint64, error) {
	v := t.root.Get(keyPluginRevision)
	if len(v) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(v), nil
}

func (t boltPluginTx) SetRevision(rev uint64) error {
	k := revKey(rev)
	return t.root.Put(keyPluginRevision, k[:])
}

var _ PluginStore = (*BoltPlugins)(nil)
