package syncer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

type pluginFixture struct {
	c       *central
	reg     *registry
	dbPath  string
	dir     string
	trusted []ed25519.PublicKey
}

func newPluginFixture(t *testing.T) *pluginFixture {
	t.Helper()
	tmp := t.TempDir()
	return &pluginFixture{c: newCentral(t), reg: newRegistry(), dbPath: filepath.Join(tmp, "proxy.db"),
		dir: filepath.Join(tmp, "plugins"), trusted: []ed25519.PublicKey{pub(signKey(1)), pub(signKey(2))}}
}

// open starts a proxy life on the fixture's files; close it before the
// next life.
func (f *pluginFixture) open(t *testing.T) (*Syncer, *store.DB) {
	t.Helper()
	db, err := store.Open(f.dbPath, store.Options{HashKey: testHashKey})
	require.NoError(t, err)
	s, err := New(Options{Store: db, Tokens: f.c.client, Plugins: f.reg, TrustedKeys: f.trusted, PluginDir: f.dir,
		MaxMemoryPages: 1024, MaxCallMS: 100})
	require.NoError(t, err)
	return s, db
}

func TestPluginVerification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		offer  func(t *testing.T, r *registry) (name string, wasm []byte)
		active bool
	}{
		{name: "signed by a trusted key", active: true, offer: func(t *testing.T, r *registry) (string, []byte) {
			w, e := plugin(t, "orion", "1.0.0", manifest.Limits{}, signKey(1))
			r.put(t, e, w)
			return "orion", w
		}},
		{name: "signed by the second trusted key", active: true, offer: func(t *testing.T, r *registry) (string, []byte) {
			w, e := plugin(t, "orion", "1.0.0", manifest.Limits{}, signKey(2))
			r.put(t, e, w)
			return "orion", w
		}},
		{name: "signed by an untrusted key", offer: func(t *testing.T, r *registry) (string, []byte) {
			w, e := plugin(t, "orion", "1.0.0", manifest.Limits{}, signKey(7))
			r.put(t, e, w)
			return "orion", w
		}},
		{name: "unsigned", offer: func(t *testing.T, r *registry) (string, []byte) {
			w, e := plugin(t, "orion", "1.0.0", manifest.Limits{})
			r.put(t, e, w)
			return "orion", w
		}},
		{name: "binary tampered on the server", offer: func(t *testing.T, r *registry) (string, []byte) {
			w, e := plugin(t, "orion", "1.0.0", manifest.Limits{}, signKey(1))
			evil := append([]byte(nil), w...)
			evil[len(evil)-1] ^= 1
			r.put(t, e, evil)
			return "orion", w
		}},
		{name: "asks for more memory than the host grants", offer: func(t *testing.T, r *registry) (string, []byte) {
			w, e := plugin(t, "orion", "1.0.0", manifest.Limits{MemoryPages: 4096}, signKey(1))
			r.put(t, e, w)
			return "orion", w
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newPluginFixture(t)
			name, wasm := tc.offer(t, f.reg)
			s, db := f.open(t)
			defer db.Close()
			err := s.Sync(context.Background())
			got, rerr := s.Resolve(name, manifest.Sum(wasm))
			if tc.active {
				require.NoError(t, err)
				require.NoError(t, rerr)
				assert.Equal(t, wasm, got)
				return
			}
			require.ErrorIs(t, rerr, ErrPluginUnavailable)
			assert.Empty(t, s.Active())
			entries, _ := os.ReadDir(f.dir)
			assert.Empty(t, entries, "nothing unverified is written to plugins.dir")
		})
	}
}

