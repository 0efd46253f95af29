package syncer

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

var testHashKey = []byte("0123456789abcdef-syncer-test-key")

func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "tokens.db")
	}
	db, err := store.Open(path, store.Options{HashKey: testHashKey})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// central is a token API over a real store, served by tokenapi.NewHandler.
type central struct {
	db     *store.DB
	svc    *tokenapi.Service
	client *tokenapi.Client
	srv    *httptest.Server
}

const centralKey = "syncer-test-central-key"

func newCentral(t *testing.T) *central {
	t.Helper()
	db := openStore(t, "")
	svc := tokenapi.NewService(db, nil, nil, nil)
	srv := httptest.NewServer(tokenapi.NewHandler(svc, tokenapi.BearerAuth(centralKey), nil))
	t.Cleanup(srv.Close)
	return &central{db: db, svc: svc, srv: srv, client: tokenapi.NewClient(srv.URL, centralKey, nil)}
}

func (c *central) create(t *testing.T, policy string) tokenapi.Created {
	t.Helper()
	out, err := c.svc.Create(context.Background(), tokenapi.CreateRequest{Policy: json.RawMessage(policy)})
	require.NoError(t, err)
	return out
}

func (c *central) delete(t *testing.T, hash string) {
	t.Helper()
	_, err := c.svc.Delete(context.Background(), hash)
	require.NoError(t, err)
}

// feed wraps a TokenFeed: it counts calls, can fail, and can hold a call
// after its answer was computed (to test pulls that race pushes).
type feed struct {
	inner TokenFeed
	calls atomic.Int64
	down  atomic.Bool
	mu    sync.Mutex
	hold  map[int64]chan struct{} // call number → released when closed
}

func (f *feed) Changes(ctx context.Context, since uint64) (tokenapi.ChangesResponse, error) {
	n := f.calls.Add(1)
	if f.down.Load() {
		return tokenapi.ChangesResponse{}, &tokenapi.UnreachableError{Name: "central server", URL: "test", Err: context.DeadlineExceeded}
	}
	resp, err := f.inner.Changes(ctx, since)
	f.mu.Lock()
	gate := f.hold[n]
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return resp, err
}

func (f *feed) holdCall(n int64) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hold == nil {
		f.hold = map[int64]chan struct{}{}
	}
	ch := make(chan struct{})
	f.hold[n] = ch
	return ch
}

// registry is an in-memory PluginFeed.
type registry struct {
	mu       sync.Mutex
	rev      uint64
	entries  map[string]manifest.Entry
	blobs    map[string][]byte
	fetches  int
	fetchErr error
}

func newRegistry() *registry {
	return &registry{entries: map[string]manifest.Entry{}, blobs: map[string][]byte{}}
}

func (r *registry) Changes(_ context.Context, since uint64) (manifest.Listing, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if since == r.rev && since != 0 {
		return manifest.Listing{Revision: r.rev, Unchanged: true}, nil
	}
	out := manifest.Listing{Revision: r.rev}
	for _, e := range r.entries {
		out.Plugins = append(out.Plugins, e)
	}
	return out, nil
}

func (r *registry) Fetch(_ context.Context, sha string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fetches++
	if r.fetchErr != nil {
		return nil, r.fetchErr
	}
	b, ok := r.blobs[sha]
	if !ok {
		return nil, &manifest.APIError{Status: 404, Code: manifest.CodeNotFound}
	}
	return append([]byte(nil), b...), nil
}

// put offers envelope; served is what Fetch returns for its sha256 (the
// real binary, or tampered bytes).
func (r *registry) put(t *testing.T, envelope, served []byte) {
	t.Helper()
	m, err := manifest.Peek(envelope)
	require.NoError(t, err)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rev++
	r.entries[m.SHA256] = manifest.Entry{Name: m.Name, Version: m.Version, SHA256: m.SHA256, Size: m.Size, Revision: r.rev, Manifest: envelope}
	r.blobs[m.SHA256] = served
}

func (r *registry) remove(sha string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rev++
	delete(r.entries, sha)
	delete(r.blobs, sha)
}

func signKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s)
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// plugin builds a binary and its envelope signed by keys.
func plugin(t *testing.T, name, version string, limits manifest.Limits, keys ...ed25519.PrivateKey) (wasm, env []byte) {
	t.Helper()
	wasm = []byte("\x00asm " + name + " " + version)
	m := manifest.Manifest{Schema: 1, Name: name, Version: version, ABI: 1, SHA256: manifest.Sum(wasm),
		Size: int64(len(wasm)), Limits: limits, SignedAt: time.Now().UTC()}
	if len(keys) == 0 {
		payload, err := json.Marshal(m)
		require.NoError(t, err)
		env, err = json.Marshal(manifest.Envelope{PayloadType: manifest.PayloadType, Payload: payload})
		require.NoError(t, err)
		return wasm, env
	}
	env, err := manifest.Sign(m, keys...)
	require.NoError(t, err)
	return wasm, env
}
