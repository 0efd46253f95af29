package pgstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openPG(t *testing.T, dsn string, enc []byte) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, HashKey: storetest.HashKey, EncryptionKey: enc})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformancePostgres(t *testing.T) {
	for _, enc := range []struct {
		name string
		key  []byte
	}{{"plain", nil}, {"sealed", []byte("0123456789abcdef0123456789abcdef")}} {
		t.Run(enc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Backend { return openPG(t, pgtest.FreshDSN(t), enc.key) })
		})
	}
}

func TestConformancePostgresPlugins(t *testing.T) {
	storetest.RunPlugins(t, func(t *testing.T) store.PluginStore { return openPG(t, pgtest.FreshDSN(t), nil) })
}