func TestPluginUpgradeRollbackAndRestart(t *testing.T) {
	t.Parallel()
	f := newPluginFixture(t)
	w1, e1 := plugin(t, "orion", "1.0.0", manifest.Limits{}, signKey(1))
	f.reg.put(t, e1, w1)

	s, db := f.open(t)
	require.NoError(t, s.Sync(context.Background()))
	_, err := s.Resolve("orion", manifest.Sum(w1))
	require.NoError(t, err)
	_, err = s.Resolve("orion", manifest.Sum([]byte("other")))
	require.ErrorIs(t, err, ErrPluginVersion, "a policy pinned to another binary does not get this one")
	_, err = s.Resolve("nobody", manifest.Sum(w1))
	require.ErrorIs(t, err, ErrPluginUnavailable)

	// Upgrade: v2 becomes active; v1 is kept for the tokens pinned to it
	// while the central server still lists it.
	w2, e2 := plugin(t, "orion", "2.0.0", manifest.Limits{}, signKey(1))
	f.reg.put(t, e2, w2)
	require.NoError(t, s.Sync(context.Background()))
	_, err = s.Resolve("orion", manifest.Sum(w2))
	require.NoError(t, err)
	_, err = s.Resolve("orion", manifest.Sum(w1))
	require.NoError(t, err, "a token pinned to the previous version keeps working")
	// Withdrawn on purpose: the pinned tokens are refused, the file goes.
	f.reg.remove(manifest.Sum(w1))
	require.NoError(t, s.Sync(context.Background()))
	_, err = s.Resolve("orion", manifest.Sum(w1))
	require.ErrorIs(t, err, ErrPluginVersion)
	_, err = os.Stat(filepath.Join(f.dir, manifest.Sum(w1)+".wasm"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	// A failed fetch of v3 keeps v2 (the last good) active.
	w3, e3 := plugin(t, "orion", "3.0.0", manifest.Limits{}, signKey(1))
	f.reg.put(t, e3, w3)
	f.reg.mu.Lock()
	f.reg.fetchErr = errors.New("connection reset")
	f.reg.mu.Unlock()
	require.Error(t, s.Sync(context.Background()))
	_, err = s.Resolve("orion", manifest.Sum(w2))
	require.NoError(t, err, "the last good version stays")
	f.reg.mu.Lock()
	f.reg.fetchErr = nil
	f.reg.mu.Unlock()
	f.reg.remove(manifest.Sum(w3)) // withdrawn before anyone got it

	// Rollback: v2 is deleted on the server and v1 offered again.
	f.reg.remove(manifest.Sum(w2))
	f.reg.put(t, e1, w1)
	require.NoError(t, s.Sync(context.Background()))
	_, err = s.Resolve("orion", manifest.Sum(w1))
	require.ErrorIs(t, err, ErrPluginUnavailable, "an older version is refused")
	_, err = s.Resolve("orion", manifest.Sum(w2))
	require.ErrorIs(t, err, ErrPluginUnavailable, "a deleted version is withdrawn")
	require.NoError(t, db.Close())

	// Restart: the floor is remembered.
	s2, db2 := f.open(t)
	require.NoError(t, s2.Sync(context.Background()))
	_, err = s2.Resolve("orion", manifest.Sum(w1))
	require.ErrorIs(t, err, ErrPluginUnavailable, "the floor survives a restart")

	// A newer version is accepted again.
	w4, e4 := plugin(t, "orion", "2.1.0", manifest.Limits{}, signKey(2))
	f.reg.put(t, e4, w4)
	require.NoError(t, s2.Sync(context.Background()))
	_, err = s2.Resolve("orion", manifest.Sum(w4))
	require.NoError(t, err)
	require.NoError(t, db2.Close())

	// Restart with the central server unreachable: the verified plugin is
	// served from disk without any pull...
	s3, db3 := f.open(t)
	got, err := s3.Resolve("orion", manifest.Sum(w4))
	require.NoError(t, err)
	assert.Equal(t, w4, got)
	// ...and a binary changed on disk is refused.
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, manifest.Sum(w4)+".wasm"), []byte("evil"), 0o644))
	_, err = s3.Resolve("orion", manifest.Sum(w4))
	require.ErrorIs(t, err, manifest.ErrDigestMismatch)
	require.NoError(t, db3.Close())
}

