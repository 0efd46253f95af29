package central

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
	"github.com/tokenomics-dev/tokenomics/test/hostile"
)

func TestNewRefusals(t *testing.T) {
	t.Parallel()
	_, err := New(Options{})
	require.ErrorIs(t, err, ErrIncomplete)
	f := newFixture(t)
	_, err = New(Options{DB: f.db, Tokens: tokenapi.NewService(f.db, nil, nil, nil), Registry: f.reg})
	require.ErrorIs(t, err, ErrNoAPIKey, "an empty key is refused unless auth is explicitly off")
	_, err = New(Options{DB: f.db, Tokens: tokenapi.NewService(f.db, nil, nil, nil), Registry: f.reg, NoAuth: true})
	require.NoError(t, err)
}

func TestAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		method string
		path   string
		auth   string
		want   int
	}{
		{name: "health needs no key", method: "GET", path: "/health", want: 200},
		{name: "ready needs no key", method: "GET", path: "/ready", want: 200},
		{name: "tokens without key", method: "GET", path: "/api/v1/tokens", want: 401},
		{name: "tokens wrong key", method: "GET", path: "/api/v1/tokens", auth: "Bearer nope", want: 401},
		{name: "tokens right key", method: "GET", path: "/api/v1/tokens", auth: "Bearer " + testAPIKey, want: 200},
		{name: "plugins without key", method: "GET", path: "/api/v1/plugins", want: 401},
		{name: "plugin binary without key", method: "GET", path: "/api/v1/plugins/" + strings.Repeat("a", 64), want: 401},
		{name: "plugins wrong scheme", method: "GET", path: "/api/v1/plugins", auth: "Basic " + testAPIKey, want: 401},
		{name: "plugins right key", method: "GET", path: "/api/v1/plugins", auth: "Bearer " + testAPIKey, want: 200},
		{name: "unknown path", method: "GET", path: "/nope", want: 404},
		{name: "plugins wrong method", method: "PUT", path: "/api/v1/plugins", auth: "Bearer " + testAPIKey, want: 405},
		{name: "plugin bad sha", method: "GET", path: "/api/v1/plugins/xyz", auth: "Bearer " + testAPIKey, want: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, f.url+tc.path, nil)
			require.NoError(t, err)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.want, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			if tc.want >= 400 {
				var eb manifest.ErrorBody
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&eb))
				assert.NotEmpty(t, eb.Error.Code)
				assert.NotEmpty(t, eb.Error.Type)
			}
		})
	}
}

func TestTokenChangesArePushed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := tokenapi.NewClient(f.url, testAPIKey, nil)
	ctx := context.Background()
	created, err := c.Create(ctx, tokenapi.CreateRequest{Policy: json.RawMessage(`{"max_tokens":10}`)})
	require.NoError(t, err)
	_, err = c.Update(ctx, created.Record.Hash[:12], tokenapi.UpdateRequest{Policy: json.RawMessage(`{"max_tokens":20}`), Replace: true})
	require.NoError(t, err)
	_, err = c.Delete(ctx, created.Record.Hash[:12])
	require.NoError(t, err)

	evs := f.events.all()
	require.Len(t, evs, 3)
	for i, want := range []string{events.TokenCreated, events.TokenUpdated, events.TokenDeleted} {
		assert.Equal(t, want, evs[i].Type)
		assert.Equal(t, events.SourceCentral, evs[i].Source)
		assert.Equal(t, uint64(i+1), evs[i].Revision, "event %d names the revision of its change", i)
		var data events.TokenData
		require.NoError(t, json.Unmarshal(evs[i].Data, &data))
		assert.Equal(t, created.Record.Hash[:8], data.TokenHashPrefix)
		assert.NotContains(t, string(evs[i].Data), created.Token)
	}

	// The change feed a proxy pulls after the push.
	ch, err := c.Changes(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), ch.Revision)
	require.Len(t, ch.Changes, 1)
	assert.True(t, ch.Changes[0].Deleted)
}

func TestPluginLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := manifest.NewClient(f.url, testAPIKey, nil)
	ctx := context.Background()
	wasm, env := signed(t, "orion", "1.0.0", "v1", key(1))

	entry, err := c.Upload(ctx, env, wasm)
	require.NoError(t, err)
	assert.Equal(t, "orion", entry.Name)
	assert.Equal(t, uint64(1), entry.Revision)
	assert.Equal(t, []string{manifest.KeyID(key(1).Public().(ed25519.PublicKey))}, entry.Signers)

	assert.False(t, entry.Existing)
	again, err := c.Upload(ctx, env, wasm)
	require.NoError(t, err, "uploading the same binary again is a no-op")
	assert.Equal(t, entry.Revision, again.Revision)
	assert.True(t, again.Existing, "the answer says the registry already held it")

	listing, err := c.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), listing.Revision)
	require.Len(t, listing.Plugins, 1)
	m, err := manifest.VerifySelfSigned(listing.Plugins[0].Manifest)
	require.NoError(t, err, "the envelope survives storage and re-encoding")
	assert.Equal(t, manifest.Sum(wasm), m.SHA256)

	unchanged, err := c.Changes(ctx, 1)
	require.NoError(t, err)
	assert.True(t, unchanged.Unchanged)
	assert.Empty(t, unchanged.Plugins)

	got, err := c.Fetch(ctx, entry.SHA256)
	require.NoError(t, err)
	assert.Equal(t, wasm, got)

	wasm2, env2 := signed(t, "orion", "1.1.0", "v2", key(1))
	e2, err := c.Upload(ctx, env2, wasm2)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), e2.Revision)

	deleted, err := c.Delete(ctx, entry.SHA256)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), deleted.Revision)
	_, err = c.Fetch(ctx, entry.SHA256)
	var api *manifest.APIError
	require.True(t, errors.As(err, &api))
	assert.Equal(t, http.StatusNotFound, api.Status)

	evs := f.events.all()
	require.Len(t, evs, 3, "one event per change, none for the repeated upload")
	assert.Equal(t, events.PluginUploaded, evs[0].Type)
	assert.Equal(t, uint64(1), evs[0].Revision)
	assert.Equal(t, events.PluginUploaded, evs[1].Type)
	assert.Equal(t, events.PluginDeleted, evs[2].Type)
	assert.Equal(t, uint64(3), evs[2].Revision)
}

func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	trustedKey := key(9)
	f := newFixture(t)
	strict := newFixture(t, trustedKey.Public().(ed25519.PublicKey))
	ctx := context.Background()

	base, baseEnv := signed(t, "guard", "2.0.0", "base", key(1))
	_, err := manifest.NewClient(f.url, testAPIKey, nil).Upload(ctx, baseEnv, base)
	require.NoError(t, err)

	older, olderEnv := signed(t, "guard", "1.9.0", "older", key(1))
	reused, reusedEnv := signed(t, "guard", "2.0.0", "other bytes", key(1))
	other, otherEnv := signed(t, "other", "1.0.0", "x", key(2))
	var env manifest.Envelope
	require.NoError(t, json.Unmarshal(otherEnv, &env))
	env.Signatures = nil
	unsigned, err := json.Marshal(env)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(otherEnv, &env))
	env.Signatures[0].Sig[0] ^= 1
	badSig, err := json.Marshal(env)
	require.NoError(t, err)
	tampered := append([]byte(nil), other...)
	tampered[len(tampered)-1] ^= 0xff

	tests := []struct {
		name     string
		url      string
		env, bin []byte
		status   int
		code     string
		is       error
	}{
		{name: "older version", url: f.url, env: olderEnv, bin: older, status: 409, code: manifest.CodeRollback, is: manifest.ErrRollback},
		{name: "version reused", url: f.url, env: reusedEnv, bin: reused, status: 409, code: manifest.CodeReused, is: manifest.ErrVersionReused},
		{name: "unsigned", url: f.url, env: unsigned, bin: other, status: 400, code: manifest.CodeUnsigned, is: manifest.ErrUnsigned},
		{name: "bad signature", url: f.url, env: badSig, bin: other, status: 400, code: manifest.CodeSignature, is: manifest.ErrBadSignature},
		{name: "tampered binary", url: f.url, env: otherEnv, bin: tampered, status: 400, code: manifest.CodeDigest, is: manifest.ErrDigestMismatch},
		{name: "not json manifest", url: f.url, env: []byte(`"x"`), bin: other, status: 400, code: manifest.CodeInvalid, is: manifest.ErrMalformed},
		{name: "untrusted on a strict central", url: strict.url, env: otherEnv, bin: other, status: 403, code: manifest.CodeUntrusted, is: manifest.ErrUntrustedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := manifest.NewClient(tc.url, testAPIKey, nil).Upload(ctx, tc.env, tc.bin)
			var api *manifest.APIError
			require.True(t, errors.As(err, &api), "%v", err)
			assert.Equal(t, tc.status, api.Status)
			assert.Equal(t, tc.code, api.Code)
			assert.ErrorIs(t, err, tc.is)
		})
	}

	good, goodEnv := signed(t, "other", "1.0.0", "x", trustedKey)
	_, err = manifest.NewClient(strict.url, testAPIKey, nil).Upload(ctx, goodEnv, good)
	require.NoError(t, err, "a strict central accepts its trusted key")
	listing, err := manifest.NewClient(f.url, testAPIKey, nil).List(ctx)
	require.NoError(t, err)
	assert.Len(t, listing.Plugins, 1, "no refused upload was stored")
}

func TestUploadBodyErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name string
		body string
		want int
	}{
		{name: "empty", body: "", want: 400},
		{name: "unknown field", body: `{"manifest":{},"wasm":"AA==","extra":1}`, want: 400},
		{name: "missing wasm", body: `{"manifest":{"a":1}}`, want: 400},
		{name: "trailing data", body: `{"manifest":{},"wasm":"AA=="} {}`, want: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest("POST", f.url+"/api/v1/plugins", strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+testAPIKey)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			resp, err := http.DefaultClient.Do(req.WithContext(ctx))
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.want, resp.StatusCode)
		})
	}
}

func TestOneBinaryManyNames(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := manifest.NewClient(f.url, testAPIKey, nil)
	ctx := context.Background()
	wasm, envA := signed(t, "alpha", "1.0.0", "shared", key(1))
	_, envB := signed(t, "beta", "1.0.0", "shared", key(2))

	_, err := c.Upload(ctx, envA, wasm)
	require.NoError(t, err)
	b, err := c.Upload(ctx, envB, wasm)
	require.NoError(t, err, "the same bytes under another name are another entry")
	assert.Equal(t, uint64(2), b.Revision)

	// The same binary re-released as a newer version replaces its entry;
	// an older version is a rollback.
	_, envA2 := signed(t, "alpha", "1.0.1", "shared", key(1))
	a2, err := c.Upload(ctx, envA2, wasm)
	require.NoError(t, err)
	assert.Equal(t, "1.0.1", a2.Version)
	_, envA0 := signed(t, "alpha", "0.9.0", "shared", key(1))
	_, err = c.Upload(ctx, envA0, wasm)
	require.ErrorIs(t, err, manifest.ErrRollback)

	listing, err := c.List(ctx)
	require.NoError(t, err)
	require.Len(t, listing.Plugins, 2)
	assert.Equal(t, "alpha", listing.Plugins[0].Name)
	assert.Equal(t, "1.0.1", listing.Plugins[0].Version)
	assert.Equal(t, "beta", listing.Plugins[1].Name)

	_, err = c.Delete(ctx, manifest.Sum(wasm))
	require.NoError(t, err)
	listing, err = c.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, listing.Plugins, "deleting a binary removes every name it was signed under")
	assert.Equal(t, uint64(4), listing.Revision)
}

// TestUploadRunsTheModuleCheck: the central server refuses, at upload, a
// signed module that no proxy could load.
func TestUploadRunsTheModuleCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := manifest.NewClient(f.url, testAPIKey, nil)
	for _, hc := range hostile.Cases() {
		switch hc.Name {
		case "unknown_host_import", "foreign_import", "wrong_abi", "bad_signature":
		default:
			continue
		}
		env, err := manifest.Sign(manifest.Manifest{Schema: 1, Name: hc.Name, Version: "1.0.0", ABI: 1,
			SHA256: manifest.Sum(hc.Wasm), Size: int64(len(hc.Wasm)), SignedAt: time.Now().UTC()}, key(1))
		require.NoError(t, err)
		_, err = c.Upload(context.Background(), env, hc.Wasm)
		var api *manifest.APIError
		require.ErrorAs(t, err, &api, hc.Name)
		assert.Equal(t, 400, api.Status, hc.Name)
		assert.Contains(t, api.Error(), "no proxy could load", hc.Name)
	}
	listing, err := c.List(context.Background())
	require.NoError(t, err)
	assert.Empty(t, listing.Plugins)
}
