package limits

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func openBolt(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "proxy.db"), 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestBoltPersisterRoundTrip(t *testing.T) {
	t.Parallel()
	db := openBolt(t)
	p, err := NewBoltPersister(db, "limits")
	require.NoError(t, err)
	ctx := context.Background()

	m, err := NewMemory(MemoryOptions{Persister: p})
	require.NoError(t, err)
	budgets := []Budget{{"", 1000}, {"openai/0", 500}}
	l, err := m.Acquire(ctx, &Request{Subject: "a", Budgets: budgets, Reserve: 300})
	require.NoError(t, err)
	require.NoError(t, m.Settle(ctx, l, 120))
	_, err = m.Acquire(ctx, &Request{Subject: "a", Budgets: budgets, Reserve: 200}) // in flight at "crash"
	require.NoError(t, err)
	l, err = m.Acquire(ctx, &Request{Subject: "b\x00odd", Budgets: budgets[:1], Reserve: 10})
	require.NoError(t, err)
	require.NoError(t, m.Settle(ctx, l, 7))
	require.NoError(t, m.Close(), "Close saves")

	m2, err := NewMemory(MemoryOptions{Persister: p})
	require.NoError(t, err)
	defer m2.Close()
	tests := []struct {
		name, subject, key string
		used               int64
	}{
		{"token budget", "a", "", 120},
		{"entry budget", "a", "openai/0", 120},
		{"odd subject", "b\x00odd", "", 7},
		{"unknown", "c", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			used, reserved, err := m2.Spent(ctx, tc.subject, tc.key)
			require.NoError(t, err)
			assert.Equal(t, tc.used, used)
			assert.Zero(t, reserved, "reservations do not survive a restart")
		})
	}
	assert.Equal(t, []Counter{
		{Subject: "a", Key: "", Used: 120},
		{Subject: "a", Key: "openai/0", Used: 120},
		{Subject: "b\x00odd", Key: "", Used: 7},
	}, m2.Snapshot())
}

func TestStartPersist(t *testing.T) {
	t.Parallel()
	p, err := NewBoltPersister(openBolt(t), "limits")
	require.NoError(t, err)
	m, err := NewMemory(MemoryOptions{Persister: p})
	require.NoError(t, err)
	defer m.Close()
	m.StartPersist(10 * time.Millisecond)
	m.StartPersist(10 * time.Millisecond) // second call: no second loop
	ctx := context.Background()
	l, err := m.Acquire(ctx, &Request{Subject: "a", Budgets: []Budget{{"", 0}}, Reserve: 5})
	require.NoError(t, err)
	require.NoError(t, m.Settle(ctx, l, 42))
	require.Eventually(t, func() bool {
		cs, err := p.Load()
		return err == nil && len(cs) == 1 && cs[0].Used == 42
	}, 5*time.Second, 10*time.Millisecond)
}

func TestBoltPersisterCorrupt(t *testing.T) {
	t.Parallel()
	db := openBolt(t)
	p, err := NewBoltPersister(db, "limits")
	require.NoError(t, err)
	require.NoError(t, p.Save([]Counter{{Subject: "a", Used: 1}}))
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("limits")).Bucket(budgetsBucket).Put([]byte{0xff}, []byte("short"))
	}))
	_, err = p.Load()
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = NewMemory(MemoryOptions{Persister: p})
	require.ErrorIs(t, err, ErrCorrupt)
}

func FuzzCounterKey(f *testing.F) {
	f.Add("a", "")
	f.Add("", "openai/0")
	f.Add("sub\x00ject", "k\xff")
	f.Fuzz(func(t *testing.T, subject, key string) {
		s, k, ok := decodeCounterKey(encodeCounterKey(subject, key))
		if !ok || s != subject || k != key {
			t.Fatalf("round trip of %q %q gave %q %q %v", subject, key, s, k, ok)
		}
		// Decoding arbitrary bytes must not panic.
		decodeCounterKey([]byte(subject + key))
	})
}