func TestUnsyncedKeysWithdrawOnRestart(t *testing.T) {
	t.Parallel()
	f := newPluginFixture(t)
	w, e := plugin(t, "orion", "1.0.0", manifest.Limits{}, signKey(1))
	f.reg.put(t, e, w)
	s, db := f.open(t)
	require.NoError(t, s.Sync(context.Background()))
	require.NoError(t, db.Close())

	f.trusted = []ed25519.PublicKey{pub(signKey(2))} // key 1 rotated out
	s2, db2 := f.open(t)
	defer db2.Close()
	_, err := s2.Resolve("orion", manifest.Sum(w))
	require.ErrorIs(t, err, ErrPluginUnavailable)
}

// TestTokensRecompileWhenPluginArrives: a token naming a plugin that was
// not there yet is re-applied to the store once the plugin is active, so
// the proxy rebuilds it without a restart.
func TestTokensRecompileWhenPluginArrives(t *testing.T) {
	t.Parallel()
	f := newPluginFixture(t)
	w, e := plugin(t, "orion", "1.0.0", manifest.Limits{}, signKey(1))
	uses := f.c.create(t, `{"rules":[{"type":"wasm","plugin":"orion","sha256":"`+manifest.Sum(w)+`"}]}`)
	other := f.c.create(t, `{"rules":[{"type":"keyword","keywords":["x"]}]}`)

	s, db := f.open(t)
	defer db.Close()
	require.NoError(t, s.Sync(context.Background()))
	var mu sync.Mutex
	var rebuilt []string
	cancel := db.Subscribe(func(ch store.Change) {
		mu.Lock()
		rebuilt = append(rebuilt, ch.Hash)
		mu.Unlock()
	})
	defer cancel()

	rev := db.Revision()
	f.reg.put(t, e, w)
	require.NoError(t, s.Sync(context.Background()))
	mu.Lock()
	assert.Equal(t, []string{uses.Record.Hash}, rebuilt, "only the token naming the plugin is rebuilt")
	mu.Unlock()
	assert.Equal(t, rev, db.Revision(), "a rebuild is not a new revision")
	got, err := db.Get(uses.Record.Hash)
	require.NoError(t, err)
	assert.Equal(t, uses.Record.Revision, got.Revision)
	_, err = db.Get(other.Record.Hash)
	require.NoError(t, err)

	// Withdrawing the plugin rebuilds it again (now failing closed).
	f.reg.remove(manifest.Sum(w))
	require.NoError(t, s.Sync(context.Background()))
	mu.Lock()
	assert.Len(t, rebuilt, 2)
	mu.Unlock()
}

// TestPluginKeepsEarlierVersions: a proxy keeps the last keepVersions
// earlier verified versions of a plugin, across a restart; older ones go.
func TestPluginKeepsEarlierVersions(t *testing.T) {
	t.Parallel()
	f := newPluginFixture(t)
	s, db := f.open(t)
	var sums []string
	for i := 1; i <= keepVersions+2; i++ {
		w, e := plugin(t, "orion", fmt.Sprintf("1.%d.0", i), manifest.Limits{}, signKey(1))
		f.reg.put(t, e, w)
		require.NoError(t, s.Sync(context.Background()))
		sums = append(sums, manifest.Sum(w))
	}
	check := func(s *Syncer) {
		t.Helper()
		for i, sum := range sums {
			_, err := s.Resolve("orion", sum)
			if i >= len(sums)-1-keepVersions {
				assert.NoError(t, err, "version %d", i+1)
			} else {
				assert.ErrorIs(t, err, ErrPluginVersion, "version %d is past the kept ones", i+1)
			}
		}
	}
	check(s)
	_, err := os.Stat(filepath.Join(f.dir, sums[0]+".wasm"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, db.Close())
	s2, db2 := f.open(t)
	check(s2)
	require.NoError(t, db2.Close())
}
