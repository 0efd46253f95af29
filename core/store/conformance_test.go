package store_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"
)

func TestConformanceBolt(t *testing.T) {
	for _, enc := range []struct {
		name string
		key  []byte
	}{{"plain", nil}, {"sealed", []byte("0123456789abcdef0123456789abcdef")}} {
		t.Run(enc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Backend {
				db, err := store.Open(filepath.Join(t.TempDir(), "c.db"), store.Options{HashKey: storetest.HashKey, EncryptionKey: enc.key})
				require.NoError(t, err)
				t.Cleanup(func() { _ = db.Close() })
				return db
			})
		})
	}
}

func TestConformanceBoltPlugins(t *testing.T) {
	storetest.RunPlugins(t, func(t *testing.T) store.PluginStore {
		bdb, err := bbolt.Open(filepath.Join(t.TempDir(), "p.db"), 0o600, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = bdb.Close() })
		ps, err := store.NewBoltPlugins(bdb)
		require.NoError(t, err)
		return ps
	})
}
