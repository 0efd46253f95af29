package central_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/central/inboxtest"
)

// TestBoltEventStore runs the shared inbox suite on bbolt; central/pginbox
// runs it on PostgreSQL.
func TestBoltEventStore(t *testing.T) {
	t.Parallel()
	inboxtest.Run(t, func(t *testing.T) central.EventStore {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "e.db"), 0o600, &bolt.Options{Timeout: time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		s, err := central.NewBoltEventStore(db)
		require.NoError(t, err)
		return s
	})
}
