package tokenapi

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocalAdmin(t *testing.T) {
	t.Parallel()
	svc, db := newTestService(t)
	admin := NewLocalAdmin(svc, nil)
	require.NoError(t, admin.Close(), "closing an unstarted admin is fine")
	require.NoError(t, admin.Start(db.Path(), "127.0.0.1:0"))
	t.Cleanup(func() { _ = admin.Close() })
	require.Error(t, admin.Start(db.Path(), "127.0.0.1:0"), "one start only")

	d, err := ReadDiscovery(db.Path())
	require.NoError(t, err)
	assert.Equal(t, admin.Addr(), d.Addr)
	assert.Equal(t, os.Getpid(), d.PID)
	assert.Len(t, d.Secret, 43, "32 random bytes, base64url")

	hc := &http.Client{Timeout: 5 * time.Second}
	ctx := context.Background()
	c := NewClient("http://"+d.Addr, d.Secret, hc).WithName("local server")
	created, err := c.Create(ctx, CreateRequest{Policy: json.RawMessage(`{"model":"m"}`)})
	require.NoError(t, err)
	_, err = db.Lookup(created.Token)
	require.NoError(t, err, "the running process's database has the token")

	_, err = NewClient("http://"+d.Addr, "not-the-secret", hc).List(ctx)
	require.ErrorIs(t, err, ErrUnauthorized)

	// A second admin on another database gets its own secret.
	other, otherDB := newTestService(t)
	admin2 := NewLocalAdmin(other, nil)
	require.NoError(t, admin2.Start(otherDB.Path(), "127.0.0.1:0"))
	d2, err := ReadDiscovery(otherDB.Path())
	require.NoError(t, err)
	assert.NotEqual(t, d.Secret, d2.Secret)
	require.NoError(t, admin2.Close())

	require.NoError(t, admin.Close())
	require.NoError(t, admin.Close(), "closing twice is fine")
	_, err = ReadDiscovery(db.Path())
	require.ErrorIs(t, err, ErrNoServer, "Close removes the discovery file")
	_, err = c.List(ctx)
	require.ErrorIs(t, err, ErrUnreachable, "and stops the listener")
	assert.Contains(t, err.Error(), "local server http://"+d.Addr+" unreachable")
}

func TestLocalAdminRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	svc, db := newTestService(t)
	tests := []struct {
		name string
		addr string
	}{
		{name: "all interfaces", addr: ":0"},
		{name: "unspecified", addr: "0.0.0.0:0"},
		{name: "hostname", addr: "example.com:0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			admin := NewLocalAdmin(svc, nil)
			require.ErrorIs(t, admin.Start(db.Path(), tc.addr), ErrNotLoopback)
			_, err := os.Stat(DiscoveryPath(db.Path()))
			assert.True(t, os.IsNotExist(err))
		})
	}
}

func TestLocalAdminDiscoveryWriteFails(t *testing.T) {
	t.Parallel()
	svc, _ := newTestService(t)
	admin := NewLocalAdmin(svc, nil)
	missingDir := filepath.Join(t.TempDir(), "gone", "t.db")
	require.Error(t, admin.Start(missingDir, "127.0.0.1:0"))
	assert.Empty(t, admin.Addr(), "not started")
	require.NoError(t, admin.Close())
}
