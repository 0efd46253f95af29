package syncer

// Bucket schema, in the proxy's own token database file:
//
//	syncer_plugins
//	├── active/   plugin name → the envelope of its active version
//	└── floors/   plugin name → the highest version ever accepted
//
// Binaries live in plugins.dir as <sha256>.wasm. Envelopes are re-verified
// at every start, so removing a key from plugins.trusted_keys withdraws what
// it signed.

import (
	"fmt"

	"go.etcd.io/bbolt"
)

var (
	bucketState  = []byte("syncer_plugins")
	bucketActive = []byte("active")
	bucketFloors = []byte("floors")
)

// stateDB persists the plugin state.
type stateDB struct{ db *bbolt.DB }

func (st stateDB) init() error {
	return st.db.Update(func(tx *bbolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketState)
		if err != nil {
			return err
		}
		if _, err := root.CreateBucketIfNotExists(bucketActive); err != nil {
			return err
		}
		_, err = root.CreateBucketIfNotExists(bucketFloors)
		return err
	})
}

// load returns the active envelopes and the floors.
func (st stateDB) load() (active map[string][]byte, floors map[string]string, err error) {
	active, floors = map[string][]byte{}, map[string]string{}
	err = st.db.View(func(tx *bbolt.Tx) error {
		root := tx.Bucket(bucketState)
		if err := root.Bucket(bucketActive).ForEach(func(k, v []byte) error {
			active[string(k)] = append([]byte(nil), v...)
			return nil
		}); err != nil {
			return err
		}
		return root.Bucket(bucketFloors).ForEach(func(k, v []byte) error {
			floors[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("loading plugin state: %w", err)
	}
	return active, floors, nil
}

// activate records name's new active envelope and floor in one transaction.
func (st stateDB) activate(name string, envelope []byte, floor string) error {
	err := st.db.Update(func(tx *bbolt.Tx) error {
		root := tx.Bucket(bucketState)
		if err := root.Bucket(bucketActive).Put([]byte(name), envelope); err != nil {
			return err
		}
		return root.Bucket(bucketFloors).Put([]byte(name), []byte(floor))
	})
	if err != nil {
		return fmt.Errorf("saving plugin state of %q: %w", name, err)
	}
	return nil
}

// deactivate forgets name's active version; its floor stays.
func (st stateDB) deactivate(name string) error {
	err := st.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketState).Bucket(bucketActive).Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("saving plugin state of %q: %w", name, err)
	}
	return nil
}
