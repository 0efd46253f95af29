package syncer

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

// poster records reports; with block set, Post waits for its context.
type poster struct {
	block   bool
	reports chan fleet.Report
}

func (p *poster) Post(ctx context.Context, r fleet.Report) error {
	if p.block {
		<-ctx.Done()
		return ctx.Err()
	}
	p.reports <- r
	return nil
}

func (p *poster) next(t *testing.T, ok func(fleet.Report) bool) fleet.Report {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case r := <-p.reports:
			if ok(r) {
				return r
			}
		case <-deadline:
			t.Fatal("no matching fleet report")
		}
	}
}

// TestFleetReports: a report at start, one after each sync with the
// applied revision, the plugin versions held and the tokens using each
// (sha256 pins and ranges alike), and the host's load state.
func TestFleetReports(t *testing.T) {
	t.Parallel()
	f := newPluginFixture(t)
	w1, e1 := plugin(t, "orion", "1.0.0", manifest.Limits{}, signKey(1))
	f.reg.put(t, e1, w1)
	sha1 := manifest.Sum(w1)
	f.c.create(t, `{"rules":[{"type":"wasm","plugin":"orion","sha256":"`+sha1+`"}]}`)
	f.c.create(t, `{"rules":[{"type":"wasm","plugin":"orion@^1"}]}`)
	f.c.create(t, `{"rules":[{"type":"keyword","keywords":["x"]}]}`)

	db, err := store.Open(f.dbPath, store.Options{HashKey: testHashKey})
	require.NoError(t, err)
	defer db.Close()
	p := &poster{reports: make(chan fleet.Report, 64)}
	var mu sync.Mutex
	failed := map[string]string{}
	s := newSyncer(t, Options{Store: db, Tokens: f.c.client, Plugins: f.reg, TrustedKeys: f.trusted, PluginDir: f.dir,
		Fleet: &FleetOptions{Poster: p, Instance: "px1", Name: "edge", Version: "v9", Interval: time.Hour,
			Load: func(sha string) (bool, bool, string) {
				mu.Lock()
				defer mu.Unlock()
				if c, ok := failed[sha]; ok {
					return true, false, c
				}
				return true, true, ""
			}}})
	s.Start(10 * time.Second)
	r := p.next(t, func(r fleet.Report) bool { return r.Revision == f.c.db.Revision() })
	assert.Equal(t, "px1", r.Instance)
	assert.Equal(t, "edge", r.Name)
	assert.Equal(t, "v9", r.Version)
	assert.True(t, r.Ready)
	assert.Equal(t, []fleet.Plugin{{Name: "orion", Version: "1.0.0", SHA256: sha1, Tokens: 2, State: fleet.StateActive}}, r.Plugins)

	// 1.1.0 arrives: the range follows it, the sha256 pin keeps 1.0.0.
	w2, e2 := plugin(t, "orion", "1.1.0", manifest.Limits{}, signKey(1))
	sha2 := manifest.Sum(w2)
	mu.Lock()
	failed[sha2] = "start function exceeded 1s"
	mu.Unlock()
	f.reg.put(t, e2, w2)
	require.NoError(t, s.Sync(context.Background()))
	r = p.next(t, func(r fleet.Report) bool { return len(r.Plugins) == 2 })
	assert.Equal(t, []fleet.Plugin{
		{Name: "orion", Version: "1.0.0", SHA256: sha1, Tokens: 1, State: fleet.StateActive},
		{Name: "orion", Version: "1.1.0", SHA256: sha2, Tokens: 1, State: fleet.StateFailed, Error: "start function exceeded 1s"},
	}, sortBySHA(r.Plugins, sha1))
}

// sortBySHA puts the plugin with sha first (reports sort by name, then sha256).
func sortBySHA(ps []fleet.Plugin, sha string) []fleet.Plugin {
	if len(ps) == 2 && ps[1].SHA256 == sha {
		ps[0], ps[1] = ps[1], ps[0]
	}
	return ps
}

// TestFleetReportsNeverBlockSync: a central server that never answers a
// report delays neither pulls nor Close.
func TestFleetReportsNeverBlockSync(t *testing.T) {
	t.Parallel()
	c := newCentral(t)
	c.create(t, `{"max_tokens":1}`)
	db := openStore(t, "")
	s, err := New(Options{Store: db, Tokens: c.client, Fleet: &FleetOptions{Poster: &poster{block: true}, Instance: "px"}})
	require.NoError(t, err)
	s.Start(10 * time.Second)
	for range 5 {
		require.NoError(t, s.Sync(context.Background()))
	}
	assert.Equal(t, c.db.Revision(), db.Revision())
	require.NoError(t, s.Close(context.Background()))
}
