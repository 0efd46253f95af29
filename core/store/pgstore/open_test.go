package pgstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"
)

// Replicas starting together migrate once and agree on the key checks.
func TestOpenConcurrentMigrates(t *testing.T) {
	dsn := pgtest.FreshDSN(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, HashKey: storetest.HashKey,
				EncryptionKey: []byte("0123456789abcdef0123456789abcdef")})
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var versions, metas int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM tokenomics_schema_migrations`).Scan(&versions))
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM tokenomics_meta`).Scan(&metas))
	assert.Equal(t, pgstore.SchemaVersion(), versions)
	assert.Equal(t, 2, metas, "hash_check and enc_check, once")
}

func TestOpenRefusesOtherKeys(t *testing.T) {
	dsn := pgtest.FreshDSN(t)
	enc := []byte("0123456789abcdef0123456789abcdef")
	s := openPG(t, dsn, enc)
	_, _, err := s.Create([]byte(`{"a":1}`), nil)
	require.NoError(t, err)
	tests := []struct {
		name string
		o    pgstore.Options
		want error
	}{
		{"other hash key", pgstore.Options{HashKey: []byte("another-hash-key-of-enough-length"), EncryptionKey: enc}, store.ErrHashKeyMismatch},
		{"no encryption key", pgstore.Options{HashKey: storetest.HashKey}, store.ErrDecrypt},
		{"other encryption key", pgstore.Options{HashKey: storetest.HashKey, EncryptionKey: []byte("fedcba9876543210fedcba9876543210")}, store.ErrDecrypt},
		{"no DSN", pgstore.Options{HashKey: storetest.HashKey}, pgstore.ErrNoDSN},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want != pgstore.ErrNoDSN {
				tc.o.DSN = dsn
			}
			_, err := pgstore.Open(context.Background(), tc.o)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

// A change made through one replica reaches another's subscribers, and
// its reads, at once.
func TestReplicasSeeEachOther(t *testing.T) {
	dsn := pgtest.FreshDSN(t)
	a, b := openPG(t, dsn, nil), openPG(t, dsn, nil)
	got := make(chan store.Change, 4)
	defer b.SubscribeBatch(func(cs []store.Change) {
		for _, c := range cs {
			got <- c
		}
	})()
	tok, rec, err := a.Create([]byte(`{"a":1}`), nil)
	require.NoError(t, err)
	_, err = b.Lookup(tok)
	require.NoError(t, err, "a committed create is readable on the other replica")
	assert.Equal(t, rec.Revision, b.Revision())
	select {
	case c := <-got:
		assert.Equal(t, rec.Hash, c.Hash)
	case <-time.After(10 * time.Second):
		t.Fatal("replica b never heard of a's change")
	}
	_, err = b.Delete(rec.Hash)
	require.NoError(t, err)
	_, err = a.Lookup(tok)
	assert.ErrorIs(t, err, store.ErrNotFound)
}
