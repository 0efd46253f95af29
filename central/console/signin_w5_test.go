package console

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/store/pgstore"
	"github.com/tokenomics-dev/tokenomics/core/store/pgstore/pgtest"
	"github.com/tokenomics-dev/tokenomics/core/store/storetest"
)

// TestSigninStores: failed sign-ins from one source, spread over two
// replicas (two handles on one bbolt file or one PostgreSQL database, or
// one process in memory), use up one allowance: after signinBurst failures
// in all, neither replica lets the source try; one refill later one try is
// back; another source is not touched. Concurrent failures on both
// replicas each count.
func TestSigninStores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		open func(t *testing.T, clk *clock) (a, b *sessions)
	}{
		{"memory", func(t *testing.T, clk *clock) (*sessions, *sessions) {
			s := newSessions(time.Hour, time.Hour, clk.now, nil, hclog.NewNullLogger())
			return s, s
		}},
		{"bolt", func(t *testing.T, clk *clock) (*sessions, *sessions) {
			db, err := bbolt.Open(filepath.Join(t.TempDir(), "a.db"), 0o600, &bbolt.Options{Timeout: time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			var out []*sessions
			for range 2 {
				st, err := openBoltSignins(db)
				require.NoError(t, err)
				s := newSessions(time.Hour, time.Hour, clk.now, nil, hclog.NewNullLogger())
				s.signins = st
				out = append(out, s)
			}
			return out[0], out[1]
		}},
		{"postgres replicas", func(t *testing.T, clk *clock) (*sessions, *sessions) {
			dsn := pgtest.FreshDSN(t)
			var out []*sessions
			for range 2 {
				st, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, HashKey: storetest.HashKey, Now: clk.now})
				require.NoError(t, err)
				t.Cleanup(func() { _ = st.Close() })
				s := newSessions(time.Hour, time.Hour, clk.now, nil, hclog.NewNullLogger())
				s.signins = st.ConsoleSignins()
				out = append(out, s)
			}
			return out[0], out[1]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
			a, b := tc.open(t, clk)
			allowed := func(s *sessions, src string) bool {
				ok, err := s.allowSignin(src)
				require.NoError(t, err)
				return ok
			}
			for i := range signinBurst {
				r := []*sessions{a, b}[i%2]
				require.True(t, allowed(r, "10.0.0.1"), "try %d", i+1)
				require.NoError(t, r.failSignin("10.0.0.1"))
			}
			assert.False(t, allowed(a, "10.0.0.1"), "locked on a after failures on both")
			assert.False(t, allowed(b, "10.0.0.1"), "locked on b after failures on both")
			assert.True(t, allowed(b, "10.0.0.2"), "another source keeps its tries")

			clk.add(signinRefill)
			assert.True(t, allowed(b, "10.0.0.1"), "one try back after a refill")
			require.NoError(t, a.failSignin("10.0.0.1"))
			assert.False(t, allowed(b, "10.0.0.1"), "and used up on the other replica")

			// Concurrent failures of a fresh source on both replicas.
			var wg sync.WaitGroup
			for i := range signinBurst {
				wg.Add(1)
				go func(r *sessions) {
					defer wg.Done()
					assert.NoError(t, r.failSignin("10.0.0.3"))
				}([]*sessions{a, b}[i%2])
			}
			wg.Wait()
			assert.False(t, allowed(a, "10.0.0.3"), "every concurrent failure counted")

			clk.add(signinBurst * signinRefill)
			assert.True(t, allowed(a, "10.0.0.1"), "refilled")
		})
	}
}
