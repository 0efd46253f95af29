package syncer

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

// TestResolveSemverRange: a rule naming plugin@range resolves to the newest
// held version (active or kept) in the range; sha256 pins keep working.
func TestResolveSemverRange(t *testing.T) {
	t.Parallel()
	f := newPluginFixture(t)
	s, db := f.open(t)
	defer db.Close()
	sums := map[string]string{}
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0", "2.0.0"} {
		w, e := plugin(t, "orion", v, manifest.Limits{}, signKey(1))
		f.reg.put(t, e, w)
		require.NoError(t, s.Sync(context.Background()))
		sums[v] = manifest.Sum(w)
	}
	tests := []struct {
		name, plugin, sha string
		want              string // version; "" for an error
		err               error
	}{
		{name: "caret 1 follows the newest 1.x", plugin: "orion@^1", want: "1.2.0"},
		{name: "caret 2 is the active version", plugin: "orion@^2", want: "2.0.0"},
		{name: "tilde", plugin: "orion@~1.1", want: "1.1.0"},
		{name: "exact", plugin: "orion@1.0.0", want: "1.0.0"},
		{name: "range", plugin: "orion@>=1.1, <2", want: "1.2.0"},
		{name: "nothing held in range", plugin: "orion@^3", err: ErrPluginVersion},
		{name: "not a range", plugin: "orion@banana", err: ErrPluginVersion},
		{name: "unknown plugin", plugin: "vega@^1", err: ErrPluginUnavailable},
		{name: "sha256 pin of a kept version", plugin: "orion", sha: sums["1.1.0"], want: "1.1.0"},
		{name: "sha256 pin of the active version", plugin: "orion", sha: sums["2.0.0"], want: "2.0.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := s.Resolve(tc.plugin, tc.sha)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, sums[tc.want], manifest.Sum(b))
		})
	}
}

// TestRangeTokensFollowNewVersions: a token pinned to a range is rebuilt
// when a new version in it arrives, and then resolves to that version.
func TestRangeTokensFollowNewVersions(t *testing.T) {
	t.Parallel()
	f := newPluginFixture(t)
	w1, e1 := plugin(t, "orion", "1.0.0", manifest.Limits{}, signKey(1))
	f.reg.put(t, e1, w1)
	uses := f.c.create(t, `{"rules":[{"type":"wasm","plugin":"orion@^1"}]}`)
	s, db := f.open(t)
	defer db.Close()
	require.NoError(t, s.Sync(context.Background()))
	b, err := s.Resolve("orion@^1", "")
	require.NoError(t, err)
	assert.Equal(t, manifest.Sum(w1), manifest.Sum(b))

	var mu sync.Mutex
	var rebuilt []string
	cancel := db.Subscribe(func(ch store.Change) {
		mu.Lock()
		rebuilt = append(rebuilt, ch.Hash)
		mu.Unlock()
	})
	defer cancel()
	w2, e2 := plugin(t, "orion", "1.1.0", manifest.Limits{}, signKey(1))
	f.reg.put(t, e2, w2)
	require.NoError(t, s.Sync(context.Background()))
	mu.Lock()
	assert.Equal(t, []string{uses.Record.Hash}, rebuilt)
	mu.Unlock()
	b, err = s.Resolve("orion@^1", "")
	require.NoError(t, err)
	assert.Equal(t, manifest.Sum(w2), manifest.Sum(b), "the range follows the newest trusted version")
}
