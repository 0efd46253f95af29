package central

import (
	"crypto/ed25519"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
	"github.com/tokenomics-dev/tokenomics/test/hostile"
)

const testAPIKey = "central-test-api-key"

// recorder is a Noticer that keeps what was committed.
type recorder struct {
	mu  sync.Mutex
	evs []events.Event
}

func (r *recorder) NoteTx(tx *bbolt.Tx, ev events.Event) error {
	tx.OnCommit(func() { _ = r.Note(ev) })
	return nil
}

func (r *recorder) Note(ev events.Event) error {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	return nil
}

func (r *recorder) Wants(typ string) bool {
	return events.Match([]string{"token.*", "plugin.*"}, typ)
}

func (r *recorder) all() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.evs...)
}

type fixture struct {
	db     *store.DB
	reg    *Registry
	events *recorder
	url    string
}

// newFixture runs a central server on httptest with a fresh database.
func newFixture(t *testing.T, trusted ...ed25519.PublicKey) *fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "central.db"), store.Options{HashKey: []byte("0123456789abcdef-central-test")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	reg, err := OpenRegistry(db.Bolt(), trusted, nil)
	require.NoError(t, err)
	rec := &recorder{}
	srv, err := New(Options{DB: db, Tokens: tokenapi.NewService(db, nil, nil, nil), Registry: reg, APIKey: testAPIKey, Notices: rec})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &fixture{db: db, reg: reg, events: rec, url: hs.URL}
}

func key(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s)
}

// signed returns a binary and its envelope for name@version.
func signed(t *testing.T, name, version, body string, k ed25519.PrivateKey) (wasm, env []byte) {
	t.Helper()
	wasm = hostile.AllowTagged(body) // a valid module: upload runs the host's module check
	env, err := manifest.Sign(manifest.Manifest{Schema: 1, Name: name, Version: version, ABI: 1,
		SHA256: manifest.Sum(wasm), Size: int64(len(wasm)), SignedAt: time.Now().UTC()}, k)
	require.NoError(t, err)
	return wasm, env
}
