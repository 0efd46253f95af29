package rollup_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/rollup/rolluptest"
)

// TestBoltStoreConformance runs the shared suite on bbolt; pgstore's
// tests run it on PostgreSQL.
func TestBoltStoreConformance(t *testing.T) {
	rolluptest.Run(t, func(t *testing.T) rollup.Store {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "u.db"), 0o600, &bolt.Options{Timeout: time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		s, err := rollup.NewBoltStore(db, "u")
		require.NoError(t, err)
		return s
	})
}
